import { Backend, BackendName, RawKernels } from './backend';
import { DType, HostArray, Tensor, hostArray } from './tensor';

/** The functions the Node addon exports (besides the ops, named as in sd_ops.h without "sd_"). */
export interface AddonExports extends RawKernels {
  build_info(): string;
  /** The CPU kernel variant in use, after switching to `want` if given (src/cpu/isa/dispatch.cpp). */
  cpu_isa(want?: string): CpuIsaInfo;
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

/** x86-64 kernel variants: "base" (SSE2), "avx2" (AVX2+FMA), "avx512"; "native" without dispatch. */
export interface CpuIsaInfo {
  isa: string;
  supported: string[];
}

// The variant the addon runs now (one per process, shared by every CpuBackend over it).
const activeIsa = new WeakMap<AddonExports, string>();

/**
 * The CPU backend: the addon's OpenMP + SIMD kernels over JS typed arrays (zero copy).
 * The kernels come in per-ISA variants chosen by CPUID when the addon loads (SD_CPU_ISA forces a
 * narrower one); a backend constructed with `isa` (or given one later) runs every op on that
 * variant, so two backends over one addon can compare variants call by call.
 */
export class CpuBackend extends Backend {
  readonly name: BackendName = 'cpu';
  protected readonly k: RawKernels;
  private pin: string;
  // Held from construction: switching variants is the backend's own business, not a kernel call
  // (tests that wrap every kernel of the addon must not see it).
  private readonly cpuIsa: (want?: string) => CpuIsaInfo;

  constructor(
    readonly addon: AddonExports,
    isa?: string,
  ) {
    super();
    this.k = addon;
    // An addon built before runtime dispatch (an older prebuilt) has no cpu_isa: one variant.
    const native: CpuIsaInfo = { isa: 'native', supported: [] };
    this.cpuIsa = typeof addon.cpu_isa === 'function' ? addon.cpu_isa.bind(addon) : () => native;
    const info = this.cpuIsa();
    if (!activeIsa.has(addon)) activeIsa.set(addon, info.isa);
    this.pin = info.isa === 'native' ? 'native' : (isa ?? activeIsa.get(addon) ?? info.isa);
    this.isa = this.pin;
  }

  /** The build and the kernel variant this backend runs, with the reason it was chosen. */
  get buildInfo(): string {
    this.select();
    return this.addon.build_info();
  }
  /** The kernel variant this backend's ops run on ("native" for builds without dispatch). */
  get isa(): string {
    return this.pin;
  }
  set isa(want: string) {
    if (want === 'native' && this.pin === 'native') return;
    this.cpuIsa(want); // throws, naming the variants this CPU runs, if it cannot
    activeIsa.set(this.addon, want);
    this.pin = want;
  }
  /** The kernel variants this CPU can run (empty for builds without dispatch). */
  get isaSupported(): string[] {
    return this.pin === 'native' ? [] : this.cpuIsa().supported;
  }
  private select(): void {
    if (this.pin !== 'native' && activeIsa.get(this.addon) !== this.pin) {
      this.cpuIsa(this.pin);
      activeIsa.set(this.addon, this.pin);
    }
  }
  protected override callValue<T = number>(op: string, ...args: unknown[]): T {
    this.select();
    return super.callValue<T>(op, ...args);
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
