// Dataset building from a folder of code: dedup by content, split by hash, a trained
// tokenizer, shards with EOS between documents, and reading it back.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Tokenizer } from '@seed-diffusion/tokenizer';

import { buildDataset, isValidation, openDataset } from '../src/dataset';

test('data build: dedup, split by file hash, tokenizer, EOS-separated shards', () => {
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-src-'));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-data-'));
  const bodies = Array.from({ length: 12 }, (_, i) => `def f${i}(x):\n    return x * ${i} + ${i * i}\n`);
  fs.mkdirSync(path.join(src, 'pkg'));
  bodies.forEach((b, i) => fs.writeFileSync(path.join(src, i % 2 ? 'pkg' : '.', `m${i}.py`), b));
  fs.writeFileSync(path.join(src, 'pkg', 'dup.py'), bodies[3]); // a duplicate
  fs.writeFileSync(path.join(src, 'notes.txt'), 'not code');
  const meta = buildDataset({ src, out, vocabSize: 300, validFraction: 0.25, shardTokens: 64 });
  expect(meta.files).toMatchObject({ found: 13, duplicates: 1, skipped: 0 });
  expect(meta.files.train + meta.files.validation).toBe(12);
  expect(meta.files.validation).toBeGreaterThan(0);
  expect(meta.shards.train.length).toBeGreaterThan(1); // 64-token shards
  const ds = openDataset(out);
  expect(ds.train.length).toBe(meta.tokens.train);
  const tok = Tokenizer.load(path.join(out, 'tokenizer.json'));
  expect(tok.vocabSize).toBeLessThanOrEqual(300); // a tiny corpus runs out of pairs to merge
  expect(meta.vocabSize).toBe(tok.vocabSize);
  // Documents are separated by EOS; decoding the stream recovers the files' text.
  const eosCount = Array.from(ds.train).filter((t) => t === meta.eosTokenId).length;
  expect(eosCount).toBe(meta.files.train);
  const firstDoc = ds.train.subarray(0, ds.train.indexOf(meta.eosTokenId));
  expect(bodies).toContain(tok.decode(firstDoc));
  expect(isValidation('00000000ffff', 0.01)).toBe(true);
  expect(isValidation('ffffffff0000', 0.99)).toBe(false);
  expect(() => buildDataset({ src: path.join(src, 'nope'), out })).toThrow(/--src .* is not a folder/);
});

test('data build with documents: their split is kept, duplicates of files are dropped, no folder needed', () => {
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-src-'));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-data-'));
  const file = 'def f(x):\n    return x + 1\n';
  fs.writeFileSync(path.join(src, 'a.py'), file);
  const docs = Array.from({ length: 8 }, (_, i) => ({
    text: `def g${i}(n):\n    return n * ${i}\n`,
    split: (i < 6 ? 'train' : 'validation') as 'train' | 'validation',
  }));
  const meta = buildDataset({ src, out, vocabSize: 300, documents: [...docs, { text: file }], validFraction: 0 });
  expect(meta.documents).toBe(9);
  expect(meta.files).toMatchObject({ found: 1, duplicates: 1, train: 7, validation: 2 });
  const only = buildDataset({
    out: fs.mkdtempSync(path.join(os.tmpdir(), 'sd-data-')),
    vocabSize: 300,
    documents: docs,
  });
  expect(only.source).toBe('documents');
  expect(only.files).toMatchObject({ found: 0, train: 6, validation: 2 });
  expect(() => buildDataset({ out })).toThrow(/give a source folder or documents/);
});
