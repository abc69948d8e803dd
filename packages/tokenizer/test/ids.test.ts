// Token ids outside the vocabulary are refused in linear time: an id of 1e9 in tokenizer.json or a
// tiktoken rank file is an error naming the field within milliseconds (it used to build a
// billion-slot table and take minutes).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Tokenizer } from '../src';

const text = readFileSync(join(__dirname, '..', '..', '..', 'models', 'seed-diffusion-tiny', 'tokenizer.json'), 'utf8');
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function timed(f: () => void): number {
  const t0 = performance.now();
  expect(f).toThrow();
  return performance.now() - t0;
}

test('a vocab id of 1e9 is refused quickly, naming the token', () => {
  const j: Json = JSON.parse(text);
  const [tok] = Object.keys(j.model.vocab).filter((k) => k.length > 3);
  j.model.vocab[tok] = 1e9;
  const s = JSON.stringify(j);
  expect(() => Tokenizer.fromHFJson(s)).toThrow(
    new RegExp(`model\\.vocab\\[.*\\]: id 1000000000 is outside the vocabulary of \\d+ tokens`),
  );
  expect(timed(() => Tokenizer.fromHFJson(s))).toBeLessThan(2000);
});

test('an added token id of 1e9 is refused quickly, naming the token', () => {
  const j: Json = JSON.parse(text);
  j.added_tokens[0].id = 1e9;
  const s = JSON.stringify(j);
  expect(() => Tokenizer.fromHFJson(s)).toThrow(/added_tokens\[".*"\]\.id: 1000000000 is outside the vocabulary/);
  expect(timed(() => Tokenizer.fromHFJson(s))).toBeLessThan(2000);
});

test('a tiktoken rank of 1e9 is refused quickly, naming the line', () => {
  const lines = Array.from({ length: 256 }, (_, b) => `${Buffer.from([b]).toString('base64')} ${b}`);
  lines.push(`${Buffer.from('ab').toString('base64')} 1000000000`);
  const ranks = lines.join('\n');
  const t0 = performance.now();
  expect(() => Tokenizer.fromTiktoken(ranks)).toThrow(
    /line 257: rank 1000000000 is outside the vocabulary of 257 tokens/,
  );
  expect(performance.now() - t0).toBeLessThan(2000);
});
