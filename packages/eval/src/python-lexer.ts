/**
 * A small Python lexer for bug planting: enough to find operators, names, numbers and brackets
 * outside strings and comments, with their offsets, line numbers and bracket depth. It does not
 * build a syntax tree; the planted variants are verified by running them.
 */

export type TokenType = 'name' | 'number' | 'string' | 'op' | 'comment' | 'newline';

export interface Token {
  type: TokenType;
  text: string;
  start: number;
  end: number;
  /** 0-based physical line of the token's start. */
  line: number;
  /** Bracket depth before this token. */
  depth: number;
}

export const PY_KEYWORDS = new Set([
  'False',
  'None',
  'True',
  'and',
  'as',
  'assert',
  'async',
  'await',
  'break',
  'class',
  'continue',
  'def',
  'del',
  'elif',
  'else',
  'except',
  'finally',
  'for',
  'from',
  'global',
  'if',
  'import',
  'in',
  'is',
  'lambda',
  'nonlocal',
  'not',
  'or',
  'pass',
  'raise',
  'return',
  'try',
  'while',
  'with',
  'yield',
]);

const OPERATORS = [
  '**=',
  '//=',
  '>>=',
  '<<=',
  '...',
  '->',
  ':=',
  '**',
  '//',
  '<<',
  '>>',
  '<=',
  '>=',
  '==',
  '!=',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '@=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '@',
  '<',
  '>',
  '=',
  '&',
  '|',
  '^',
  '~',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  ':',
  '.',
  ';',
  '!',
];

const STRING_START = /^(?:[rRbBuUfF]{0,2})("""|'''|"|')/;

export function lexPython(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 0;
  let depth = 0;
  const push = (type: TokenType, start: number, end: number) => {
    tokens.push({ type, text: src.slice(start, end), start, end, line, depth });
  };
  while (i < src.length) {
    const ch = src[i];
    if (ch === '\n') {
      push('newline', i, i + 1);
      i++;
      line++;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f') {
      i++;
      continue;
    }
    if (ch === '\\' && src[i + 1] === '\n') {
      i += 2;
      line++;
      continue;
    }
    if (ch === '#') {
      let j = i;
      while (j < src.length && src[j] !== '\n') j++;
      push('comment', i, j);
      i = j;
      continue;
    }
    const str = STRING_START.exec(src.slice(i, i + 5));
    if (str && (str[0].length === str[1].length || /[A-Za-z]/.test(ch))) {
      const quote = str[1];
      let j = i + str[0].length;
      const startLine = line;
      while (j < src.length) {
        if (src[j] === '\\') {
          if (src[j + 1] === '\n') line++;
          j += 2;
          continue;
        }
        if (src.startsWith(quote, j)) {
          j += quote.length;
          break;
        }
        if (src[j] === '\n') {
          if (quote.length === 1) break; // unterminated single-quoted string: stop at the line end
          line++;
        }
        j++;
      }
      tokens.push({ type: 'string', text: src.slice(i, j), start: i, end: j, line: startLine, depth });
      i = j;
      continue;
    }
    if (/[A-Za-z_\u00c0-\uffff]/.test(ch)) {
      let j = i + 1;
      while (j < src.length && /[A-Za-z0-9_\u00c0-\uffff]/.test(src[j])) j++;
      push('name', i, j);
      i = j;
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:0[xXoObB][0-9a-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?[jJ]?)/.exec(src.slice(i));
      const j = i + (m ? m[0].length : 1);
      push('number', i, j);
      i = j;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    const j = i + (op ? op.length : 1);
    if (op === ')' || op === ']' || op === '}') depth = Math.max(0, depth - 1);
    push('op', i, j);
    if (op === '(' || op === '[' || op === '{') depth++;
    i = j;
  }
  return tokens;
}

/** Tokens that carry code (no comments or newlines). */
export function significant(tokens: readonly Token[]): Token[] {
  return tokens.filter((t) => t.type !== 'comment' && t.type !== 'newline');
}
