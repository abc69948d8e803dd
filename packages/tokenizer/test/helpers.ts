// Shared fixtures: cl100k_base from js-tiktoken's bundled ranks (read from node_modules, never
// committed), the machine's Python standard library as a corpus, and a seeded RNG.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { Tokenizer } from '../src';

export interface JsTiktokenRanks {
  pat_str: string;
  special_tokens: Record<string, number>;
  bpe_ranks: string;
}

export const cl100kRanks: JsTiktokenRanks = require('js-tiktoken/ranks/cl100k_base');

/** js-tiktoken's compressed "! offset tok tok ..." lines as a standard tiktoken rank file. */
export function rankFileText(r: JsTiktokenRanks): string {
  const out: string[] = [];
  for (const line of r.bpe_ranks.split('\n')) {
    if (!line) continue;
    const [, off, ...toks] = line.split(' ');
    toks.forEach((t, i) => out.push(`${t} ${Number(off) + i}`));
  }
  return out.join('\n');
}

let cl100k: Tokenizer | undefined;
export function loadCl100k(): Tokenizer {
  cl100k ??= Tokenizer.fromTiktoken(rankFileText(cl100kRanks), { specialTokens: cl100kRanks.special_tokens });
  return cl100k;
}

/**
 * The Python standard library of this machine (a corpus of real code that every test machine has):
 * SD_PYTHON_STDLIB, else where the system's python3 says it is, not a path fixed to one Python version.
 */
export const STDLIB =
  process.env.SD_PYTHON_STDLIB ??
  execFileSync(
    existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3',
    ['-c', "import sysconfig; print(sysconfig.get_paths()['stdlib'])"],
    {
      encoding: 'utf8',
    },
  ).trim();

export function pythonFiles(dir = STDLIB): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (name.endsWith('.py')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** An evenly spread subset of the standard library: `count` files of at most maxBytes each. */
export function stdlibSample(count: number, maxBytes: number): { path: string; text: string }[] {
  const small = pythonFiles().filter((p) => statSync(p).size <= maxBytes);
  const step = Math.max(1, small.length / count);
  const out: { path: string; text: string }[] = [];
  for (let i = 0; i < small.length && out.length < count; i += step) {
    const path = small[Math.floor(i)];
    out.push({ path, text: readFileSync(path, 'utf8') });
  }
  return out;
}

/** mulberry32: small, seeded, good enough for test inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pieces that exercise every branch of the split patterns, including astral chars and lone surrogates. */
const ALPHABET = [
  'a',
  'Z',
  'é',
  'ß',
  'Ж',
  '中',
  'ſ',
  '𝐀',
  '😀',
  '1',
  '٣',
  '½',
  'Ⅻ',
  ' ',
  ' ',
  ' ',
  '\t',
  '\n',
  '\r',
  '\r\n',
  '\u00a0',
  '\u3000',
  '\u2028',
  '\ufeff',
  '\u0085',
  "'",
  "'s",
  "'LL",
  "'ve",
  "'re",
  "n't",
  '.',
  ',',
  '(',
  ')',
  '#',
  '_',
  '=',
  '-',
  '    ',
  '\n    ',
  'def',
  ' the',
  '123456',
  '\ud800',
  '\udc00',
  '\udbff\udfff',
  '<|endoftext|>',
];

export function randomText(r: () => number, parts: number): string {
  let s = '';
  for (let i = 0; i < parts; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return s;
}

/** Random UTF-16 code units, any value (lone surrogates included). */
export function randomUnits(r: () => number, n: number): string {
  const a: number[] = [];
  for (let i = 0; i < n; i++) a.push(r() < 0.5 ? 32 + Math.floor(r() * 95) : Math.floor(r() * 65536));
  return String.fromCharCode(...a);
}

/** Element-wise equality for long id arrays (jest's toEqual is slow on tens of thousands of elements). */
export function sameIds(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
