// DecodeBatch: many requests decoded together, their forwards gathered into one batched forward
// per step. Each request must get exactly the tokens and events it gets decoded alone (greedy and
// seeded sampling, every mode, mixed block sizes and prompt lengths, in any batch composition);
// cancelling one leaves the others unchanged; pages go back to the pool; a full pool fails only
// the request that cannot get pages, with the pool's error.
import { Model } from '@seed-diffusion/model';
import { availableBackends, backend } from '@seed-diffusion/native';

import { decode, DecodeBatch, type BatchOutcome, type DecodeEvent, type DecodeRequest } from '../src';
import { promptOf, tinyModel } from './tiny-model';

const model = tinyModel();
const sampled = { temperature: 0.9, topK: 20, topP: 0.95 };

/** Requests covering every mode, greedy and sampled, with mixed block sizes and prompt lengths. */
const REQUESTS: [string, number[], DecodeRequest][] = [
  ['cache b4 threshold', promptOf(9, 1), { mode: 'cache', blockSize: 4, threshold: 0.5 }],
  [
    'cache b8 fixed, sampled',
    promptOf(17, 2),
    { mode: 'cache', blockSize: 8, policy: 'fixed', steps: 4, ...sampled, seed: 7 },
  ],
  ['cache b4 fused commits', promptOf(3, 3), { mode: 'cache', blockSize: 4, fuseCommit: true }],
  [
    'cache b8 self-correct, sampled',
    promptOf(12, 4),
    { mode: 'cache', blockSize: 8, selfCorrect: true, editThreshold: 0.3, ...sampled, seed: 3 },
  ],
  ['nocache b4', promptOf(10, 5), { mode: 'nocache', blockSize: 4 }],
  [
    'nocache b2 factor, sampled',
    promptOf(6, 6),
    { mode: 'nocache', blockSize: 2, policy: 'factor', ...sampled, seed: 11 },
  ],
  ['ar', promptOf(30, 7), { mode: 'ar' }],
  ['ar sampled', promptOf(5, 8), { mode: 'ar', ...sampled, seed: 5 }],
  ['verify b6 draft 3', promptOf(20, 9), { mode: 'verify', blockSize: 6, draftRows: 3 }],
  ['verify b4 sampled', promptOf(14, 10), { mode: 'verify', blockSize: 4, ...sampled, seed: 9 }],
];
const common: DecodeRequest = { maxNewTokens: 24, stopAtEos: false };

/** Events with their timings removed (stats carry wall-clock seconds). */
function comparable(events: DecodeEvent[]): unknown[] {
  return events.map((e) => (e.type === 'done' ? { tokens: Array.from(e.tokens), forwards: e.stats.forwards } : e));
}

function alone(prompt: number[], req: DecodeRequest): { tokens: number[]; events: unknown[] } {
  const events: DecodeEvent[] = [];
  const r = decode(model, prompt, { ...common, ...req, onEvent: (e) => events.push(e) });
  return { tokens: Array.from(r.tokens), events: comparable(events) };
}

function runBatch(
  which: [string, number[], DecodeRequest][],
  opts: { pages?: number; maxBatchRows?: number; cancelAfter?: Record<number, number> } = {},
) {
  const pool = model.newPool({ pages: opts.pages ?? 32 });
  const batch = new DecodeBatch(model, { pool, maxBatchRows: opts.maxBatchRows });
  const events = which.map(() => [] as DecodeEvent[]);
  const outcomes: (BatchOutcome | null)[] = which.map(() => null);
  const ids = which.map(([, prompt, req], i) =>
    batch.add(
      prompt,
      { ...common, ...req },
      (e) => events[i].push(e),
      (o) => (outcomes[i] = o),
    ),
  );
  let steps = 0;
  let maxRows = 0;
  while (batch.size > 0) {
    maxRows = Math.max(maxRows, batch.step());
    steps++;
    for (const [i, at] of Object.entries(opts.cancelAfter ?? {})) if (steps === at) batch.cancel(ids[+i]);
  }
  return { pool, events: events.map(comparable), outcomes, steps, maxRows };
}

