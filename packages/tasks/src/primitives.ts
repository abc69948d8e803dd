// The grammar's primitives: conditions (filters), transformations (maps) and reducers, each with its
// Python code, the words that may describe it in a docstring, and the fragment it adds to a function
// name. A primitive with a constant (`above k`) is instantiated with a drawn k; its `id` names the
// primitive without the constant (used for held-out compositions), its `key` with it.
import type { TaskRng } from './rng';

/** The kinds of value a pipeline carries: the element type decides which primitives may follow. */
export type ElemType = 'int' | 'str';

/** What a pipeline iterates over: integers of a list, words of a string, characters of a string, or one integer. */
export type Family = 'ints' | 'words' | 'chars' | 'scalar';

export const FAMILIES: readonly Family[] = ['ints', 'words', 'chars', 'scalar'];

/** One instantiated condition on an element `v` (its code is a Python boolean expression in v). */
export interface Cond {
  id: string;
  key: string;
  code: (v: string) => string;
  /** Relative clauses: "that are even", "which start with 'a'". */
  clauses: string[];
  /** Function-name fragment: even, above_5, starting_with_a. */
  name: string;
  /** A helper function the prompt defines and the code calls (the "small helper call" primitive). */
  helper?: string;
}

/** One instantiated transformation of an element `v` into a value of type `out`. */
export interface MapOp {
  id: string;
  key: string;
  code: (v: string) => string;
  /** Noun phrases with N standing for the element: "N doubled", "the square of N". */
  phrases: string[];
  name: string;
  out: ElemType;
}

export interface CondSpec {
  id: string;
  of: ElemType;
  make: (rng: TaskRng) => Omit<Cond, 'id' | 'key'> & { k?: string | number };
}

export interface MapSpec {
  id: string;
  of: ElemType;
  make: (rng: TaskRng) => Omit<MapOp, 'id' | 'key'> & { k?: string | number };
}

const are = (adjs: string[]): string[] => adjs.flatMap((a) => [`that are ${a}`, `which are ${a}`]);

const LETTERS = 'abcdeilmnoprst';
const HELPER_ADJ = ['lucky', 'special', 'nice', 'good', 'valid', 'interesting', 'fancy', 'odd_looking'];

// ---------------------------------------------------------------- conditions on integers
export const INT_CONDS: CondSpec[] = [
  { id: 'even', of: 'int', make: () => ({ code: (v) => `${v} % 2 == 0`, clauses: are(['even']), name: 'even' }) },
  { id: 'odd', of: 'int', make: () => ({ code: (v) => `${v} % 2 == 1`, clauses: are(['odd']), name: 'odd' }) },
  {
    id: 'positive',
    of: 'int',
    make: () => ({
      code: (v) => `${v} > 0`,
      clauses: are(['positive', 'greater than zero']),
      name: 'positive',
    }),
  },
  {
    id: 'negative',
    of: 'int',
    make: () => ({
      code: (v) => `${v} < 0`,
      clauses: are(['negative', 'less than zero', 'below zero']),
      name: 'negative',
    }),
  },
  {
    id: 'gt',
    of: 'int',
    make: (r) => {
      const k = r.range(1, 9);
      return {
        k,
        code: (v) => `${v} > ${k}`,
        clauses: are([`greater than ${k}`, `larger than ${k}`, `bigger than ${k}`, `above ${k}`]),
        name: `above_${k}`,
      };
    },
  },
  {
    id: 'lt',
    of: 'int',
    make: (r) => {
      const k = r.range(1, 9);
      return {
        k,
        code: (v) => `${v} < ${k}`,
        clauses: are([`less than ${k}`, `smaller than ${k}`, `below ${k}`]),
        name: `below_${k}`,
      };
    },
  },
  {
    id: 'div',
    of: 'int',
    make: (r) => {
      const k = r.range(3, 7);
      return {
        k,
        code: (v) => `${v} % ${k} == 0`,
        clauses: [...are([`divisible by ${k}`, `a multiple of ${k}`])],
        name: `divisible_by_${k}`,
      };
    },
  },
  {
    id: 'notdiv',
    of: 'int',
    make: (r) => {
      const k = r.range(3, 7);
      return {
        k,
        code: (v) => `${v} % ${k} != 0`,
        clauses: [...are([`not divisible by ${k}`, `not a multiple of ${k}`])],
        name: `not_divisible_by_${k}`,
      };
    },
  },
  {
    id: 'helper',
    of: 'int',
    make: (r) => {
      const adj = r.pick(HELPER_ADJ);
      const a = r.range(2, 5);
      const b = r.range(5, 15);
      const body = r.pick([
        `x % ${a} == 0 or x > ${b}`,
        `x % ${a} == 1 and x < ${b}`,
        `x > ${a} and x < ${b}`,
        `x < -${a} or x > ${b}`,
      ]);
      const fn = `is_${adj}`;
      return {
        k: `${body}`,
        code: (v) => `${fn}(${v})`,
        clauses: [`that are ${adj.replace('_', '-')} (see ${fn})`, `for which ${fn} is true`, `that ${fn} accepts`],
        name: adj,
        helper: `def ${fn}(x):\n    return ${body}\n`,
      };
    },
  },
];

