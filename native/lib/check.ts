import type { DType, Tensor } from './tensor';

/** Error thrown for a bad call at the op boundary: names the op and the problem. */
export class OpError extends Error {
  constructor(
    readonly op: string,
    message: string,
  ) {
    super(`${op}: ${message}`);
    this.name = 'OpError';
  }
}

/** Each named value must be an integer >= min (and fit in int32). */
export function checkInt(op: string, values: Record<string, number>, min = 0): void {
  for (const [name, v] of Object.entries(values)) {
    if (!Number.isInteger(v) || v < min) throw new OpError(op, `${name} must be an integer >= ${min}, got ${v}`);
    if (v > 0x7fffffff) {
      throw new OpError(op, `${name} = ${v} exceeds 2^31 - 1, the largest count or position the kernels take`);
    }
  }
}

/** Each named value must be a finite number. */
export function checkReal(op: string, values: Record<string, number>): void {
  for (const [name, v] of Object.entries(values)) {
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new OpError(op, `${name} must be a finite number, got ${v}`);
  }
}

function checkTensor(op: string, name: string, t: Tensor, dtype: DType, need: number): void {
  if (!t || typeof t !== 'object' || !('dtype' in t)) throw new OpError(op, `${name} must be a Tensor`);
  if (t.dtype !== dtype) throw new OpError(op, `${name} must be ${dtype}, got ${t.dtype}`);
  if (t.length < need) {
    throw new OpError(op, `${name} has ${t.length} elements but the shape needs ${need}`);
  }
}

/** `t` must be an f32 tensor with at least `need` elements. */
export function checkF32(op: string, name: string, t: Tensor, need: number): void {
  checkTensor(op, name, t, 'f32', need);
}

/** `t` must be a u16 tensor (16-bit float bits) with at least `need` elements. */
export function checkU16(op: string, name: string, t: Tensor, need: number): void {
  checkTensor(op, name, t, 'u16', need);
}

/** `t` must be an i32 tensor with at least `need` elements. */
export function checkI32(op: string, name: string, t: Tensor, need: number): void {
  checkTensor(op, name, t, 'i32', need);
}
