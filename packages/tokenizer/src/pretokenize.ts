// Hand-written pre-tokenizers: each `next*` function returns where the pre-token that starts at
// `pos` ends, scanning char codes with the class table instead of running a RegExp (the regex is
// the slowest part of js-tiktoken). `end` bounds the lookahead, exactly like the end of the string
// the regex would see. The plain RegExp versions in reference.ts are the parity oracle.
import { BMP_CLASS, LETTER, NEWLINE, NUMBER, OTHER, SPACE, classAt, widthAt } from './charClass';

/** The cl100k_base split pattern as tiktoken writes it (possessive quantifiers, Rust/Oniguruma syntax). */
export const CL100K_PATTERN =
  "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
/** The same pattern in the form Hugging Face tokenizer.json files use (Llama-3 / GPT-4 conversions). */
export const CL100K_PATTERN_HF =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/** Qwen2's variant: cl100k with single digits. */
export const QWEN2_PATTERN_HF =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/** GPT-2's pattern (what the Hugging Face ByteLevel pre-tokenizer applies when use_regex is true). */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

export type PreTokenizerKind = 'cl100k' | 'qwen2' | 'gpt2';

/** A pre-token scanner: end of the pre-token starting at pos (pos < end). */
export type NextPreToken = (text: string, pos: number, end: number) => number;

function lowerAscii(c: number): number {
  return c >= 65 && c <= 90 ? c | 32 : c;
}

function scanLetters(text: string, j: number, end: number): number {
  while (j < end) {
    const c = text.charCodeAt(j);
    if (c < 0xd800 || c > 0xdbff) {
      if (BMP_CLASS[c] !== LETTER) return j;
      j++;
    } else {
      if (classAt(text, j, end) !== LETTER) return j;
      j += widthAt(text, j, end);
    }
  }
  return j;
}

function scanClass(text: string, j: number, end: number, cls: number, maxCount: number): number {
  let n = 0;
  while (j < end && n < maxCount) {
    const c = text.charCodeAt(j);
    if (c < 0xd800 || c > 0xdbff) {
      if (BMP_CLASS[c] !== cls) return j;
      j++;
    } else {
      if (classAt(text, j, end) !== cls) return j;
      j += widthAt(text, j, end);
    }
    n++;
  }
  return j;
}

/** Shared whitespace tail of both patterns: \s*[\r\n] (cl100k only), \s+(?!\S), \s+. All \s are BMP. */
function scanSpace(text: string, pos: number, end: number, newlines: boolean): number {
  let j = pos;
  let lastNl = -1;
  while (j < end) {
    const k = BMP_CLASS[text.charCodeAt(j)];
    if (k === NEWLINE) lastNl = j;
    else if (k !== SPACE) break;
    j++;
  }
  if (newlines && lastNl >= 0) return lastNl + 1;
  if (j === end) return j;
  return j - pos > 1 ? j - 1 : j;
}

/** cl100k_base (maxDigits 3) and Qwen2 (maxDigits 1). */
export function makeCl100kScanner(maxDigits: number): NextPreToken {
  return function nextCl100k(text: string, pos: number, end: number): number {
    const c = text.charCodeAt(pos);
    if (c === 39 && pos + 1 < end) {
      // '(?i:[sdmt]|ll|ve|re)
      const c1 = lowerAscii(text.charCodeAt(pos + 1));
      if (c1 === 115 || c1 === 100 || c1 === 109 || c1 === 116) return pos + 2;
      if (pos + 2 < end) {
        const c2 = lowerAscii(text.charCodeAt(pos + 2));
        if ((c1 === 108 && c2 === 108) || (c1 === 118 && c2 === 101) || (c1 === 114 && c2 === 101)) return pos + 3;
      }
    }
    const k = c < 0xd800 || c > 0xdbff ? BMP_CLASS[c] : classAt(text, pos, end);
    if (k === LETTER) return scanLetters(text, pos, end);
    if (k === NUMBER) return scanClass(text, pos, end, NUMBER, maxDigits);
    if (k !== NEWLINE) {
      // [^\r\n\p{L}\p{N}]?+\p{L}+ with a leading non-letter (OTHER or SPACE)
      const w = c < 0xd800 ? 1 : widthAt(text, pos, end);
      if (pos + w < end && classAt(text, pos + w, end) === LETTER) return scanLetters(text, pos + w, end);
      // ' ?[^\s\p{L}\p{N}]++[\r\n]*'
      let j = -1;
      if (k === OTHER) j = pos + w;
      else if (c === 32 && pos + 1 < end && classAt(text, pos + 1, end) === OTHER)
        j = pos + 1 + widthAt(text, pos + 1, end);
      if (j >= 0) {
        j = scanClass(text, j, end, OTHER, Infinity);
        while (j < end) {
          const d = text.charCodeAt(j);
          if (d !== 10 && d !== 13) break;
          j++;
        }
        return j;
      }
    }
    return scanSpace(text, pos, end, true);
  };
}

