import { PY_KEYWORDS, Token, lexPython, significant } from './python-lexer';

/**
 * The planting rules (version PLANT_RULES): every small, realistic bug that can be planted in a
 * Python solution, as text edits. Kinds:
 * - compare:        `<` ↔ `<=`, `>` ↔ `>=`, `==` ↔ `!=`
 * - arith:          binary `+` ↔ `-` (not next to a string literal), `+=` ↔ `-=`
 * - bool:           `and` ↔ `or`
 * - off_by_one:     a range() stop (or start literal) moved by one, a subscript index moved by one
 *                   (`x - 1` → `x`, `x` → `x + 1`, literal n → n ± 1)
 * - wrong_variable: one read of a local variable replaced by another variable of the same scope
 *                   (scopes: the function's parameters and assigned names, per `def`, by indentation)
 * - dropped_line:   a one-line simple statement that is not a return (nor a block header, pass,
 *                   break, raise, import or docstring) removed, where its block keeps a statement
 */
export const PLANT_RULES = 'seed-diffusion-plant-v1';

export type BugKind = 'compare' | 'arith' | 'bool' | 'off_by_one' | 'wrong_variable' | 'dropped_line';
export const BUG_KINDS: readonly BugKind[] = [
  'compare',
  'arith',
  'bool',
  'off_by_one',
  'wrong_variable',
  'dropped_line',
];

/** One edit of the solution text: replace [offset, offset + length) with `replacement`. */
export interface BugCandidate {
  kind: BugKind;
  offset: number;
  length: number;
  replacement: string;
  /** Human-readable rule, e.g. "`<` -> `<=`". */
  rule: string;
  /** 1-based line within the solution. */
  line: number;
}

const SWAPS: Record<string, string> = { '<': '<=', '<=': '<', '>': '>=', '>=': '>', '==': '!=', '!=': '==' };

/** Whether the token ends an operand (so a following + or - is binary). */
function endsOperand(t: Token | undefined): boolean {
  if (!t) return false;
  if (t.type === 'number' || t.type === 'string') return true;
  if (t.type === 'name') return !PY_KEYWORDS.has(t.text) || ['True', 'False', 'None'].includes(t.text);
  return t.text === ')' || t.text === ']' || t.text === '}';
}

/** Index of the bracket closing the one at sig[open], or -1. */
function closing(sig: Token[], open: number): number {
  for (let j = open + 1; j < sig.length; j++)
    if (sig[j].depth === sig[open].depth && /[)\]}]/.test(sig[j].text)) return j;
  return -1;
}

/** Edit moving an expression's value by one: `e - 1` → `e`, `e + 1` → `e`, literal n → n ± 1, else `e ± 1`. */
function shiftByOne(
  src: string,
  a: Token,
  b: Token,
  up: boolean,
): { offset: number; length: number; replacement: string } {
  const text = src.slice(a.start, b.end);
  const lit = /^(-?)\s*(\d+)$/.exec(text);
  if (lit) {
    const v = (lit[1] ? -1 : 1) * Number(lit[2]) + (up ? 1 : -1);
    return { offset: a.start, length: text.length, replacement: String(v) };
  }
  const trimmed = /^(.*\S)\s*[-+]\s*1$/s.exec(text);
  if (trimmed) return { offset: a.start, length: text.length, replacement: trimmed[1] };
  return { offset: a.start, length: text.length, replacement: `${text} ${up ? '+' : '-'} 1` };
}

function operatorCandidates(src: string, sig: Token[], out: BugCandidate[]): void {
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i];
    const prev = sig[i - 1];
    const next = sig[i + 1];
    const edit = (kind: BugKind, replacement: string) =>
      out.push({
        kind,
        offset: t.start,
        length: t.text.length,
        replacement,
        rule: `\`${t.text}\` -> \`${replacement}\``,
        line: t.line + 1,
      });
    if (t.type === 'op' && SWAPS[t.text]) edit('compare', SWAPS[t.text]);
    else if (t.type === 'op' && (t.text === '+' || t.text === '-')) {
      const stringy = prev?.type === 'string' || next?.type === 'string';
      if (endsOperand(prev) && next && !stringy) edit('arith', t.text === '+' ? '-' : '+');
    } else if (t.type === 'op' && (t.text === '+=' || t.text === '-=')) {
      if (next?.type !== 'string') edit('arith', t.text === '+=' ? '-=' : '+=');
    } else if (t.type === 'name' && (t.text === 'and' || t.text === 'or'))
      edit('bool', t.text === 'and' ? 'or' : 'and');
  }
}

