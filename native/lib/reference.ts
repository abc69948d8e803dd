// Plain float64 reference implementations of the ops, for parity tests and gradient
// checks. Deliberately naive: each is the formula and nothing else.

type Arr = ArrayLike<number>;

/** C = alpha·op(A)·op(B) + beta·C in float64 (returns a new array). */
export function matmul(
  A: Arr,
  B: Arr,
  C: Arr | null,
  M: number,
  N: number,
  K: number,
  transA = false,
  transB = false,
  alpha = 1,
  beta = 0,
): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const a = transA ? A[k * M + i] : A[i * K + k];
        const b = transB ? B[j * K + k] : B[k * N + j];
        s += a * b;
      }
      out[i * N + j] = alpha * s + (beta !== 0 && C ? beta * C[i * N + j] : 0);
    }
  }
  return out;
}

/** RMSNorm forward: y and 1/rms per row. */
export function rmsnorm(
  x: Arr,
  w: Arr,
  rows: number,
  dim: number,
  eps: number,
): { y: Float64Array; rstd: Float64Array } {
  const y = new Float64Array(rows * dim);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[r * dim + i] ** 2;
    const s = 1 / Math.sqrt(ss / dim + eps);
    rstd[r] = s;
    for (let i = 0; i < dim; i++) y[r * dim + i] = x[r * dim + i] * s * w[i];
  }
  return { y, rstd };
}
