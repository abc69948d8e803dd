// A task's composition (a pipeline of primitives), drawn from the grammar, and how it becomes
// Python code, a function name and a docstring sentence.
//
// List-like families (ints, words, chars): an optional condition, an optional transformation and a
// reducer, written as one comprehension-shaped expression (or a loop, for product and index-of).
// The scalar family: one or two chained transformations of n, optionally under a condition
// (`if C: return E1` / `return E2`).
import {
  CHAR_CONDS,
  CHAR_MAPS,
  type Cond,
  type CondSpec,
  type ElemType,
  type Family,
  INT_CONDS,
  INT_MAPS,
  type MapOp,
  type MapSpec,
  NOUNS,
  WORD_CONDS,
  WORD_MAPS,
} from './primitives';
import type { TaskRng } from './rng';

export type Level = 1 | 2 | 3;
export const LEVELS: readonly Level[] = [1, 2, 3];

export type ReducerId =
  'list' | 'sum' | 'max' | 'min' | 'count' | 'any' | 'none' | 'index' | 'product' | 'join' | 'joinsep' | 'scalar';

export interface Pipeline {
  family: Family;
  level: Level;
  cond?: Cond;
  map?: MapOp;
  /** Scalar family: the second transformation (applied after `map`), or the else-branch's one. */
  map2?: MapOp;
  reducer: ReducerId;
  /** joinsep's separator. */
  sep?: string;
}

/** Reducers that add a step (list/join on chars only collect, and count as no step). */
const COLLECTORS: ReducerId[] = ['list', 'join'];

interface ReducerRule {
  id: ReducerId;
  /** Needs a condition and no transformation (count, any, none, index). */
  condOnly?: boolean;
  /** Element type it accepts. */
  of: ElemType;
  /** May stand alone on the source (sum(xs)). */
  alone?: boolean;
}

const REDUCERS: Record<Exclude<Family, 'scalar'>, ReducerRule[]> = {
  ints: [
    { id: 'list', of: 'int' },
    { id: 'sum', of: 'int', alone: true },
    { id: 'max', of: 'int', alone: true },
    { id: 'min', of: 'int', alone: true },
    { id: 'product', of: 'int', alone: true },
    { id: 'count', of: 'int', condOnly: true },
    { id: 'any', of: 'int', condOnly: true },
    { id: 'none', of: 'int', condOnly: true },
    { id: 'index', of: 'int', condOnly: true },
  ],
  words: [
    { id: 'list', of: 'str' },
    { id: 'join', of: 'str', alone: false },
    { id: 'joinsep', of: 'str' },
    { id: 'count', of: 'str', condOnly: true },
    { id: 'list', of: 'int' },
    { id: 'sum', of: 'int' },
    { id: 'max', of: 'int' },
  ],
  chars: [
    { id: 'join', of: 'str' },
    { id: 'joinsep', of: 'str' },
    { id: 'count', of: 'str', condOnly: true },
  ],
};

const CONDS: Record<Family, CondSpec[]> = { ints: INT_CONDS, words: WORD_CONDS, chars: CHAR_CONDS, scalar: INT_CONDS };
const MAPS: Record<Family, MapSpec[]> = { ints: INT_MAPS, words: WORD_MAPS, chars: CHAR_MAPS, scalar: INT_MAPS };

function cond(spec: CondSpec, rng: TaskRng): Cond {
  const { k, ...rest } = spec.make(rng);
  return { id: spec.id, key: k === undefined ? spec.id : `${spec.id}(${k})`, ...rest };
}

function mapOp(spec: MapSpec, rng: TaskRng): MapOp {
  const { k, ...rest } = spec.make(rng);
  return { id: spec.id, key: k === undefined ? spec.id : `${spec.id}(${k})`, ...rest };
}

/** The number of steps a pipeline takes: its level. */
export function steps(p: Pipeline): number {
  if (p.family === 'scalar') return 1 + (p.cond ? 1 : 0) + (p.map2 ? 1 : 0);
  const collector = COLLECTORS.includes(p.reducer) && !(p.family === 'words' && p.reducer === 'join');
  return (p.cond ? 1 : 0) + (p.map ? 1 : 0) + (collector ? 0 : 1);
}