// ---------------------------------------------------------------- transformations of integers
export const INT_MAPS: MapSpec[] = [
  {
    id: 'double',
    of: 'int',
    make: () => ({
      code: (v) => `${v} * 2`,
      phrases: ['N doubled', 'N multiplied by 2', 'twice N', 'N times 2'],
      name: 'doubled',
      out: 'int',
    }),
  },
  {
    id: 'times',
    of: 'int',
    make: (r) => {
      const k = r.range(3, 9);
      return {
        k,
        code: (v) => `${v} * ${k}`,
        phrases: [`N multiplied by ${k}`, `N times ${k}`, `${k} times N`],
        name: `times_${k}`,
        out: 'int',
      };
    },
  },
  {
    id: 'plus',
    of: 'int',
    make: (r) => {
      const k = r.range(1, 9);
      return {
        k,
        code: (v) => `${v} + ${k}`,
        phrases: [`N plus ${k}`, `N increased by ${k}`, `N with ${k} added`],
        name: `plus_${k}`,
        out: 'int',
      };
    },
  },
  {
    id: 'minus',
    of: 'int',
    make: (r) => {
      const k = r.range(1, 9);
      return {
        k,
        code: (v) => `${v} - ${k}`,
        phrases: [`N minus ${k}`, `N decreased by ${k}`, `N with ${k} subtracted`],
        name: `minus_${k}`,
        out: 'int',
      };
    },
  },
  {
    id: 'square',
    of: 'int',
    make: () => ({
      code: (v) => `${v} * ${v}`,
      phrases: ['N squared', 'the square of N', 'N multiplied by itself'],
      name: 'squared',
      out: 'int',
    }),
  },
  {
    id: 'abs',
    of: 'int',
    make: () => ({
      code: (v) => `abs(${v})`,
      phrases: ['the absolute value of N', 'N without its sign'],
      name: 'absolute',
      out: 'int',
    }),
  },
  {
    id: 'neg',
    of: 'int',
    make: () => ({
      code: (v) => `-${v}`,
      phrases: ['N negated', 'the negative of N', 'N with its sign flipped'],
      name: 'negated',
      out: 'int',
    }),
  },
  {
    id: 'mod',
    of: 'int',
    make: (r) => {
      const k = r.range(2, 9);
      return {
        k,
        code: (v) => `${v} % ${k}`,
        phrases: [`the remainder of N divided by ${k}`, `N modulo ${k}`],
        name: `mod_${k}`,
        out: 'int',
      };
    },
  },
  {
    id: 'floordiv',
    of: 'int',
    make: (r) => {
      const k = r.range(2, 9);
      return {
        k,
        code: (v) => `${v} // ${k}`,
        phrases: [`N divided by ${k}, rounded down`, `N floor-divided by ${k}`],
        name: `floor_div_${k}`,
        out: 'int',
      };
    },
  },
];

