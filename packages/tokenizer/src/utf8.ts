// Lossless text <-> bytes. Valid text is plain UTF-8; a lone surrogate (which UTF-8 cannot carry and
// TextEncoder would replace by U+FFFD) is written as its 3-byte generalised-UTF-8 form (WTF-8:
// ED A0..BF 80..BF), so decode(encode(s)) === s for every JavaScript string.

/** Write the WTF-8 bytes of text[start, end) into out from offset o; returns the new offset. out must hold 3*(end-start) bytes. */
export function writeWtf8(text: string, start: number, end: number, out: Uint8Array, o: number): number {
  for (let i = start; i < end; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[o++] = c;
    } else if (c < 0x800) {
      out[o++] = 0xc0 | (c >> 6);
      out[o++] = 0x80 | (c & 63);
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
          out[o++] = 0xf0 | (c >> 18);
          out[o++] = 0x80 | ((c >> 12) & 63);
          out[o++] = 0x80 | ((c >> 6) & 63);
          out[o++] = 0x80 | (c & 63);
          i++;
          continue;
        }
      }
      out[o++] = 0xe0 | (c >> 12);
      out[o++] = 0x80 | ((c >> 6) & 63);
      out[o++] = 0x80 | (c & 63);
    }
  }
  return o;
}

export function encodeWtf8(text: string): Uint8Array {
  const buf = new Uint8Array(text.length * 3);
  return buf.slice(0, writeWtf8(text, 0, text.length, buf, 0));
}

const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * Decode WTF-8 bytes: valid UTF-8 as usual, ED A0..BF xx back to the lone surrogate it encodes,
 * and any other invalid byte sequence to U+FFFD (as TextDecoder does).
 */
export function decodeWtf8(bytes: Uint8Array): string {
  let prev = 0;
  let out = '';
  for (let i = bytes.indexOf(0xed); i >= 0 && i + 2 < bytes.length; i = bytes.indexOf(0xed, i + 1)) {
    const b1 = bytes[i + 1];
    const b2 = bytes[i + 2];
    if (b1 >= 0xa0 && b1 <= 0xbf && b2 >= 0x80 && b2 <= 0xbf) {
      if (i > prev) out += utf8.decode(bytes.subarray(prev, i));
      out += String.fromCharCode(0xd000 | ((b1 & 63) << 6) | (b2 & 63));
      prev = i + 3;
      i += 2;
    }
  }
  if (prev === 0) return utf8.decode(bytes);
  if (prev < bytes.length) out += utf8.decode(bytes.subarray(prev));
  return out;
}

/** Length of the valid (strict UTF-8, no surrogates, no overlongs) sequence starting at bytes[i], or 0 when invalid. */
export function validUtf8SeqLen(bytes: Uint8Array, i: number, end: number): number {
  const b0 = bytes[i];
  if (b0 < 0x80) return 1;
  if (b0 < 0xc2) return 0;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < end && bytes[i + k] >= lo && bytes[i + k] <= hi;
  if (b0 < 0xe0) return cont(1) ? 2 : 0;
  if (b0 < 0xf0) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 < 0xf5) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}