/** GPT-2 / Hugging Face ByteLevel(use_regex) pattern. */
export function nextGpt2(text: string, pos: number, end: number): number {
  const c = text.charCodeAt(pos);
  if (c === 39 && pos + 1 < end) {
    const c1 = text.charCodeAt(pos + 1);
    if (c1 === 115 || c1 === 116 || c1 === 109 || c1 === 100) return pos + 2;
    if (pos + 2 < end) {
      const c2 = text.charCodeAt(pos + 2);
      if ((c1 === 114 && c2 === 101) || (c1 === 118 && c2 === 101) || (c1 === 108 && c2 === 108)) return pos + 3;
    }
  }
  let s = pos;
  let k = c < 0xd800 || c > 0xdbff ? BMP_CLASS[c] : classAt(text, pos, end);
  if (c === 32 && pos + 1 < end) {
    const k1 = classAt(text, pos + 1, end);
    if (k1 === LETTER || k1 === NUMBER || k1 === OTHER) {
      s = pos + 1;
      k = k1;
    }
  }
  if (k === LETTER || k === NUMBER || k === OTHER) return scanClass(text, s, end, k, Infinity);
  return scanSpace(text, pos, end, false);
}

export const nextCl100k = makeCl100kScanner(3);
export const nextQwen2 = makeCl100kScanner(1);

export function scannerFor(kind: PreTokenizerKind): NextPreToken {
  return kind === 'cl100k' ? nextCl100k : kind === 'qwen2' ? nextQwen2 : nextGpt2;
}

/** A scanner for an arbitrary split pattern, through RegExp (slow path for unknown tokenizer.json patterns). */
export function regexScanner(pattern: string): NextPreToken {
  // Oniguruma's possessive quantifiers become greedy ones; for these split patterns that gives the same matches.
  const js = pattern.replace(/(\{\d+(?:,\d*)?\}|[?*+])\+/g, '$1');
  const re = new RegExp(js, 'gu');
  return (text: string, pos: number, end: number): number => {
    const sub = end === text.length ? text : text.slice(0, end);
    re.lastIndex = pos;
    for (;;) {
      const m = re.exec(sub);
      // text the pattern does not cover stays one piece up to the next match (Split "Isolated"), nothing dropped
      if (m === null) return end;
      if (m.index > pos) return m.index;
      if (m[0].length > 0) return pos + m[0].length;
      re.lastIndex = m.index + 1;
    }
  };
}

/** Split text into pre-token strings (convenience for tests and the playground; encode never builds this list). */
export function preTokenize(text: string, kind: PreTokenizerKind | NextPreToken = 'cl100k'): string[] {
  const next = typeof kind === 'function' ? kind : scannerFor(kind);
  const out: string[] = [];
  for (let pos = 0; pos < text.length;) {
    const e = next(text, pos, text.length);
    out.push(text.slice(pos, e));
    pos = e;
  }
  return out;
}
