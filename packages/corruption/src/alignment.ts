import { levenshtein } from './levenshtein';

// An optimal edit script from a to b. Memory is bounded by the distance: after trimming the common
// prefix and suffix (emitted as 'keep'), the distance d of the middle is computed with the bit-parallel
// algorithm, and the DP runs only inside the diagonal band |i − j| <= d (no path of cost d leaves it,
// since reaching cell (i, j) costs at least |i − j|), storing one direction byte per band cell:
// O((n+1)·(2d+1)) bytes instead of O(nm). Ties prefer keep/substitute, then delete, then insert.

export type EditOpKind = 'keep' | 'sub' | 'ins' | 'del';

/** One step of the script; i indexes a, j indexes b at the point the step is taken. */
export interface EditOp {
  op: EditOpKind;
  i: number;
  j: number;
  /** The token written: b[j] for keep, sub and ins; a[i] (the removed token) for del. */
  token: number;
}

const DIAG = 0;
const UP = 1; // delete a[i−1]
const LEFT = 2; // insert b[j−1]

export function alignment(a: ArrayLike<number>, b: ArrayLike<number>): EditOp[] {
  let lo = 0;
  while (lo < a.length && lo < b.length && a[lo] === b[lo]) lo++;
  let aHi = a.length;
  let bHi = b.length;
  while (aHi > lo && bHi > lo && a[aHi - 1] === b[bHi - 1]) {
    aHi--;
    bHi--;
  }
  const ops: EditOp[] = [];
  for (let i = 0; i < lo; i++) ops.push({ op: 'keep', i, j: i, token: b[i] });
  const n = aHi - lo;
  const m = bHi - lo;
  const A = Array.prototype.slice.call(a, lo, aHi) as number[];
  const B = Array.prototype.slice.call(b, lo, bHi) as number[];
  const d = levenshtein(A, B);
  const W = 2 * d + 1; // band offset k = j − i + d in [0, 2d]
  const dir = new Uint8Array((n + 1) * W);
  const INF = 0x3fffffff;
  let prev = new Int32Array(W + 2).fill(INF); // index k+1, with sentinels at 0 and W+1
  let cur = new Int32Array(W + 2).fill(INF);
  for (let j = 0; j <= Math.min(m, d); j++) {
    prev[j + d + 1] = j;
    dir[j + d] = LEFT;
  }
  for (let i = 1; i <= n; i++) {
    cur.fill(INF);
    const jLo = Math.max(0, i - d);
    const jHi = Math.min(m, i + d);
    for (let j = jLo; j <= jHi; j++) {
      const k = j - i + d;
      let best: number;
      let how: number;
      if (j === 0) {
        best = prev[k + 2] + 1; // up: (i−1, 0) sits at band index k+1
        how = UP;
      } else {
        best = prev[k + 1] + (A[i - 1] === B[j - 1] ? 0 : 1); // diag (i−1, j−1): same k
        how = DIAG;
        const up = prev[k + 2] + 1; // (i−1, j): k+1
        if (up < best) {
          best = up;
          how = UP;
        }
        const left = cur[k] + 1; // (i, j−1): k−1
        if (left < best) {
          best = left;
          how = LEFT;
        }
      }
      cur[k + 1] = best;
      dir[i * W + k] = how;
    }
    const s = prev;
    prev = cur;
    cur = s;
  }
  // Traceback from (n, m).
  const mid: EditOp[] = [];
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    const how = dir[i * W + (j - i + d)];
    if (i > 0 && j > 0 && how === DIAG) {
      mid.push({ op: A[i - 1] === B[j - 1] ? 'keep' : 'sub', i: lo + i - 1, j: lo + j - 1, token: B[j - 1] });
      i--;
      j--;
    } else if (i > 0 && (how === UP || j === 0)) {
      mid.push({ op: 'del', i: lo + i - 1, j: lo + j, token: A[i - 1] });
      i--;
    } else {
      mid.push({ op: 'ins', i: lo + i, j: lo + j - 1, token: B[j - 1] });
      j--;
    }
  }
  for (let q = mid.length - 1; q >= 0; q--) ops.push(mid[q]);
  for (let q = 0; q < a.length - aHi; q++) ops.push({ op: 'keep', i: aHi + q, j: bHi + q, token: b[bHi + q] });
  return ops;
}

/** Number of non-keep steps of a script (equals levenshtein(a, b) for alignment(a, b)). */
export function alignmentCost(ops: readonly EditOp[]): number {
  let c = 0;
  for (const o of ops) if (o.op !== 'keep') c++;
  return c;
}

/** Replay a script on a: returns b. Throws if a keep/sub/del step does not consume the expected a[i]. */
export function applyAlignment(a: ArrayLike<number>, ops: readonly EditOp[]): number[] {
  const out: number[] = [];
  let i = 0;
  for (const o of ops) {
    if (o.op === 'ins') {
      out.push(o.token);
      continue;
    }
    if (o.i !== i || i >= a.length) throw new RangeError(`ops: step ${o.op} at a[${o.i}] but the script is at a[${i}]`);
    if (o.op === 'del' && a[i] !== o.token)
      throw new RangeError(`ops: del at a[${i}] expects token ${o.token}, found ${a[i]}`);
    if (o.op === 'keep' && a[i] !== o.token)
      throw new RangeError(`ops: keep at a[${i}] expects token ${o.token}, found ${a[i]}`);
    if (o.op !== 'del') out.push(o.token);
    i++;
  }
  if (i !== a.length) throw new RangeError(`ops consume ${i} of the ${a.length} tokens of a`);
  return out;
}