function offByOneCandidates(src: string, sig: Token[], out: BugCandidate[]): void {
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i];
    // range(stop) / range(start, stop[, step])
    if (t.type === 'name' && t.text === 'range' && sig[i + 1]?.text === '(' && sig[i - 1]?.text !== '.') {
      const close = closing(sig, i + 1);
      if (close < 0) continue;
      const args: Array<[number, number]> = [];
      let from = i + 2;
      for (let j = i + 2; j <= close; j++) {
        if (j === close || (sig[j].text === ',' && sig[j].depth === sig[i + 1].depth + 1)) {
          if (j > from) args.push([from, j - 1]);
          from = j + 1;
        }
      }
      if (args.length === 0 || args.length > 3) continue;
      const [sa, sb] = args.length === 1 ? args[0] : args[1];
      const up = /[-+]\s*1$/.test(src.slice(sig[sa].start, sig[sb].end)) ? false : true;
      const e = shiftByOne(src, sig[sa], sig[sb], up);
      out.push({
        kind: 'off_by_one',
        ...e,
        rule: `range stop \`${src.slice(e.offset, e.offset + e.length)}\` -> \`${e.replacement}\``,
        line: t.line + 1,
      });
      if (args.length >= 2 && /^\d+$/.test(src.slice(sig[args[0][0]].start, sig[args[0][1]].end))) {
        const s = shiftByOne(
          src,
          sig[args[0][0]],
          sig[args[0][1]],
          src.slice(sig[args[0][0]].start, sig[args[0][1]].end) === '0',
        );
        out.push({
          kind: 'off_by_one',
          ...s,
          rule: `range start \`${src.slice(s.offset, s.offset + s.length)}\` -> \`${s.replacement}\``,
          line: t.line + 1,
        });
      }
    }
    // x[i] (a subscript, not a slice, not a literal list, not a string key)
    if (t.text === '[' && t.type === 'op' && endsOperand(sig[i - 1]) && sig[i - 1].type !== 'number') {
      const close = closing(sig, i);
      if (close <= i + 1) continue;
      const inner = sig.slice(i + 1, close);
      if (
        inner.some(
          (x) =>
            x.depth === t.depth + 1 && (x.text === ':' || x.text === ',' || (x.type === 'name' && x.text === 'for')),
        )
      )
        continue;
      if (inner.some((x) => x.type === 'string')) continue;
      const text = src.slice(inner[0].start, inner[inner.length - 1].end);
      const up = !/-\s*1$/.test(text) && text !== '-1';
      const e = shiftByOne(src, inner[0], inner[inner.length - 1], up);
      out.push({ kind: 'off_by_one', ...e, rule: `index \`${text}\` -> \`${e.replacement}\``, line: t.line + 1 });
    }
  }
}

/** Parameter names between sig[open] = '(' and its closing bracket. */
function paramNames(sig: Token[], open: number): string[] {
  const close = closing(sig, open);
  const names: string[] = [];
  for (let j = open + 1; j < close; j++) {
    const t = sig[j];
    if (t.type !== 'name' || t.depth !== sig[open].depth + 1 || PY_KEYWORDS.has(t.text)) continue;
    const p = sig[j - 1].text;
    if (p === '(' || p === ',' || p === '*' || p === '**') names.push(t.text);
  }
  return names;
}

const indentOf = (line: string) => /^[ \t]*/.exec(line)![0].length;

function wrongVariableCandidates(prompt: string, src: string, sig: Token[], out: BugCandidate[]): void {
  const lines = src.split('\n');
  // parameters of the function the solution completes: the last def in the prompt
  const psig = significant(lexPython(prompt));
  let entryParams: string[] = [];
  for (let j = psig.length - 1; j >= 0; j--)
    if (psig[j].text === 'def' && psig[j + 2]?.text === '(') {
      entryParams = paramNames(psig, j + 2);
      break;
    }
  // scope of each solution line: innermost def of the solution whose body it is in, else 'entry'/'module'
  const scopeOfLine: string[] = [];
  const stack: Array<{ indent: number; id: string }> = [];
  const vars = new Map<string, Set<string>>([
    ['entry', new Set(entryParams)],
    ['module', new Set()],
  ]);
  const defLines = new Map<number, number>(); // line -> index of the def token in sig
  sig.forEach((t, i) => t.text === 'def' && t.type === 'name' && defLines.set(t.line, i));
  for (let l = 0; l < lines.length; l++) {
    const text = lines[l];
    if (text.trim() === '' || text.trim().startsWith('#')) {
      scopeOfLine.push(stack.length ? stack[stack.length - 1].id : 'entry');
      continue;
    }
    const ind = indentOf(text);
    while (stack.length && stack[stack.length - 1].indent >= ind) stack.pop();
    scopeOfLine.push(stack.length ? stack[stack.length - 1].id : ind > 0 ? 'entry' : 'module');
    const d = defLines.get(l);
    if (d !== undefined && sig[d + 2]?.text === '(') {
      const id = `def@${l}`;
      stack.push({ indent: ind, id });
      vars.set(id, new Set(paramNames(sig, d + 2)));
    }
  }
  // names bound by assignment or a statement-level for; comprehension targets are excluded entirely
  const comprehension = new Set<string>();
  const forTarget = new Set<number>();
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i];
    if (t.type === 'name' && t.text === 'for') {
      for (let j = i + 1; j < sig.length && sig[j].text !== 'in'; j++)
        if (sig[j].type === 'name') {
          forTarget.add(j);
          if (t.depth > 0) comprehension.add(sig[j].text);
          else vars.get(scopeOfLine[t.line])?.add(sig[j].text);
        }
    }
    if (t.type === 'op' && /^([-+*/%&|^@]|\/\/|\*\*|<<|>>)?=$/.test(t.text) && t.depth === 0) {
      for (let j = i - 1; j >= 0 && sig[j].line === t.line && sig[j].depth === 0; j--) {
        const x = sig[j];
        if (
          x.type === 'name' &&
          !PY_KEYWORDS.has(x.text) &&
          sig[j - 1]?.text !== '.' &&
          !['.', '['].includes(sig[j + 1]?.text)
        )
          vars.get(scopeOfLine[x.line])?.add(x.text);
      }
    }
  }
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i];
    if (t.type !== 'name' || PY_KEYWORDS.has(t.text) || forTarget.has(i) || comprehension.has(t.text)) continue;
    const prev = sig[i - 1]?.text;
    const next = sig[i + 1]?.text ?? '';
    if (prev === '.' || prev === 'def' || next === '(' || /^([-+*/%&|^@]|\/\/|\*\*|<<|>>)?=$/.test(next)) continue;
    if (t.depth > 0 && next === '=') continue; // keyword argument
    const scope = vars.get(scopeOfLine[t.line]);
    if (!scope?.has(t.text)) continue;
    const others = [...scope].filter((n) => n !== t.text && !comprehension.has(n)).sort();
    for (const other of others)
      out.push({
        kind: 'wrong_variable',
        offset: t.start,
        length: t.text.length,
        replacement: other,
        rule: `\`${t.text}\` -> \`${other}\``,
        line: t.line + 1,
      });
  }
}

