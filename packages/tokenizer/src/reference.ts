// Plain references for the parity tests: the split pattern run by RegExp, and tiktoken's quadratic
// BPE over byte strings. Slow and obviously right; never used by encode().
import { bytesKey } from './byteLevel';
import { GPT2_PATTERN } from './pretokenize';
import { encodeWtf8 } from './utf8';

/** cl100k in JavaScript RegExp syntax (the form js-tiktoken runs). */
export const CL100K_REGEX =
  /'(?:[sS]|[dD]|[mM]|[tT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;
export const QWEN2_REGEX =
  /'(?:[sS]|[dD]|[mM]|[tT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;
export const GPT2_REGEX = new RegExp(GPT2_PATTERN, 'gu');

export function referencePreTokenize(text: string, re: RegExp): string[] {
  return [...text.matchAll(new RegExp(re.source, 'gu'))].map((m) => m[0]);
}

/** tiktoken's merge loop: repeatedly merge the adjacent pair whose concatenation has the lowest rank. */
export function referenceBpe(piece: Uint8Array, rankOf: Map<string, number>): number[] {
  const whole = rankOf.get(bytesKey(piece));
  if (whole !== undefined) return [whole];
  let parts: string[] = Array.from(piece, (b) => String.fromCharCode(b));
  for (;;) {
    let best = Infinity;
    let at = -1;
    for (let i = 0; i + 1 < parts.length; i++) {
      const r = rankOf.get(parts[i] + parts[i + 1]);
      if (r !== undefined && r < best) {
        best = r;
        at = i;
      }
    }
    if (at < 0) break;
    parts = [...parts.slice(0, at), parts[at] + parts[at + 1], ...parts.slice(at + 2)];
  }
  return parts.map((p) => rankOf.get(p) as number);
}

export function referenceEncode(text: string, re: RegExp, rankOf: Map<string, number>): number[] {
  return referencePreTokenize(text, re).flatMap((p) => referenceBpe(encodeWtf8(p), rankOf));
}
