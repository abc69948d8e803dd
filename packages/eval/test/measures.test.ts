// The small-scale measures on a real tiny model trained for a few seconds (model-fixture.ts):
// each runs, is deterministic in its seed, stays in range, ranks the trained model above a fresh
// one, and scores 1 where the answer is known to be perfect.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';

import { Rng } from '@seed-diffusion/corruption';
import { Model, buildDataset, isValidation } from '@seed-diffusion/model';
import { TokenSampler } from '@seed-diffusion/corruption';

import {
  editSimilarity,
  formatSuiteTable,
  heldOutFromDataset,
  heldOutFromFolder,
  maskedElbo,
  nextLineCompletion,
  repairEdits,
  restoreSpans,
  runSuite,
  spread,
  substitute,
} from '../src';
import { corpusDoc, fixture } from './model-fixture';

const f = fixture();
const fresh = Model.init(f.model.config, 11);

test('edit similarity: 1 for identical strings, 1 − distance / max length otherwise', () => {
  expect(editSimilarity('return x + 1', 'return x + 1')).toBe(1);
  expect(editSimilarity('', '')).toBe(1);
  expect(editSimilarity('kitten', 'sitting')).toBeCloseTo(1 - 3 / 7, 12);
  expect(editSimilarity('abc', '')).toBe(0);
});

test('spread: mean and sample standard deviation', () => {
  const s = spread([1, 2, 3, 4]);
  expect(s.mean).toBe(2.5);
  expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
  expect(spread([7]).std).toBe(0);
});

test('masked ELBO: deterministic in the seed, finite, and lower for the trained model than a fresh one', () => {
  const o = { windows: 8, seqLen: 32 };
  const a = maskedElbo(f.model, f.heldOut.stream, new Rng(3), o);
  const b = maskedElbo(f.model, f.heldOut.stream, new Rng(3), o);
  expect(a.scores.bitsPerToken).toBe(b.scores.bitsPerToken);
  expect(a.settings).toMatchObject({ seqLen: 32, block: 16, topology: 'block_diff' });
  expect(a.samples).toBe(8);
  const trained = a.scores.bitsPerToken;
  const untrained = maskedElbo(fresh, f.heldOut.stream, new Rng(3), o).scores.bitsPerToken;
  expect(trained).toBeGreaterThan(0);
  // a fresh model is near log2(V) bits per token; the trained one far below it
  expect(untrained).toBeGreaterThan(0.8 * Math.log2(f.model.config.vocabSize));
  expect(trained).toBeLessThan(untrained - 1);
  expect(() => maskedElbo(f.model, f.heldOut.stream, new Rng(3), { seqLen: 32, block: 5 })).toThrow(/divide/);
});

test('next-line completion: deterministic, scores in [0, 1], decoding cost recorded', () => {
  const o = { lines: 6, contextTokens: 48, sampler: { blockSize: 8 }, keepExamples: true };
  const a = nextLineCompletion(f.model, f.tokenizer, f.heldOut, new Rng(5), o);
  const b = nextLineCompletion(f.model, f.tokenizer, f.heldOut, new Rng(5), o);
  expect(a.scores).toEqual(b.scores);
  expect(a.examples).toEqual(b.examples);
  for (const v of Object.values(a.scores)) expect(v >= 0 && v <= 1).toBe(true);
  expect(a.examples).toHaveLength(6);
  for (const e of a.examples!) {
    expect(e.prediction).not.toContain('\n');
    expect(e.similarity).toBe(editSimilarity(e.prediction, e.truth));
  }
  expect(a.tokens).toBeGreaterThan(0);
  expect(a.forwards).toBeGreaterThan(0);
  expect(a.settings).toMatchObject({ blockSize: 8, policy: 'threshold', threshold: 0.9, temperature: 0 });
});

test('restore rate: deterministic, in range, and the trained model restores more than a fresh one', () => {
  const o = { spans: 12, spanLength: 6, contextTokens: 48, sampler: { blockSize: 4 } };
  const a = restoreSpans(f.model, f.heldOut, new Rng(9), o);
  expect(restoreSpans(f.model, f.heldOut, new Rng(9), o).scores).toEqual(a.scores);
  expect(a.tokens).toBe(12 * 6);
  const r = a.scores.tokenRestoreRate;
  expect(r).toBeGreaterThan(0);
  expect(r).toBeLessThanOrEqual(1);
  expect(a.scores.spanRestoreRate).toBeLessThanOrEqual(r);
  expect(r).toBeGreaterThan(restoreSpans(fresh, f.heldOut, new Rng(9), o).scores.tokenRestoreRate);
});

