import { checkF32, checkI32, checkInt, checkReal } from './check';
import { DType, HostArray, Tensor } from './tensor';

export type BackendName = 'cpu' | 'wasm' | 'cuda';

/** Raw kernel functions with the C argument order of include/sd_ops.h (the addon's exports). */
export type RawKernels = Record<string, (...args: never[]) => unknown>;

/**
 * The op set over tensors, shared by every backend. Each method validates shapes and
 * buffer lengths here (the boundary) and then calls the backend's kernel, which checks
 * dimensions, ids and scalars again in C and reports problems as JS errors.
 */
export abstract class Backend {
  abstract readonly name: BackendName;
  /** Short description of the kernels' build ("cpu avx2 fma openmp", "cpu wasm32 simd128"). */
  abstract readonly buildInfo: string;

  /** Allocates a zero-filled tensor. */
  abstract alloc(dtype: DType, length: number): Tensor;
  /** Returns a tensor's memory to the backend (a no-op where the GC owns it). Views are not freed. */
  abstract free(t: Tensor): void;
  abstract sliceTensor(t: Tensor, offset: number, length: number): Tensor;
  /** Host view of a tensor's memory (CPU, WASM). */
  abstract view(t: Tensor): HostArray;
  /** What the raw kernels take for a tensor: a typed array (addon) or a byte address (WASM). */
  protected abstract ref(t: Tensor | null): unknown;
  protected abstract readonly k: RawKernels;

  abstract get numThreads(): number;
  abstract set numThreads(n: number);

  f32(length: number): Tensor {
    return this.alloc('f32', length);
  }
  i32(length: number): Tensor {
    return this.alloc('i32', length);
  }
  /** A new tensor holding a copy of `src`. */
  from(src: HostArray | number[], dtype?: DType): Tensor {
    const dt: DType = dtype ?? (src instanceof Int32Array ? 'i32' : 'f32');
    const t = this.alloc(dt, src.length);
    this.write(t, src);
    return t;
  }
  /** Copies `src` into `t` starting at element `offset`. */
  write(t: Tensor, src: HostArray | number[], offset = 0): void {
    if (offset + src.length > t.length) {
      throw new RangeError(`write: ${src.length} values at offset ${offset} overflow a tensor of ${t.length}`);
    }
    this.view(t).set(src, offset);
  }
  /** A copy of `t` as a host typed array. */
  read(t: Tensor): HostArray {
    return this.view(t).slice();
  }

  protected call(op: string, ...args: unknown[]): void {
    const fn = this.k[op] as ((...a: unknown[]) => unknown) | undefined;
    if (!fn) throw new Error(`${op}: not implemented by the ${this.name} backend (${this.buildInfo})`);
    fn(...args);
  }

  // ------------------------------------------------------------------ ops
  /** C[M,N] = alpha·op(A)·op(B) + beta·C; A is [M,K] ([K,M] if transA), B is [K,N] ([N,K] if transB). */
  matmul(
    A: Tensor,
    B: Tensor,
    C: Tensor,
    M: number,
    N: number,
    K: number,
    transA = false,
    transB = false,
    alpha = 1,
    beta = 0,
  ): void {
    const op = 'matmul';
    checkInt(op, { M, N, K }, 1);
    checkReal(op, { alpha, beta });
    checkF32(op, 'A', A, M * K);
    checkF32(op, 'B', B, K * N);
    checkF32(op, 'C', C, M * N);
    this.call(op, this.ref(A), this.ref(B), this.ref(C), M, N, K, +transA, +transB, alpha, beta);
  }

  /** y = x / rms(x) · w per row of x [rows, dim]; rstd [rows] (optional) keeps 1/rms for the backward. */
  rmsnormFwd(x: Tensor, w: Tensor, y: Tensor, rstd: Tensor | null, rows: number, dim: number, eps: number): void {
    const op = 'rmsnorm_fwd';
    checkInt(op, { rows, dim }, 1);
    checkReal(op, { eps });
    checkF32(op, 'x', x, rows * dim);
    checkF32(op, 'w', w, dim);
    checkF32(op, 'y', y, rows * dim);
    if (rstd) checkF32(op, 'rstd', rstd, rows);
    this.call(op, this.ref(x), this.ref(w), this.ref(y), this.ref(rstd), rows, dim, eps);
  }
}

export { checkF32, checkI32 };