/** Draws a pipeline of the given family and level (rejection sampling over the grammar). */
export function drawPipeline(family: Family, level: Level, rng: TaskRng): Pipeline {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const p = family === 'scalar' ? drawScalar(level, rng) : drawListLike(family, rng);
    if (p && steps({ ...p, level }) === level) return { ...p, level };
  }
  throw new Error(`drawPipeline: no ${family} pipeline of level ${level} found`);
}

function drawScalar(level: Level, rng: TaskRng): Omit<Pipeline, 'level'> {
  const m = () => mapOp(rng.pick(INT_MAPS), rng);
  const p: Omit<Pipeline, 'level'> = { family: 'scalar', map: m(), reducer: 'scalar' };
  if (level === 2) {
    if (rng.chance(0.5)) p.map2 = m();
    else p.cond = cond(rng.pick(INT_CONDS.filter((c) => c.id !== 'helper')), rng);
  } else if (level === 3) {
    p.cond = cond(rng.pick(INT_CONDS), rng);
    do p.map2 = m();
    while (p.map2.key === p.map!.key);
  }
  return p;
}

function drawListLike(family: Exclude<Family, 'scalar'>, rng: TaskRng): Omit<Pipeline, 'level'> | null {
  const c = rng.chance(0.6) ? cond(rng.pick(CONDS[family]), rng) : undefined;
  const m = rng.chance(0.55) ? mapOp(rng.pick(MAPS[family]), rng) : undefined;
  const elem: ElemType = m ? m.out : family === 'ints' ? 'int' : 'str';
  const rules = REDUCERS[family].filter(
    (r) => r.of === elem && (!r.condOnly || (c && !m)) && (c || m || r.alone === true),
  );
  if (rules.length === 0) return null;
  const r = rng.pick(rules);
  const p: Omit<Pipeline, 'level'> = { family, cond: c, map: m, reducer: r.id };
  if (r.id === 'joinsep') p.sep = rng.pick(['-', ',', '_', '+']);
  return p;
}

/** The composition without constants: the unit of held-out compositions at levels 2 and 3. */
export function compositionId(p: Pipeline): string {
  return [p.family, p.reducer, p.cond?.id ?? '-', p.map?.id ?? '-', p.map2?.id ?? '-'].join('|');
}

/** The composition with its constants: the unit held out at level 1 (one primitive, a new constant). */
export function compositionKey(p: Pipeline): string {
  return [
    p.family,
    p.reducer + (p.sep ? `(${p.sep})` : ''),
    p.cond?.key ?? '-',
    p.map?.key ?? '-',
    p.map2?.key ?? '-',
  ].join('|');
}

/** The primitives a pipeline uses (for the card's coverage table). */
export function primitivesOf(p: Pipeline): string[] {
  const out = [`reducer:${p.reducer}`];
  if (p.cond) out.push(`cond:${p.cond.id}`);
  if (p.map) out.push(`map:${p.map.id}`);
  if (p.map2) out.push(`map:${p.map2.id}`);
  return out.map((x) => `${p.family}.${x}`);
}

// ---------------------------------------------------------------- code

/** Python parameter list of the entry point. */
export function params(p: Pipeline): string {
  return p.family === 'ints' ? 'xs' : p.family === 'scalar' ? 'n' : 's';
}

const ELEM: Record<Exclude<Family, 'scalar'>, string> = { ints: 'x', words: 'w', chars: 'c' };
const SOURCE: Record<Exclude<Family, 'scalar'>, string> = { ints: 'xs', words: 's.split()', chars: 's' };

