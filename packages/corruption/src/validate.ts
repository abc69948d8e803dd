// Argument checks shared by every entry point: a bad argument throws a RangeError/TypeError whose
// message starts with the argument's name, so a caller can tell which of its options was wrong.

export function checkInt(name: string, v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new TypeError(`${name} must be an integer, got ${String(v)}`);
  if (v < min || v > max) throw new RangeError(`${name} must be in [${min}, ${max}], got ${v}`);
  return v;
}

export function checkReal(name: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new TypeError(`${name} must be a finite number, got ${String(v)}`);
  if (v < min || v > max) throw new RangeError(`${name} must be in [${min}, ${max}], got ${v}`);
  return v;
}

/** x0 must be an Int32Array holding batch·len ids. */
export function checkIds(name: string, x0: unknown, batch: number, len: number): Int32Array {
  checkInt('batch', batch, 0);
  checkInt('len', len, 0);
  if (!(x0 instanceof Int32Array)) throw new TypeError(`${name} must be an Int32Array`);
  if (x0.length !== batch * len) {
    throw new RangeError(`${name} has ${x0.length} ids, expected batch·len = ${batch}·${len} = ${batch * len}`);
  }
  return x0;
}

/** Prompt length per row: one number for every row or one per row; each in [0, len]. */
export function promptLengths(promptLen: number | Int32Array | undefined, batch: number, len: number): Int32Array {
  const out = new Int32Array(batch);
  if (promptLen === undefined) return out;
  if (typeof promptLen === 'number') {
    checkInt('promptLen', promptLen, 0);
    if (promptLen > len)
      throw new RangeError(`promptLen (${promptLen}) is longer than the sequence length len (${len})`);
    out.fill(promptLen);
    return out;
  }
  if (!(promptLen instanceof Int32Array) || promptLen.length !== batch) {
    throw new TypeError(`promptLen must be a number or an Int32Array of batch (${batch}) lengths`);
  }
  for (let r = 0; r < batch; r++) {
    const p = promptLen[r];
    if (p < 0) throw new RangeError(`promptLen[${r}] must be >= 0, got ${p}`);
    if (p > len) throw new RangeError(`promptLen[${r}] (${p}) is longer than the sequence length len (${len})`);
    out[r] = p;
  }
  return out;
}

export type Normalize = 'all' | 'eligible' | 'rows' | 'none';

export function checkNormalize(v: unknown, allowed: readonly Normalize[]): Normalize {
  if (!allowed.includes(v as Normalize))
    throw new RangeError(`normalize must be one of ${allowed.join(', ')}, got ${String(v)}`);
  return v as Normalize;
}