const UNDROPPABLE = new Set([
  'return',
  'def',
  'class',
  'if',
  'elif',
  'else',
  'for',
  'while',
  'try',
  'except',
  'finally',
  'with',
  'pass',
  'global',
  'nonlocal',
  'import',
  'from',
  'yield',
  'raise',
  'break',
  'async',
  'lambda',
  'assert',
]);

function droppedLineCandidates(src: string, tokens: Token[], out: BugCandidate[]): void {
  const lines = src.split('\n');
  const starts: number[] = [];
  let at = 0;
  for (const l of lines) {
    starts.push(at);
    at += l.length + 1;
  }
  const byLine = new Map<number, Token[]>();
  for (const t of tokens)
    if (t.type !== 'comment' && t.type !== 'newline') byLine.set(t.line, [...(byLine.get(t.line) ?? []), t]);
  const code = (l: number) => lines[l] !== undefined && lines[l].trim() !== '' && !lines[l].trim().startsWith('#');
  // lines whose start lies inside a multi-line string or bracket
  const lineAt = (offset: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const continued = new Set<number>();
  for (const t of tokens) {
    const endLine = lineAt(Math.max(t.start, t.end - 1));
    for (let l = t.line + 1; l <= endLine; l++) continued.add(l);
  }
  for (const t of tokens) if (t.type === 'newline' && t.depth > 0) continued.add(t.line + 1);
  for (let l = 0; l < lines.length; l++) {
    const toks = byLine.get(l);
    if (!toks || continued.has(l) || continued.has(l + 1) || /\\$/.test(lines[l])) continue;
    const first = toks[0];
    const last = toks[toks.length - 1];
    if (first.depth !== 0 || first.type === 'string' || UNDROPPABLE.has(first.text) || first.text === '@') continue;
    if (last.text === ':' || toks.some((x) => x.text === ';')) continue;
    if (lineAt(last.end - 1) !== l) continue;
    const ind = indentOf(lines[l]);
    let p = l - 1;
    while (p >= 0 && !code(p)) p--;
    let n = l + 1;
    while (n < lines.length && !code(n)) n++;
    const sibling =
      (p >= 0 && !continued.has(p) && indentOf(lines[p]) === ind && !/:\s*(#.*)?$/.test(lines[p])) ||
      (n < lines.length && indentOf(lines[n]) === ind);
    if (!sibling) continue;
    out.push({
      kind: 'dropped_line',
      offset: starts[l],
      length: lines[l].length + 1,
      replacement: '',
      rule: `drop \`${lines[l].trim()}\``,
      line: l + 1,
    });
  }
}

/** Every bug the rules allow in `solution` (the code that completes `prompt`), in text order. */
export function bugCandidates(prompt: string, solution: string): BugCandidate[] {
  const tokens = lexPython(solution);
  const sig = significant(tokens);
  const out: BugCandidate[] = [];
  operatorCandidates(solution, sig, out);
  offByOneCandidates(solution, sig, out);
  wrongVariableCandidates(prompt, solution, sig, out);
  droppedLineCandidates(solution, tokens, out);
  return out
    .filter((c) => c.replacement !== solution.slice(c.offset, c.offset + c.length))
    .sort((a, b) => a.offset - b.offset || a.kind.localeCompare(b.kind));
}

export function applyBug(solution: string, c: BugCandidate): string {
  return solution.slice(0, c.offset) + c.replacement + solution.slice(c.offset + c.length);
}
