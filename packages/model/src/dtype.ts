// float32 <-> float16 / bfloat16 conversion (round to nearest even), for safetensors. Widening
// is the compute core's reference (the same values matmul_w16 widens weights to).
import { reference } from '@seed-diffusion/native';

export const f16ToF32: (h: number) => number = reference.f16ToF32;
export const bf16ToF32: (h: number) => number = reference.bf16ToF32;

const tables: Partial<Record<'f16' | 'bf16', Float32Array>> = {};
/** Every 16-bit pattern widened to float32 (index = bits): one lookup per value when decoding. */
export function widenTable(type: 'f16' | 'bf16'): Float32Array {
  const conv = type === 'f16' ? f16ToF32 : bf16ToF32;
  return (tables[type] ??= Float32Array.from({ length: 65536 }, (_, h) => conv(h)));
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function f32ToBf16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff; // NaN stays NaN
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export function f32ToF16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> signed zero
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // may carry into the exponent: still correct
  e = h;
  return sign | e;
}
