import { readFileSync } from 'node:fs';
import path from 'node:path';

import { Backend, BackendName, RawKernels } from './backend';
import { DType, HostArray, Tensor, dtypeBytes } from './tensor';

interface WasmExports {
  memory: WebAssembly.Memory;
  _initialize?: () => void;
  malloc(n: number): number;
  free(p: number): void;
  sd_last_error(): number;
  sd_build_info(): number;
  [fn: string]: unknown;
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

// Exports that are not status-returning ops.
const NOT_OPS = new Set(['sd_last_error', 'sd_build_info', 'sd_get_num_threads', 'sd_set_num_threads']);

/** The WebAssembly backend: the same C++ kernels, single-threaded with SIMD128. */
export class WasmBackend extends Backend {
  readonly name: BackendName = 'wasm';
  readonly buildInfo: string;
  protected readonly k: RawKernels;
  private readonly x: WasmExports;
  private f32view: Float32Array;
  private i32view: Int32Array;
  private u8view: Uint8Array;

  constructor(file = wasmPath()) {
    super();
    const module = new WebAssembly.Module(readFileSync(file));
    this.x = new WebAssembly.Instance(module, wasiStubs(module)).exports as unknown as WasmExports;
    this.x._initialize?.();
    this.f32view = new Float32Array(this.x.memory.buffer);
    this.i32view = new Int32Array(this.x.memory.buffer);
    this.u8view = new Uint8Array(this.x.memory.buffer);
    this.buildInfo = this.cString(this.x.sd_build_info());
    this.k = this.kernels();
  }

  /** Wraps every exported sd_* op so that a non-zero status becomes a JS error. */
  private kernels(): RawKernels {
    const k: RawKernels = {};
    for (const [name, fn] of Object.entries(this.x)) {
      if (!name.startsWith('sd_') || typeof fn !== 'function' || NOT_OPS.has(name)) continue;
      const op = name.slice(3);
      k[op] = (...args: never[]) => {
        const rc = (fn as (...a: unknown[]) => number)(...args);
        if (rc !== 0) throw new Error(this.cString(this.x.sd_last_error()));
        return rc;
      };
    }
    // sd_attention_fwd/bwd take a struct pointer; the Backend passes the flat arguments
    // of their _v forms (as the addon's attention_fwd/attention_bwd do).
    for (const op of ['attention_fwd', 'attention_bwd']) if (k[`${op}_v`]) k[op] = k[`${op}_v`];
    delete k.attention_fwd_v;
    delete k.attention_bwd_v;
    // sd_sumsq writes a double through a pointer; the Backend expects the value back.
    const sumsq = this.x.sd_sumsq as ((x: number, n: number, out: number) => number) | undefined;
    if (sumsq) {
      k.sumsq = ((x: number, n: number) => {
        const out = this.x.malloc(8);
        try {
          const rc = sumsq(x, n, out);
          if (rc !== 0) throw new Error(this.cString(this.x.sd_last_error()));
          return new Float64Array(this.x.memory.buffer, out, 1)[0];
        } finally {
          this.x.free(out);
        }
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
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`alloc: bad length ${length}`);
    const bytes = Math.max(dtypeBytes(dtype) * length, 4);
    const ptr = this.x.malloc(bytes);
    if (ptr === 0) throw new Error(`wasm: out of memory allocating ${bytes} bytes`);
    this.refresh();
    this.u8view.fill(0, ptr, ptr + bytes);
    return new Tensor(this, dtype, length, ptr);
  }
  free(t: Tensor): void {
    if (t.backend !== this || t.base) return;
    this.x.free(t.handle as number);
  }
  sliceTensor(t: Tensor, offset: number, length: number): Tensor {
    return new Tensor(this, t.dtype, length, (t.handle as number) + dtypeBytes(t.dtype) * offset, t.base ?? t);
  }
  view(t: Tensor): HostArray {
    this.refresh();
    const ptr = t.handle as number;
    if (t.dtype === 'u16') return new Uint16Array(this.x.memory.buffer, ptr, t.length);
    const start = ptr >> 2;
    return t.dtype === 'f32'
      ? this.f32view.subarray(start, start + t.length)
      : this.i32view.subarray(start, start + t.length);
  }
  protected ref(t: Tensor | null): unknown {
    if (t === null) return 0;
    if (t.backend !== this) throw new Error(`a tensor of the ${t.backend.name} backend was passed to the wasm backend`);
    return t.handle;
  }
  get numThreads(): number {
    return 1;
  }
  set numThreads(_n: number) {
    // single-threaded by construction
  }
}