describe('a batch gives each request exactly the tokens and events it gets alone', () => {
  const want = REQUESTS.map(([, p, r]) => alone(p, r));

  test('all modes together, greedy and seeded sampling, mixed block sizes and prompt lengths', () => {
    const got = runBatch(REQUESTS);
    got.outcomes.forEach((o, i) => {
      expect(o?.status).toBe('done');
      if (o?.status === 'done') expect(Array.from(o.result.tokens)).toEqual(want[i].tokens);
      expect(got.events[i]).toEqual(want[i].events);
    });
    expect(got.pool.usedPages).toBe(0);
    // Fewer batched forwards than the requests' forwards together: they really shared forwards.
    const total = want.reduce((s, w) => s + (w.events.at(-1) as { forwards: number }).forwards, 0);
    expect(got.steps).toBeLessThan(total / 2);
  });

  test.each([
    ['verify with ar and nocache', [8, 9, 6, 4]],
    ['verify with cache and self-correction', [9, 0, 3, 1]],
    ['two verify requests only', [8, 9]],
    ['one request alone in a batch', [5]],
  ])('composition: %s (row independence across batch compositions)', (_label, pick) => {
    const which = (pick as number[]).map((i) => REQUESTS[i]);
    const got = runBatch(which);
    (pick as number[]).forEach((i, j) => {
      const o = got.outcomes[j];
      expect(o?.status === 'done' && Array.from(o.result.tokens)).toEqual(want[i].tokens);
    });
  });

  test('a small row budget splits a step over several forwards without changing any token', () => {
    const got = runBatch(REQUESTS, { maxBatchRows: 24 });
    // A forward over more rows than the budget only when one request's call alone is that big (nocache's canvas).
    const biggestCall = Math.max(...REQUESTS.map(([, p, r]) => (r.mode === 'nocache' ? p.length + 24 : 24)));
    expect(got.maxRows).toBeLessThanOrEqual(Math.max(24, biggestCall));
    expect(got.steps).toBeGreaterThan(runBatch(REQUESTS).steps);
    got.outcomes.forEach((o, i) => expect(o?.status === 'done' && Array.from(o.result.tokens)).toEqual(want[i].tokens));
  });

  test('cancelling requests leaves the others unchanged and returns every page', () => {
    const got = runBatch(REQUESTS, { cancelAfter: { 1: 3, 6: 5, 8: 2 } });
    got.outcomes.forEach((o, i) => {
      if ([1, 6, 8].includes(i)) expect(o).toEqual({ status: 'cancelled' });
      else expect(o?.status === 'done' && Array.from(o.result.tokens)).toEqual(want[i].tokens);
    });
    expect(got.pool.usedPages).toBe(0);
  });
});

describe('pool exhaustion and failures', () => {
  test('a request that cannot get pages fails with the pool error; the others finish as alone', () => {
    // 2 pages of 64 rows; three requests that each grow past one page.
    const big: [string, number[], DecodeRequest][] = [0, 1, 2].map((i) => [
      `ar ${i}`,
      promptOf(50, 20 + i),
      { mode: 'ar', maxNewTokens: 30 },
    ]);
    const got = runBatch(big, { pages: 2 });
    const failed = got.outcomes.filter((o) => o?.status === 'failed');
    expect(failed.length).toBeGreaterThanOrEqual(1);
    for (const o of failed) if (o?.status === 'failed') expect(o.error.message).toMatch(/KV pool exhausted/);
    got.outcomes.forEach((o, i) => {
      if (o?.status === 'done') expect(Array.from(o.result.tokens)).toEqual(alone(big[i][1], big[i][2]).tokens);
    });
    expect(got.outcomes.some((o) => o?.status === 'done')).toBe(true);
    expect(got.pool.usedPages).toBe(0);
  });

  test('bad requests are refused when added, naming the problem', () => {
    const batch = new DecodeBatch(model);
    expect(() => batch.add([], {})).toThrow(/prompt is empty/);
    expect(() => batch.add([1, 2], { blockSize: 0 })).toThrow(/sampler option blockSize/);
    expect(() => new DecodeBatch(model, { maxBatchRows: 0 })).toThrow(/maxBatchRows must be a positive integer/);
  });

  // Skipped (with this reason) where only one backend is built.
  const other = availableBackends().find((b) => b.name !== backend().name);
  (other ? test : test.skip)(
    `a model on a non-default backend decodes (the sampler uses the model backend)${other ? '' : ' [skipped: only one backend is built here]'}`,
    () => {
      const m = Model.init(model.config, 1, other!);
      const host = Model.init(model.config, 1);
      const p = promptOf(9, 1);
      expect(Array.from(decode(m, p, { ...common, mode: 'cache', blockSize: 4 }).tokens)).toEqual(
        Array.from(decode(host, p, { ...common, mode: 'cache', blockSize: 4 }).tokens),
      );
    },
  );
});
