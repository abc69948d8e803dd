import { Backend, BackendName, RawKernels } from './backend';
import type { AddonExports } from './cpu';
import { DType, HostArray, Tensor, dtypeBytes, hostArray } from './tensor';

/** Storage codes of the CUDA-only ops (bf16 inference path): 0 = float32, 1 = bf16. */
export const CUDA_F32 = 0;
export const CUDA_BF16 = 1;

/**
 * The addon's `cuda` object (src/addon/cuda_bindings.cc): device pointers are numbers
 * (byte addresses). Besides the op set of sd_ops.h under the same names and argument
 * order, it holds memory, copies, CUDA-graph capture/replay, event timers and the bf16
 * inference ops (see src/cuda/sd_cuda.h for their exact semantics).
 */
export interface CudaExports extends RawKernels {
  info(): string;
  alloc(bytes: number): number;
  free(ptr: number | null): void;
  upload(dst: number, src: ArrayBufferView): void;
  download(dst: ArrayBufferView, src: number): void;
  copy(dst: number, src: number, bytes: number): void;
  memset(dst: number, byte: number, bytes: number): void;
  sync(): void;
  memory(): { inUse: number; cached: number; deviceFree: number; deviceTotal: number };
  empty_cache(): void;
  graph_begin(): void;
  graph_end(): number;
  graph_replay(id: number): void;
  graph_free(id: number): void;
  timer_start(): void;
  timer_stop(): number;
  fill_uniform(ptr: number, dtype: number, n: number, seed: number, lo: number, hi: number): void;
  cast(src: number, srcDtype: number, dst: number, dstDtype: number, n: number): void;
  gemm_bf16(
    A: number,
    W: number,
    C: number,
    cDtype: number,
    M: number,
    N: number,
    K: number,
    alpha: number,
    beta: number,
  ): void;
  rmsnorm_fwd_x(
    x: number,
    w: number,
    y: number,
    yDtype: number,
    rstd: number | null,
    rows: number,
    dim: number,
    eps: number,
  ): void;
  rope_strided(
    x: number,
    rowStride: number,
    pos: number,
    n: number,
    heads: number,
    headDim: number,
    rotDim: number,
    theta: number,
    interleaved: number,
    inverse: number,
  ): void;
  kv_append_x(
    cache: number,
    cacheDtype: number,
    src: number,
    srcStride: number,
    len: number,
    T: number,
    row: number,
    maxLen: number,
  ): void;
  attention_fwd_x(
    q: number,
    qStride: number,
    k: number,
    v: number,
    kvDtype: number,
    out: number,
    outDtype: number,
    lse: number | null,
    Tq: number,
    Tk: number,
    Hq: number,
    Hkv: number,
    D: number,
    mask: number,
    block: number,
    origin: number,
    qOffset: number,
    scale: number,
  ): void;
  swiglu_rows(gu: number, out: number, outDtype: number, rows: number, F: number): void;
  embedding_fwd_x(
    ids: number,
    table: number,
    tableDtype: number,
    out: number,
    n: number,
    vocab: number,
    dim: number,
  ): void;
}

/** The addon's CUDA object, or undefined when the addon was built without CUDA. */
export function cudaExports(addon: AddonExports): CudaExports | undefined {
  return (addon as unknown as { cuda?: CudaExports }).cuda;
}

/**
 * The CUDA backend: tensors are device buffers (the handle is the device address), every
 * op of Backend runs as kernels on one stream of the first GPU. Launches are asynchronous;
 * read() (and sumsq) synchronise and report any error a kernel recorded since the last
 * sync (ids or targets out of range). There is no host view: view() / t.data throw.
 */
export class CudaBackend extends Backend {
  readonly name: BackendName = 'cuda';
  readonly buildInfo: string;
  /** The raw CUDA functions (device pointers as numbers), for benchmarks and graph capture. */
  readonly cuda: CudaExports;
  protected readonly k: RawKernels;

  constructor(addon: AddonExports) {
    super();
    const c = cudaExports(addon);
    if (!c) throw new Error('CudaBackend: the native addon was built without CUDA (no exports.cuda)');
    this.cuda = c;
    this.k = c;
    this.buildInfo = `cuda ${c.info()}`; // initialises the device; throws with the driver's reason
  }

  alloc(dtype: DType, length: number): Tensor {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`alloc: bad length ${length}`);
    const bytes = Math.max(length, 1) * dtypeBytes(dtype);
    const ptr = this.cuda.alloc(bytes);
    this.cuda.memset(ptr, 0, bytes);
    this.live.set(ptr, bytes);
    return this.track(new Tensor(this, dtype, length, ptr));
  }
  free(t: Tensor): void {
    if (t.backend !== this) throw new Error(`free: a tensor of the ${t.backend.name} backend was passed to cuda`);
    if (t.base) return; // views share their allocation's memory
    const ptr = t.handle as number;
    if (!this.live.delete(ptr)) throw new Error(`free: device address ${ptr} is not a live allocation (freed twice?)`);
    this.untrack(t);
    this.cuda.free(ptr);
  }
  protected override release(handle: unknown): void {
    if (this.live.delete(handle as number)) this.cuda.free(handle as number);
  }
  /** Device allocations by address, with their sizes: a tensor must lie inside one of them. */
  private readonly live = new Map<number, number>();
  private checkLive(t: Tensor): number {
    const base = t.base ?? t;
    const size = this.live.get(base.handle as number);
    const ptr = t.handle as number;
    const start = base.handle as number;
    if (
      size === undefined ||
      !Number.isInteger(ptr) ||
      ptr < start ||
      ptr + t.length * dtypeBytes(t.dtype) > start + size
    ) {
      throw new RangeError(
        `cuda: a ${t.dtype} tensor of ${t.length} elements at ${String(ptr)} is not inside a live allocation (forged, or freed)`,
      );
    }
    return ptr;
  }
  protected sliceView(t: Tensor, offset: number, length: number): Tensor {
    return new Tensor(this, t.dtype, length, (t.handle as number) + offset * dtypeBytes(t.dtype), t.base ?? t);
  }
  view(): HostArray {
    throw new Error(
      'cuda backend: tensors live in device memory and have no host view (t.data); ' +
        'use t.toArray() / backend.read(t) to copy out and backend.write(t, values) to copy in',
    );
  }
  override write(t: Tensor, src: HostArray | number[], offset = 0): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + src.length > t.length) {
      throw new RangeError(`write: ${src.length} values at offset ${offset} overflow a tensor of ${t.length}`);
    }
    if (src.length === 0) return;
    const arr = hostArray(t.dtype, src.length);
    arr.set(src);
    this.cuda.upload(this.checkLive(t) + offset * dtypeBytes(t.dtype), arr);
  }
  override read(t: Tensor): HostArray {
    const out = hostArray(t.dtype, t.length);
    if (t.length > 0) this.cuda.download(out, this.checkLive(t));
    else this.cuda.sync();
    return out;
  }
  protected ref(t: Tensor | null): unknown {
    if (t === null) return null;
    if (t.backend !== this) throw new Error(`a tensor of the ${t.backend.name} backend was passed to the cuda backend`);
    return this.checkLive(t);
  }
  /** Waits for every queued kernel and reports any error a kernel recorded. */
  sync(): void {
    this.cuda.sync();
  }
  /** The GPU has no host thread pool: always 1; setting it is a no-op. */
  get numThreads(): number {
    return 1;
  }
  set numThreads(_n: number) {
    // nothing to set on the device
  }
}
