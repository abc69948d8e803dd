// Character-level scores of a generated line against the true one (CodeXGLUE line completion).
import { levenshtein } from '@seed-diffusion/corruption';

function charCodes(s: string): Uint16Array {
  const out = new Uint16Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Levenshtein distance over UTF-16 code units. */
export function charLevenshtein(a: string, b: string): number {
  return levenshtein(charCodes(a), charCodes(b));
}

/** 1 − Levenshtein / max length, in [0, 1]; 1 for identical strings (two empty strings included). */
export function editSimilarity(a: string, b: string): number {
  const n = Math.max(a.length, b.length);
  return n === 0 ? 1 : 1 - charLevenshtein(a, b) / n;
}