// ---------------------------------------------------------------- conditions on words
const quoted = (c: string) => `'${c}'`;
export const WORD_CONDS: CondSpec[] = [
  {
    id: 'longer',
    of: 'str',
    make: (r) => {
      const k = r.range(2, 6);
      return {
        k,
        code: (v) => `len(${v}) > ${k}`,
        clauses: [`that are longer than ${k} letters`, `with more than ${k} letters`, `longer than ${k} characters`],
        name: `longer_than_${k}`,
      };
    },
  },
  {
    id: 'shorter',
    of: 'str',
    make: (r) => {
      const k = r.range(3, 6);
      return {
        k,
        code: (v) => `len(${v}) < ${k}`,
        clauses: [`that are shorter than ${k} letters`, `with fewer than ${k} letters`, `shorter than ${k} characters`],
        name: `shorter_than_${k}`,
      };
    },
  },
  {
    id: 'startswith',
    of: 'str',
    make: (r) => {
      const c = r.pick([...LETTERS]);
      return {
        k: c,
        code: (v) => `${v}.startswith(${quoted(c)})`,
        clauses: [`that start with ${quoted(c)}`, `beginning with ${quoted(c)}`, `whose first letter is ${quoted(c)}`],
        name: `starting_with_${c}`,
      };
    },
  },
  {
    id: 'endswith',
    of: 'str',
    make: (r) => {
      const c = r.pick([...LETTERS]);
      return {
        k: c,
        code: (v) => `${v}.endswith(${quoted(c)})`,
        clauses: [`that end with ${quoted(c)}`, `ending in ${quoted(c)}`, `whose last letter is ${quoted(c)}`],
        name: `ending_with_${c}`,
      };
    },
  },
  {
    id: 'contains',
    of: 'str',
    make: (r) => {
      const c = r.pick([...LETTERS]);
      return {
        k: c,
        code: (v) => `${quoted(c)} in ${v}`,
        clauses: [`that contain ${quoted(c)}`, `containing the letter ${quoted(c)}`, `with ${quoted(c)} in them`],
        name: `containing_${c}`,
      };
    },
  },
  {
    id: 'palindrome',
    of: 'str',
    make: () => ({
      code: (v) => `${v} == ${v}[::-1]`,
      clauses: ['that are palindromes', 'that read the same backwards', 'equal to their own reverse'],
      name: 'palindromes',
    }),
  },
  {
    id: 'capitalized',
    of: 'str',
    make: () => ({
      code: (v) => `${v}[0].isupper()`,
      clauses: ['that start with a capital letter', 'that are capitalized', 'beginning with an uppercase letter'],
      name: 'capitalized',
    }),
  },
  {
    id: 'numeric',
    of: 'str',
    make: () => ({
      code: (v) => `${v}.isdigit()`,
      clauses: ['that are made of digits', 'that are numbers', 'consisting only of digits'],
      name: 'numeric',
    }),
  },
];

