// Float64 reference of the decode kernel's row statistics (sd_decode_rows): mask/ban to −inf,
// temperature, top-k, top-p (smallest prefix of the sorted distribution reaching p), then the
// argmax or an inverse-CDF sample over ids in order, its probability, the entropy and the margin.
export function decodeRowsReference(
  logits: ArrayLike<number>,
  N: number,
  V: number,
  p: { maskId: number; banId: number; temperature: number; topK: number; topP: number },
  uniforms: ArrayLike<number> | null,
) {
  const tok: number[] = [];
  const prob: number[] = [];
  const entropy: number[] = [];
  const margin: number[] = [];
  const T = p.temperature > 0 ? p.temperature : 1;
  for (let r = 0; r < N; r++) {
    const z = Array.from({ length: V }, (_, j) =>
      j === p.maskId || j === p.banId ? -Infinity : logits[r * V + j] / T,
    );
    if (p.topK > 0) {
      const kth = [...z].sort((a, b) => b - a)[p.topK - 1];
      for (let j = 0; j < V; j++) if (z[j] < kth) z[j] = -Infinity;
    }
    const m = Math.max(...z);
    const e = z.map((x) => Math.exp(x - m));
    if (p.topP < 1) {
      const total = e.reduce((a, b) => a + b, 0);
      const order = e.map((_, j) => j).sort((a, b) => e[b] - e[a] || a - b);
      let cum = 0;
      let keep = order.length;
      for (let i = 0; i < order.length; i++) {
        cum += e[order[i]];
        if (cum >= p.topP * total) {
          keep = i + 1;
          break;
        }
      }
      for (let i = keep; i < order.length; i++) e[order[i]] = 0;
    }
    const total = e.reduce((a, b) => a + b, 0);
    const pr = e.map((x) => x / total);
    let best = 0;
    for (let j = 1; j < V; j++) if (pr[j] > pr[best]) best = j;
    let t = best;
    if (uniforms) {
      let cum = 0;
      for (let j = 0; j < V; j++) {
        if (pr[j] <= 0) continue;
        t = j;
        cum += pr[j];
        if (cum > uniforms[r]) break;
      }
    }
    tok.push(t);
    prob.push(pr[t]);
    entropy.push(-pr.reduce((a, x) => (x > 0 ? a + x * Math.log(x) : a), 0));
    const second = Math.max(...pr.filter((_, j) => j !== best));
    margin.push(pr[best] - second);
  }
  return { tok, prob, entropy, margin };
}
