// Character classes used by the hand-written pre-tokenizers. They reproduce what the JavaScript
// RegExp classes \p{L}, \p{N} and \s (u flag) say about a code point, because js-tiktoken (the id
// reference) runs the cl100k pattern with JavaScript's regex engine. ASCII and the whole BMP are
// answered from one table built once at load; astral code points are asked of RegExp and memoised.

export const OTHER = 0; // [^\s\p{L}\p{N}]
export const LETTER = 1; // \p{L}
export const NUMBER = 2; // \p{N}
export const SPACE = 3; // \s other than \r and \n
export const NEWLINE = 4; // \r or \n

const LETTER_RE = /^\p{L}$/u;
const NUMBER_RE = /^\p{N}$/u;
const SPACE_RE = /^\s$/u;

function classifyCodePoint(cp: number): number {
  if (cp === 10 || cp === 13) return NEWLINE;
  // lone surrogates are single code points to a u-mode RegExp, and belong to none of the classes
  if (cp >= 0xd800 && cp <= 0xdfff) return OTHER;
  const ch = String.fromCodePoint(cp);
  if (LETTER_RE.test(ch)) return LETTER;
  if (NUMBER_RE.test(ch)) return NUMBER;
  if (SPACE_RE.test(ch)) return SPACE;
  return OTHER;
}

/** Class of every BMP code unit (surrogates read as OTHER; pairs are resolved by `classAt`). */
export const BMP_CLASS: Uint8Array = (() => {
  const t = new Uint8Array(65536);
  for (let cp = 0; cp < 65536; cp++) t[cp] = classifyCodePoint(cp);
  return t;
})();

const astralClass = new Map<number, number>();

/** Class of an astral code point (rare in code, so memoised rather than tabled). */
export function astralClassOf(cp: number): number {
  let c = astralClass.get(cp);
  if (c === undefined) {
    c = classifyCodePoint(cp);
    astralClass.set(cp, c);
  }
  return c;
}

/** Class of the code point starting at index i (i < end). */
export function classAt(text: string, i: number, end: number): number {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff || i + 1 >= end) return BMP_CLASS[c];
  const d = text.charCodeAt(i + 1);
  if (d < 0xdc00 || d > 0xdfff) return OTHER;
  return astralClassOf(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
}

/** Width in UTF-16 code units of the code point starting at index i (i < end). */
export function widthAt(text: string, i: number, end: number): number {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff || i + 1 >= end) return 1;
  const d = text.charCodeAt(i + 1);
  return d >= 0xdc00 && d <= 0xdfff ? 2 : 1;
}