/** The function body (4-space indented lines, ending in a newline). */
export function solution(p: Pipeline): string {
  if (p.family === 'scalar') return scalarSolution(p);
  const v = ELEM[p.family];
  const src = SOURCE[p.family];
  const e = p.map ? p.map.code(v) : v;
  const c = p.cond ? ` if ${p.cond.code(v)}` : '';
  const gen = `${e} for ${v} in ${src}${c}`;
  const plain = !p.cond && !p.map;
  switch (p.reducer) {
    case 'list':
      return `    return [${gen}]\n`;
    case 'sum':
      return plain ? `    return sum(${src})\n` : `    return sum(${gen})\n`;
    case 'max':
    case 'min':
      return plain ? `    return ${p.reducer}(${src}, default=0)\n` : `    return ${p.reducer}((${gen}), default=0)\n`;
    case 'count':
      return `    return len([${gen}])\n`;
    case 'any':
      return `    return any(${p.cond!.code(v)} for ${v} in ${src})\n`;
    case 'none':
      return `    return not any(${p.cond!.code(v)} for ${v} in ${src})\n`;
    case 'index':
      return (
        `    for i, ${v} in enumerate(${src}):\n` +
        `        if ${p.cond!.code(v)}:\n` +
        `            return i\n` +
        `    return -1\n`
      );
    case 'product':
      return (
        `    result = 1\n` +
        `    for ${v} in ${src}:\n` +
        (p.cond ? `        if ${p.cond.code(v)}:\n            result *= ${e}\n` : `        result *= ${e}\n`) +
        `    return result\n`
      );
    case 'join':
      return `    return ${p.family === 'chars' ? "''" : "' '"}.join(${gen})\n`;
    case 'joinsep':
      return `    return '${p.sep}'.join(${gen})\n`;
    default:
      throw new Error(`solution: reducer ${p.reducer} does not apply to ${p.family}`);
  }
}

const ATOM = /^[A-Za-z_][A-Za-z_0-9]*$/;

function scalarSolution(p: Pipeline): string {
  const m = p.map!;
  if (p.cond && p.map2)
    return `    if ${p.cond.code('n')}:\n        return ${m.code('n')}\n    return ${p.map2.code('n')}\n`;
  if (p.cond) return `    if ${p.cond.code('n')}:\n        return ${m.code('n')}\n    return n\n`;
  if (p.map2) {
    const inner = m.code('n');
    return `    return ${p.map2.code(ATOM.test(inner) || p.map2.id === 'abs' ? inner : `(${inner})`)}\n`;
  }
  return `    return ${m.code('n')}\n`;
}

/** Helper functions the prompt defines before the entry point (the helper-call primitive). */
export function helpers(p: Pipeline): string {
  return p.cond?.helper ? `${p.cond.helper}\n\n` : '';
}

// ---------------------------------------------------------------- names and words

const RNAME: Record<ReducerId, string> = {
  list: '',
  sum: 'sum',
  max: 'max',
  min: 'min',
  count: 'count',
  any: 'has',
  none: 'no',
  index: 'index_of_first',
  product: 'product',
  join: 'join',
  joinsep: 'join',
  scalar: '',
};
const SEP_NAME: Record<string, string> = { '-': 'dash', ',': 'comma', _: 'underscore', '+': 'plus' };
const FNOUN: Record<Family, string> = { ints: 'numbers', words: 'words', chars: 'chars', scalar: '' };