test('substitute: exactly k distinct positions change', () => {
  const block = Int32Array.from({ length: 16 }, (_, i) => 10 + i);
  const sampler = new TokenSampler(300, 'uniform', []);
  for (const k of [0, 1, 5, 16]) {
    const out = substitute(block, k, new Rng(k), sampler);
    expect(out.filter((t, i) => t !== block[i]).length).toBe(k);
  }
  expect(() => substitute(block, 17, new Rng(0), sampler)).toThrow(/17/);
});

test('repair: k = 0 with no rewrites allowed leaves every block intact; k edits set the accuracy before', () => {
  const oracle = repairEdits(f.model, f.heldOut, new Rng(1), { blocks: 6, edits: 0, threshold: 1, blockSize: 8 });
  expect(oracle.scores).toEqual({ blocksRepaired: 1, accuracyBefore: 1, accuracyAfter: 1, rewritesPerBlock: 0 });
  const o = { blocks: 8, edits: 2, blockSize: 8, contextTokens: 32 };
  const a = repairEdits(f.model, f.heldOut, new Rng(2), o);
  expect(repairEdits(f.model, f.heldOut, new Rng(2), o).scores).toEqual(a.scores);
  expect(a.scores.accuracyBefore).toBe(1 - 2 / 8);
  for (const k of ['blocksRepaired', 'accuracyAfter']) expect(a.scores[k] >= 0 && a.scores[k] <= 1).toBe(true);
  expect(a.settings).toMatchObject({ blockSize: 8, edits: 2, contextTokens: 32, threshold: 0.5, iterations: 4 });
});

test('suite: every measure over two seeds with mean, spread and speed; the table has a row per score', () => {
  const report = runSuite(f.model, f.tokenizer, f.heldOut, {
    seeds: [0, 1],
    sampler: { blockSize: 8 },
    elbo: { windows: 4, seqLen: 32 },
    nextLine: { lines: 3, contextTokens: 32 },
    restore: { spans: 3, contextTokens: 32 },
    repair: { blocks: 3, contextTokens: 32 },
  });
  expect(report.measures.map((m) => m.measure)).toEqual(['elbo', 'next-line', 'restore', 'repair']);
  for (const m of report.measures) {
    expect(m.seeds).toEqual([0, 1]);
    for (const s of Object.values(m.scores)) {
      expect(s.values).toHaveLength(2);
      expect(Number.isFinite(s.std)).toBe(true);
    }
    expect(m.tokensPerForward).not.toBeNull();
  }
  const table = formatSuiteTable(report);
  expect(table.split('\n')).toHaveLength(2 + 1 + 2 + 2 + 4);
  expect(table).toContain('tok/fwd');
});

test('held-out documents: the data build split of a folder, and a dataset folder read back', () => {
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-eval-heldout-'));
  const texts = Array.from({ length: 12 }, (_, i) => corpusDoc(100 + i) + `# file ${i}\n`);
  texts.forEach((t, i) => fs.writeFileSync(path.join(src, `m${i}.py`), t));
  const frac = 0.5;
  const expected = texts.filter((t) => isValidation(createHash('sha256').update(t).digest('hex'), frac));
  expect(expected.length).toBeGreaterThan(0);
  const h = heldOutFromFolder(src, f.tokenizer, f.model.config.eosTokenId, { validFraction: frac });
  expect([...h.texts].sort()).toEqual([...expected].sort());
  expect(h.stream.length).toBe(h.docs.reduce((a, d) => a + d.length + 1, 0));
  // the same documents through `data build` and back from its validation shards
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-eval-data-'));
  const tokFile = path.join(out, 'tok.json');
  fs.writeFileSync(tokFile, JSON.stringify(f.tokenizer.toHFJson()));
  buildDataset({ src, out, tokenizerFile: tokFile, validFraction: frac });
  const d = heldOutFromDataset(out, f.tokenizer);
  expect(Array.from(d.stream)).toEqual(Array.from(h.stream));
  expect(d.texts).toEqual(h.texts);
});
