import type { Backend } from './backend';

/** f32, i32, or u16: 16-bit float bits (binary16 or bfloat16), the storage of half-precision weights. */
export type DType = 'f32' | 'i32' | 'u16';
export type HostArray = Float32Array | Int32Array | Uint16Array;

/** Bytes per element of a dtype. */
export function dtypeBytes(dtype: DType): number {
  return dtype === 'u16' ? 2 : 4;
}

/** A zero-filled host array of a dtype. */
export function hostArray(dtype: DType, length: number): HostArray {
  return dtype === 'f32'
    ? new Float32Array(length)
    : dtype === 'i32'
      ? new Int32Array(length)
      : new Uint16Array(length);
}

/**
 * A flat buffer owned by a backend. On the CPU addon it wraps a JS typed array; on
 * WASM it is a range of the module's linear memory; on CUDA, device memory.
 * `slice` makes a view that shares memory (llm.c-style: one flat parameter buffer,
 * per-layer views into it), so ops run on parts of a buffer without copies.
 */
export class Tensor {
  constructor(
    readonly backend: Backend,
    readonly dtype: DType,
    readonly length: number,
    /** Backend-specific handle of the start of this tensor (typed array or byte address). */
    readonly handle: HostArray | number,
    /** The allocation this view belongs to (itself for an allocation). */
    readonly base?: Tensor,
  ) {}

  /** A view of `length` elements starting at element `offset`. */
  slice(offset: number, length: number = this.length - offset): Tensor {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`Tensor.slice: offset ${offset} and length ${length} must be integers >= 0`);
    }
    if (offset + length > this.length) {
      throw new RangeError(
        `Tensor.slice: [${offset}, ${offset + length}) is outside a tensor of ${this.length} elements`,
      );
    }
    return this.backend.sliceTensor(this, offset, length);
  }

  /** Host view of the data (CPU and WASM); throws on device backends. Do not keep it across allocations on WASM. */
  get data(): HostArray {
    return this.backend.view(this);
  }

  /** A copy of the data as a host typed array (every backend). */
  toArray(): HostArray {
    return this.backend.read(this);
  }
}
