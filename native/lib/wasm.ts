import { readFileSync } from 'node:fs';
import path from 'node:path';

import { Backend, BackendName, RawKernels } from './backend';
import { DType, HostArray, Tensor, dtypeBytes } from './tensor';

interface WasmExports {
  memory: WebAssembly.Memory;
  _initialize?: () => void;
  sd_alloc(bytes: number): number;
  sd_free(p: number): number;
  sd_buffer_ok(p: number, bytes: number): number;
  sd_op_count(): number;
  sd_op_name(i: number): number;
  sd_call(op: number, args: number, nargs: number): number;
  sd_call_result(): number;
  sd_live_bytes(): number;
  sd_last_error(): number;
  sd_build_info(): number;
}

/** Where the module is: dist/sd_kernels.wasm of this package (or SD_WASM_PATH); works from lib/ and dist/. */
export function wasmPath(): string {
  return process.env.SD_WASM_PATH ?? path.join(__dirname, '..', 'dist', 'sd_kernels.wasm');
}

// The module is a WASI "reactor" that never does I/O; any WASI import it still names
// (pulled in by libc) answers ENOSYS instead of touching the host.
const ENOSYS = 52;
function wasiStubs(module: WebAssembly.Module): WebAssembly.Imports {
  const imports: Record<string, Record<string, () => number>> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== 'function') throw new Error(`sd_kernels.wasm imports ${imp.module}.${imp.name} (${imp.kind})`);
    (imports[imp.module] ??= {})[imp.name] = () => ENOSYS;
  }
  return imports;
}

/** Arguments of the longest op (attention_bwd has 19). */
const MAX_ARGS = 32;

/** The WebAssembly backend: the same C++ kernels, single-threaded with SIMD128. */
export class WasmBackend extends Backend {
  readonly name: BackendName = 'wasm';
  readonly buildInfo: string;
  protected readonly k: RawKernels;
  private readonly x: WasmExports;
  private f32view: Float32Array;
  private i32view: Int32Array;
  private u8view: Uint8Array;
  /** Scratch in linear memory for sd_call's arguments (doubles). */
  private readonly argsPtr: number;

  constructor(file = wasmPath()) {
    super();
    const module = new WebAssembly.Module(readFileSync(file));
    this.x = new WebAssembly.Instance(module, wasiStubs(module)).exports as unknown as WasmExports;
    this.x._initialize?.();
    this.f32view = new Float32Array(this.x.memory.buffer);
    this.i32view = new Int32Array(this.x.memory.buffer);
    this.u8view = new Uint8Array(this.x.memory.buffer);
    this.buildInfo = this.cString(this.x.sd_build_info());
    this.argsPtr = this.x.sd_alloc(8 * MAX_ARGS);
    this.k = this.kernels();
  }

  /**
   * One function per row of the module's op table: the arguments go to sd_call, which checks every
   * buffer against the allocation it falls in before the kernel runs; a non-zero status becomes a
   * JS error with the module's message. Raw calls (even with forged addresses) cannot write outside
   * a live allocation.
   */
  private kernels(): RawKernels {
    const k: RawKernels = {};
    const n = this.x.sd_op_count();
    for (let i = 0; i < n; i++) {
      const op = this.cString(this.x.sd_op_name(i));
      k[op] = ((...args: unknown[]) => {
        if (args.length > MAX_ARGS) throw new Error(`${op}: ${args.length} arguments`);
        const a = new Float64Array(this.x.memory.buffer, this.argsPtr, args.length);
        for (let j = 0; j < args.length; j++) {
          const v = args[j];
          a[j] = v === null || v === undefined ? 0 : typeof v === 'boolean' ? +v : (v as number);
        }
        const rc = this.x.sd_call(i, this.argsPtr, args.length);
        if (rc !== 0) throw new Error(this.cString(this.x.sd_last_error()));
        return op === 'sumsq' ? this.x.sd_call_result() : rc;
      }) as never;
    }
    return k;
  }

  private refresh(): void {
    if (this.f32view.buffer !== this.x.memory.buffer) {
      this.f32view = new Float32Array(this.x.memory.buffer);
      this.i32view = new Int32Array(this.x.memory.buffer);
      this.u8view = new Uint8Array(this.x.memory.buffer);
    }
  }

  private cString(ptr: number): string {
    this.refresh();
    let end = ptr;
    while (this.u8view[end] !== 0) end++;
    return Buffer.from(this.u8view.subarray(ptr, end)).toString('utf8');
  }

  alloc(dtype: DType, length: number): Tensor {
    if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`alloc: bad length ${length}`);
    const bytes = Math.max(dtypeBytes(dtype) * length, 4);
    if (bytes > 0xffffffff) throw new RangeError(`wasm: ${bytes} bytes exceed the 4 GiB address space`);
    const ptr = this.x.sd_alloc(bytes);
    if (ptr === 0) throw new Error(`wasm: out of memory allocating ${bytes} bytes`);
    return this.track(new Tensor(this, dtype, length, ptr));
  }
  free(t: Tensor): void {
    if (t.backend !== this) throw new Error(`free: a tensor of the ${t.backend.name} backend was passed to wasm`);
    if (t.base) return; // views share their allocation's memory
    this.untrack(t);
    if (this.x.sd_free(t.handle as number) !== 0) throw new Error(this.cString(this.x.sd_last_error()));
  }
  /** Releases an allocation whose Tensor was collected without dispose (the safety net). */
  protected override release(handle: unknown): void {
    this.x.sd_free(handle as number);
  }
  protected sliceView(t: Tensor, offset: number, length: number): Tensor {
    return new Tensor(this, t.dtype, length, (t.handle as number) + dtypeBytes(t.dtype) * offset, t.base ?? t);
  }
  /** A tensor's bytes must lie inside a live allocation (the module's handle table). */
  private checkLive(t: Tensor): number {
    const ptr = t.handle;
    const bytes = dtypeBytes(t.dtype) * t.length;
    if (
      typeof ptr !== 'number' ||
      !Number.isInteger(ptr) ||
      ptr % dtypeBytes(t.dtype) !== 0 ||
      !this.x.sd_buffer_ok(ptr, bytes)
    ) {
      throw new RangeError(
        `wasm: a ${t.dtype} tensor of ${t.length} elements at ${String(ptr)} is not inside a live allocation (forged, or freed)`,
      );
    }
    return ptr;
  }
  view(t: Tensor): HostArray {
    const ptr = this.checkLive(t);
    this.refresh();
    if (t.dtype === 'u16') return new Uint16Array(this.x.memory.buffer, ptr, t.length);
    const start = ptr >> 2;
    return t.dtype === 'f32'
      ? this.f32view.subarray(start, start + t.length)
      : this.i32view.subarray(start, start + t.length);
  }
  protected ref(t: Tensor | null): unknown {
    if (t === null) return 0;
    if (t.backend !== this) throw new Error(`a tensor of the ${t.backend.name} backend was passed to the wasm backend`);
    return this.checkLive(t);
  }
  /** Bytes held by live allocations of the module (tensors not yet freed). */
  get liveBytes(): number {
    return this.x.sd_live_bytes();
  }
  /** Size of the module's linear memory (it grows, never shrinks). */
  get memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }
  get numThreads(): number {
    return 1;
  }
  set numThreads(_n: number) {
    // single-threaded by construction
  }
}
