import type { Backend } from './backend';

export type DType = 'f32' | 'i32';
export type HostArray = Float32Array | Int32Array;

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