/** The entry point's name: the composition's fragments, so a new composition gets a new name. */
export function entryName(p: Pipeline): string {
  let parts: string[];
  if (p.family === 'scalar') {
    parts = p.cond
      ? [`if_${p.cond.name}`, p.map!.name, p.map2 ? `else_${p.map2.name}` : '']
      : [p.map!.name, p.map2 ? `then_${p.map2.name}` : ''];
  } else {
    const r =
      p.reducer === 'joinsep'
        ? `join_${SEP_NAME[p.sep ?? '-']}`
        : p.family === 'chars' && p.reducer === 'join'
          ? ''
          : RNAME[p.reducer];
    parts = [r, p.map?.name ?? '', p.cond?.name ?? '', FNOUN[p.family]];
  }
  return parts.filter(Boolean).join('_').replace(/__+/g, '_');
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** One docstring sentence in varied wording (the rng picks synonyms and sentence shapes). */
export function describe(p: Pipeline, rng: TaskRng): string {
  if (p.family === 'scalar') return describeScalar(p, rng);
  const noun = NOUNS[p.family];
  const src = p.family === 'ints' ? 'xs' : 's';
  const where = p.family === 'ints' ? `in ${src}` : `of ${src}`;
  const clause = p.cond ? rng.pick(p.cond.clauses) : '';
  // the elements in play, before any transformation: "the numbers in xs that are even"
  const base = `the ${noun.plural} ${where}${clause ? ` ${clause}` : ''}`;
  // after the transformation: "each of the numbers in xs that are even, doubled" in one of its phrases
  const items = p.map
    ? rng.pick(p.map.phrases).replace('N', p.cond ? `each of ${base}` : `${rng.pick(noun.each)} ${where}`)
    : base;
  switch (p.reducer) {
    case 'list':
      return rng.pick([
        `Return a list of ${items}.`,
        `Return ${items}, as a list.`,
        `Build and return the list of ${items}.`,
      ]);
    case 'sum':
      return rng.pick([
        `Return the sum of ${items}.`,
        `Return the total of ${items}.`,
        `Add up ${items} and return the result.`,
      ]);
    case 'max':
      return rng.pick([
        `Return the largest of ${items}, or 0 if there are none.`,
        `Return the maximum of ${items} (0 when there are none).`,
      ]);
    case 'min':
      return rng.pick([
        `Return the smallest of ${items}, or 0 if there are none.`,
        `Return the minimum of ${items} (0 when there are none).`,
      ]);
    case 'product':
      return rng.pick([
        `Return the product of ${items} (1 if there are none).`,
        `Multiply together ${items} and return the result, or 1 when there are none.`,
      ]);
    case 'count':
      return rng.pick([
        `Count ${base}.`,
        `Return how many ${noun.plural} ${where} there are ${clause}.`,
        `Return the number of ${noun.plural} ${where} ${clause}.`,
      ]);
    case 'any':
      return rng.pick([
        `Return True if there are ${noun.plural} ${where} ${clause}, otherwise False.`,
        `Return whether ${src} has any ${noun.plural} ${clause}.`,
      ]);
    case 'none':
      return rng.pick([
        `Return True if there are no ${noun.plural} ${where} ${clause}, otherwise False.`,
        `Return whether ${src} has no ${noun.plural} ${clause}.`,
      ]);
    case 'index':
      return rng.pick([
        `Return the index of the first of ${base}, or -1 if there is none.`,
        `Return the position of the first of ${base} (-1 when there is none).`,
      ]);
    case 'join':
      return p.family === 'chars'
        ? rng.pick([`Return a string made of ${items}.`, `Join ${items} into a string and return it.`])
        : rng.pick([`Return ${items}, joined with spaces.`, `Return a string of ${items}, separated by spaces.`]);
    case 'joinsep':
      return rng.pick([
        `Return ${items}, joined by '${p.sep}'.`,
        `Return a string of ${items}, separated by '${p.sep}'.`,
      ]);
    default:
      throw new Error(`describe: reducer ${p.reducer}`);
  }
}

function isClause(c: Cond, rng: TaskRng): string {
  const adj = c.clauses.filter((x) => /^(that|which) are /.test(x));
  if (adj.length === 0) return `n is accepted by ${c.name}`;
  return `n is ${rng.pick(adj).replace(/^(that|which) are /, '')}`;
}

function describeScalar(p: Pipeline, rng: TaskRng): string {
  const m = p.map!;
  const one = (op: MapOp, n: string) => rng.pick(op.phrases).replace('N', n);
  if (p.cond && p.map2) {
    const c = isClause(p.cond, rng);
    return rng.pick([
      `If ${c}, return ${one(m, 'n')}; otherwise return ${one(p.map2, 'n')}.`,
      `Return ${one(m, 'n')} when ${c}, and ${one(p.map2, 'n')} otherwise.`,
    ]);
  }
  if (p.cond) {
    const c = isClause(p.cond, rng);
    return rng.pick([
      `If ${c}, return ${one(m, 'n')}; otherwise return n unchanged.`,
      `Return ${one(m, 'n')} when ${c}, and n itself otherwise.`,
    ]);
  }
  if (p.map2) {
    return rng.pick([
      `Compute ${one(m, 'n')}; then return ${one(p.map2, 'the result')}.`,
      `Return ${one(p.map2, `(${one(m, 'n')})`)}.`,
    ]);
  }
  return cap(rng.pick([`return ${one(m, 'n')}.`, `return the value of ${one(m, 'n')}.`]));
}
