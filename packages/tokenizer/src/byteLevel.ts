// GPT-2's byte <-> unicode table used by Hugging Face ByteLevel tokenizers: every byte is shown as a
// printable character so vocab entries and merges are plain strings. Printable Latin-1 bytes stand
// for themselves; the rest map to U+0100 onwards in byte order.

export const BYTE_TO_UNICODE: string[] = (() => {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const set = new Set(keep);
  const out: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(set.has(b) ? b : 256 + n++);
  return out;
})();

export const UNICODE_TO_BYTE: Map<string, number> = new Map(BYTE_TO_UNICODE.map((ch, b) => [ch, b]));

export function bytesToByteLevel(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_UNICODE[bytes[i]];
  return s;
}

/** Inverse of bytesToByteLevel; undefined when a character is not one of the 256 byte characters. */
export function byteLevelToBytes(s: string): Uint8Array | undefined {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const b = UNICODE_TO_BYTE.get(s[i]);
    if (b === undefined) return undefined;
    out[i] = b;
  }
  return out;
}

/** Bytes as a Latin-1 string: a cheap exact Map key for a byte sequence. */
export function bytesKey(bytes: Uint8Array, start = 0, end = bytes.length): string {
  if (end - start <= 4096) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  let s = '';
  for (let i = start; i < end; i += 4096) s += bytesKey(bytes, i, Math.min(end, i + 4096));
  return s;
}