// ---------------------------------------------------------------- transformations of words
export const WORD_MAPS: MapSpec[] = [
  {
    id: 'upper',
    of: 'str',
    make: () => ({
      code: (v) => `${v}.upper()`,
      phrases: ['N in upper case', 'N uppercased', 'N in capital letters'],
      name: 'upper',
      out: 'str',
    }),
  },
  {
    id: 'lower',
    of: 'str',
    make: () => ({
      code: (v) => `${v}.lower()`,
      phrases: ['N in lower case', 'N lowercased', 'N in small letters'],
      name: 'lower',
      out: 'str',
    }),
  },
  {
    id: 'reverse',
    of: 'str',
    make: () => ({
      code: (v) => `${v}[::-1]`,
      phrases: ['N reversed', 'N spelled backwards', 'the reverse of N'],
      name: 'reversed',
      out: 'str',
    }),
  },
  {
    id: 'first',
    of: 'str',
    make: () => ({
      code: (v) => `${v}[0]`,
      phrases: ['the first letter of N', 'the first character of N', 'the initial of N'],
      name: 'initials',
      out: 'str',
    }),
  },
  {
    id: 'last',
    of: 'str',
    make: () => ({
      code: (v) => `${v}[-1]`,
      phrases: ['the last letter of N', 'the last character of N', 'the final letter of N'],
      name: 'last_letters',
      out: 'str',
    }),
  },
  {
    id: 'capitalize',
    of: 'str',
    make: () => ({
      code: (v) => `${v}.capitalize()`,
      phrases: ['N capitalized', 'N with its first letter in upper case'],
      name: 'capitalized',
      out: 'str',
    }),
  },
  {
    id: 'repeat',
    of: 'str',
    make: (r) => {
      const k = r.range(2, 3);
      return {
        k,
        code: (v) => `${v} * ${k}`,
        phrases: [`N repeated ${k} times`, `${k} copies of N joined together`],
        name: `repeated_${k}`,
        out: 'str',
      };
    },
  },
  {
    id: 'len',
    of: 'str',
    make: () => ({
      code: (v) => `len(${v})`,
      phrases: ['the length of N', 'the number of letters in N'],
      name: 'lengths',
      out: 'int',
    }),
  },
];

// ---------------------------------------------------------------- conditions on characters
export const CHAR_CONDS: CondSpec[] = [
  {
    id: 'vowel',
    of: 'str',
    make: () => ({
      code: (v) => `${v} in 'aeiouAEIOU'`,
      clauses: ['that are vowels', 'which are vowels'],
      name: 'vowels',
    }),
  },
  {
    id: 'digit',
    of: 'str',
    make: () => ({ code: (v) => `${v}.isdigit()`, clauses: ['that are digits', 'which are digits'], name: 'digits' }),
  },
  {
    id: 'alpha',
    of: 'str',
    make: () => ({
      code: (v) => `${v}.isalpha()`,
      clauses: ['that are letters', 'which are letters'],
      name: 'letters',
    }),
  },
  {
    id: 'upperc',
    of: 'str',
    make: () => ({
      code: (v) => `${v}.isupper()`,
      clauses: ['that are uppercase letters', 'that are capital letters'],
      name: 'capitals',
    }),
  },
  {
    id: 'notspace',
    of: 'str',
    make: () => ({
      code: (v) => `${v} != ' '`,
      clauses: ['that are not spaces', 'other than spaces'],
      name: 'non_spaces',
    }),
  },
  {
    id: 'notchar',
    of: 'str',
    make: (r) => {
      const c = r.pick([...LETTERS]);
      return {
        k: c,
        code: (v) => `${v} != ${quoted(c)}`,
        clauses: [`other than ${quoted(c)}`, `that are not ${quoted(c)}`],
        name: `without_${c}`,
      };
    },
  },
];

export const CHAR_MAPS: MapSpec[] = [
  {
    id: 'cupper',
    of: 'str',
    make: () => ({
      code: (v) => `${v}.upper()`,
      phrases: ['N in upper case', 'N uppercased'],
      name: 'upper',
      out: 'str',
    }),
  },
  {
    id: 'clower',
    of: 'str',
    make: () => ({
      code: (v) => `${v}.lower()`,
      phrases: ['N in lower case', 'N lowercased'],
      name: 'lower',
      out: 'str',
    }),
  },
  {
    id: 'cdouble',
    of: 'str',
    make: () => ({
      code: (v) => `${v} * 2`,
      phrases: ['N doubled', 'N written twice'],
      name: 'doubled',
      out: 'str',
    }),
  },
];

/** Element noun phrases per family (what N stands for in map phrases and what a filter speaks of). */
export const NOUNS: Record<Exclude<Family, 'scalar'>, { each: string[]; plural: string; source: string }> = {
  ints: { each: ['each number', 'every number', 'each element'], plural: 'numbers', source: 'xs' },
  words: { each: ['each word', 'every word'], plural: 'words', source: 's' },
  chars: { each: ['each character', 'every character'], plural: 'characters', source: 's' },
};
