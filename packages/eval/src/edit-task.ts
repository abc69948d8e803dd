// One code-editing task, whatever file it came from: the program to edit, the instruction, the tests
// that decide, and (where the source has one) the reference fix.
import type { BugKind } from './bug-candidates';
import type { Language } from './types';

/** Where a task came from: `eval plant` output, HumanEvalPack (HumanEvalFix) rows, CanItEdit rows. */
export type EditFormat = 'planted' | 'humanevalpack' | 'canitedit';

export interface EditTask {
  taskId: string;
  sourceTaskId: string;
  language: Language;
  /** The function the tests call (null: the tests call what they need, e.g. CanItEdit). */
  entryPoint: string | null;
  /** What the model is asked to do; given as a prompt comment, never part of the program. */
  instruction: string;
  /** The program to edit (whole: imports, helpers, the function). */
  before: string;
  /** The reference fix (whole program); null when the source has none. */
  after: string | null;
  test: string;
  /**
   * The start of the function that regenerate mode rewrites, as a prefix of `before` the model continues
   * (its signature, docstring included when the source has one there); '' = the whole program.
   */
  head: string;
  format: EditFormat;
  /** The planted bug (format 'planted'). */
  bug?: { kind: BugKind; rule: string; line: number; offset: number; from: string; to: string };
  /** How it was planted (format 'planted'). */
  plant?: {
    seed: number;
    rules: string;
    rng: string;
    attempt: number;
    candidates: number;
    verified: { before: string; after: string };
  };
}

/** A task made by `eval plant`: Python, with its bug and how it was planted. */
export interface PlantedTask extends EditTask {
  language: 'python';
  after: string;
  bug: NonNullable<EditTask['bug']>;
  plant: NonNullable<EditTask['plant']>;
}

/**
 * The head of `entryPoint`'s definition in `program`: everything up to the end of its signature and,
 * in Python, of a docstring right after it (the function's body is what a regenerating model writes).
 * '' when the function is not found (the whole program is regenerated).
 */
export function functionHead(program: string, entryPoint: string | null, language: Language): string {
  if (!entryPoint) return '';
  const name = entryPoint.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (language === 'python') {
    const def = new RegExp(`^(?:async\\s+)?def\\s+${name}\\s*\\(`, 'm').exec(program);
    if (!def) return '';
    // the signature ends at the first ':' closing the header line (parameters may span lines)
    const sig = /\)\s*(?:->[^:\n]*)?:[ \t]*(?:#[^\n]*)?\n/g;
    sig.lastIndex = def.index;
    const s = sig.exec(program);
    if (!s) return '';
    let end = s.index + s[0].length;
    const doc = /^[ \t]+[rRbBuU]?("""|''')[\s\S]*?\1[ \t]*\n/.exec(program.slice(end));
    if (doc) end += doc[0].length;
    return program.slice(0, end);
  }
  // JS / TS: `function name(...) {`, `const name = (...) => {`, `const name = function (...) {`
  const decl = new RegExp(
    `^[ \\t]*(?:export\\s+)?(?:async\\s+)?(?:function\\s*\\*?\\s*${name}\\b|(?:const|let|var)\\s+${name}\\b)`,
    'm',
  ).exec(program);
  if (!decl) return '';
  // the body starts after the first line that ends with '{' (parameters may hold braces of their own)
  const open = /\{[ \t]*(?:\/\/[^\n]*)?\n/g;
  open.lastIndex = decl.index;
  const o = open.exec(program);
  return o ? program.slice(0, o.index + o[0].length) : '';
}
