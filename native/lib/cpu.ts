import { Backend, BackendName, RawKernels } from './backend';
import { DType, HostArray, Tensor, hostArray } from './tensor';

/** The functions the Node addon exports (besides the ops, named as in sd_ops.h without "sd_"). */
export interface AddonExports extends RawKernels {
  build_info(): string;
  get_num_threads(): number;
  set_num_threads(n: number): void;
  cuda_info(): CudaInfo;
}

export interface CudaInfo {
  compiled: boolean;
  devices: number;
  name?: string;
  error?: string;
}

/** The CPU backend: the addon's OpenMP + SIMD kernels over JS typed arrays (zero copy). */
export class CpuBackend extends Backend {
  readonly name: BackendName = 'cpu';
  readonly buildInfo: string;
  protected readonly k: RawKernels;

  constructor(readonly addon: AddonExports) {
    super();
    this.k = addon;
    this.buildInfo = addon.build_info();
  }

  alloc(dtype: DType, length: number): Tensor {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`alloc: bad length ${length}`);
    return new Tensor(this, dtype, length, hostArray(dtype, length));
  }
  free(): void {
    // JS typed arrays belong to the garbage collector.
  }
  protected sliceView(t: Tensor, offset: number, length: number): Tensor {
    const arr = this.checked(t).subarray(offset, offset + length);
    return new Tensor(this, t.dtype, length, arr, t.base ?? t);
  }
  /** A tensor's handle must be a typed array of its dtype holding exactly its length (no forged views). */
  private checked(t: Tensor): HostArray {
    const h = t.handle;
    const ok =
      t.dtype === 'f32'
        ? h instanceof Float32Array
        : t.dtype === 'i32'
          ? h instanceof Int32Array
          : h instanceof Uint16Array;
    if (!ok || (h as HostArray).length !== t.length) {
      throw new RangeError(
        `cpu: a ${t.dtype} tensor of ${t.length} elements whose storage is ` +
          `${ok ? `${(h as HostArray).length} elements` : 'not a typed array of its dtype'} (a forged tensor)`,
      );
    }
    return h as HostArray;
  }
  view(t: Tensor): HostArray {
    return this.checked(t);
  }
  protected ref(t: Tensor | null): unknown {
    if (t === null) return null;
    if (t.backend !== this) throw new Error(`a tensor of the ${t.backend.name} backend was passed to the cpu backend`);
    return this.checked(t);
  }
  get numThreads(): number {
    return this.addon.get_num_threads();
  }
  set numThreads(n: number) {
    this.addon.set_num_threads(n);
  }
}
