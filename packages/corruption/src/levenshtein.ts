// Levenshtein distance on token arrays (unit costs for substitution, insertion, deletion).
// levenshtein(): common prefix/suffix trimmed, then Myers' bit-vector algorithm in Hyyrö's formulation
// (32-bit words, Int32 arithmetic; the shorter sequence is the pattern). Patterns longer than 32 tokens
// are processed one 32-row word at a time across the whole text, carrying the horizontal delta of the
// word's last row per text position into the next word (the block-column order fastest-levenshtein uses).
// The pattern's match vectors are indexed by token: directly in a 65536-entry table when every id is in
// [0, 65536), otherwise through a Map from token id to a dense index (ids can be large).
// levenshteinReference(): the plain O(nm) dynamic programme, the parity reference for tests.

const DIRECT = 65536;
const peqDirect = new Int32Array(DIRECT);
let hpBuf = new Uint8Array(1024);
let hmBuf = new Uint8Array(1024);

function direct(a: ArrayLike<number>, lo: number, hi: number): boolean {
  for (let i = lo; i < hi; i++) {
    const v = a[i];
    if (!(v >= 0 && v < DIRECT)) return false;
  }
  return true;
}

/** Edit distance of p[ps..ps+n) (pattern, 1 <= n) against t[ts..ts+m), peq zero on entry and exit. */
function myers(
  p: ArrayLike<number>,
  ps: number,
  n: number,
  t: ArrayLike<number>,
  ts: number,
  m: number,
  peq: Int32Array,
): number {
  if (n <= 32) {
    for (let i = 0; i < n; i++) peq[p[ps + i]] |= 1 << i;
    const last = 1 << (n - 1);
    let pv = -1;
    let mv = 0;
    let sc = n;
    for (let j = 0; j < m; j++) {
      const eq = peq[t[ts + j]];
      const xv = eq | mv;
      const xh = (((eq & pv) + pv) ^ pv) | eq;
      let ph = mv | ~(xh | pv);
      let mh = pv & xh;
      if (ph & last) sc++;
      else if (mh & last) sc--;
      ph = (ph << 1) | 1;
      mh <<= 1;
      pv = mh | ~(xv | ph);
      mv = ph & xv;
    }
    for (let i = 0; i < n; i++) peq[p[ps + i]] = 0;
    return sc;
  }
  if (hpBuf.length < m) {
    hpBuf = new Uint8Array(m * 2);
    hmBuf = new Uint8Array(m * 2);
  }
  const hp = hpBuf;
  const hm = hmBuf;
  hp.fill(1, 0, m); // row 0 of the DP is 0, 1, 2, ...: every horizontal delta is +1
  hm.fill(0, 0, m);
  for (let w = 0; w < n; w += 32) {
    const bits = Math.min(32, n - w);
    for (let i = 0; i < bits; i++) peq[p[ps + w + i]] |= 1 << i;
    const lastShift = bits - 1;
    let pv = -1;
    let mv = 0;
    for (let j = 0; j < m; j++) {
      const hin = hm[j];
      const eq = peq[t[ts + j]];
      const xv = eq | mv;
      const eqh = eq | hin; // an incoming −1 horizontal delta acts as a match on the word's first row
      const xh = (((eqh & pv) + pv) ^ pv) | eqh;
      let ph = mv | ~(xh | pv);
      let mh = pv & xh;
      const hpOut = (ph >>> lastShift) & 1;
      const hmOut = (mh >>> lastShift) & 1;
      ph = (ph << 1) | hp[j];
      mh = (mh << 1) | hin;
      pv = mh | ~(xv | ph);
      mv = ph & xv;
      hp[j] = hpOut;
      hm[j] = hmOut;
    }
    for (let i = 0; i < bits; i++) peq[p[ps + w + i]] = 0;
  }
  let sc = n;
  for (let j = 0; j < m; j++) sc += hp[j] - hm[j];
  return sc;
}

/** Unit-cost edit distance between two token sequences. */
export function levenshtein(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let aLo = 0;
  let bLo = 0;
  let aHi = a.length;
  let bHi = b.length;
  while (aLo < aHi && bLo < bHi && a[aLo] === b[bLo]) {
    aLo++;
    bLo++;
  }
  while (aHi > aLo && bHi > bLo && a[aHi - 1] === b[bHi - 1]) {
    aHi--;
    bHi--;
  }
  let n = aHi - aLo;
  let m = bHi - bLo;
  if (n === 0) return m;
  if (m === 0) return n;
  let p = a;
  let t = b;
  let ps = aLo;
  let ts = bLo;
  if (n > m) {
    p = b;
    t = a;
    ps = bLo;
    ts = aLo;
    const s = n;
    n = m;
    m = s;
  }
  if (direct(p, ps, ps + n) && direct(t, ts, ts + m)) return myers(p, ps, n, t, ts, m, peqDirect);
  // Large ids: map the pattern's tokens to dense indices 1..D; text tokens absent from the pattern map to 0,
  // whose match vector stays 0.
  const dense = new Map<number, number>();
  const pk = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = p[ps + i];
    let d = dense.get(v);
    if (d === undefined) {
      d = dense.size + 1;
      dense.set(v, d);
    }
    pk[i] = d;
  }
  const tk = new Int32Array(m);
  for (let j = 0; j < m; j++) tk[j] = dense.get(t[ts + j]) ?? 0;
  return myers(pk, 0, n, tk, 0, m, new Int32Array(dense.size + 1));
}

/** Plain O(nm) dynamic programme with two rows (the reference for tests). */
export function levenshteinReference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const m = b.length;
  let prev = new Int32Array(m + 1);
  let cur = new Int32Array(m + 1);
  for (let j = 0; j <= m; j++) prev[j] = j;
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    const ai = a[i - 1];
    for (let j = 1; j <= m; j++) {
      let v = prev[j - 1] + (ai === b[j - 1] ? 0 : 1);
      if (prev[j] + 1 < v) v = prev[j] + 1;
      if (cur[j - 1] + 1 < v) v = cur[j - 1] + 1;
      cur[j] = v;
    }
    const s = prev;
    prev = cur;
    cur = s;
  }
  return prev[m];
}
