import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { decode, decodeEvents, TrajectoryRecorder, type DecodeEvent, type StepEvent } from '../src';
import { MASK, promptOf, tinyModel } from './tiny-model';

const model = tinyModel();

function run(opts: Parameters<typeof decode>[2], prompt = promptOf(11)) {
  const events: DecodeEvent[] = [];
  const result = decode(model, prompt, { ...opts, onEvent: (e) => events.push(e) });
  const steps = events.flatMap((e) => (e.type === 'step' ? [e] : []));
  return { result, events, steps };
}

describe('policies on a real model commit what their rule says', () => {
  test('threshold: everything at or above tau, else exactly the single best', () => {
    for (const tau of [0.3, 0.6, 0.9]) {
      const { steps } = run({ blockSize: 8, maxNewTokens: 32, stopAtEos: false, policy: 'threshold', threshold: tau });
      let multi = 0;
      for (const s of steps) {
        expect(s.committed.length).toBeGreaterThanOrEqual(1);
        if (s.committed.length > 1) {
          multi++;
          for (const c of s.committed) expect(c.confidence).toBeGreaterThanOrEqual(tau - 1e-7);
        }
      }
      if (tau === 0.3) expect(multi).toBeGreaterThan(0); // parallel commits actually happen
    }
  });

  test('fixed: blocks of 8 in 4 steps commit 2 per step; steps > masks clamp to one per step', () => {
    const { steps, result } = run(
      { blockSize: 8, maxNewTokens: 29, stopAtEos: false, policy: 'fixed', steps: 4 },
      promptOf(8),
    );
    expect(result.stats.stepForwards).toBe(4 * 4);
    for (const s of steps) expect(s.committed).toHaveLength(s.block === 3 ? (s.step === 0 ? 2 : 1) : 2); // last block: 5 in 4 steps
    const one = run({ blockSize: 4, maxNewTokens: 8, stopAtEos: false, policy: 'fixed', steps: 100 }, promptOf(8));
    expect(one.result.stats.stepForwards).toBe(8);
  });

  test('factor: the committed prefix satisfies (n+1)(1 - c_n) < f', () => {
    const { steps } = run({ blockSize: 16, maxNewTokens: 32, stopAtEos: false, policy: 'factor', factor: 2 });
    for (const s of steps) {
      const cs = s.committed.map((c) => c.confidence).sort((a, b) => b - a);
      if (cs.length > 1) cs.forEach((c, i) => expect((i + 2) * (1 - c)).toBeLessThan(2 + 1e-6));
    }
  });

  test('entropy and margin confidences rank positions and stay in [0, 1]', () => {
    for (const confidence of ['entropy', 'margin'] as const) {
      const { steps, result } = run({ blockSize: 8, maxNewTokens: 16, stopAtEos: false, confidence, threshold: 0.5 });
      expect(result.tokens).toHaveLength(16);
      for (const s of steps) for (const c of s.committed) expect(c.confidence).toBeGreaterThanOrEqual(0);
      for (const s of steps) for (const c of s.committed) expect(c.confidence).toBeLessThanOrEqual(1 + 1e-6);
    }
  });
});

describe('self-correction', () => {
  test('rewrites only committed non-prompt positions of the current block, within the post-step bound', () => {
    const maxPostSteps = 3;
    const { events, result } = run({
      blockSize: 8,
      maxNewTokens: 30,
      stopAtEos: false,
      selfCorrect: true,
      editThreshold: 0.2,
      threshold: 0.5,
      maxPostSteps,
    });
    let state: Int32Array | null = null;
    let fixed: Uint8Array | null = null;
    let posts = 0;
    let rewrites = 0;
    for (const e of events) {
      if (e.type === 'block_start') {
        state = e.canvas.slice();
        fixed = e.fixed;
        posts = 0;
      } else if (e.type === 'step' && state && fixed) {
        for (const r of e.rewritten) {
          expect(fixed[r.index]).toBe(0);
          expect(state[r.index]).not.toBe(MASK); // already committed before this step
          expect(state[r.index]).toBe(r.previous);
          expect(r.token).not.toBe(r.previous);
          expect(r.confidence).toBeGreaterThan(0.2);
          rewrites++;
        }
        for (const c of e.committed) expect(state[c.index]).toBe(MASK);
        if (e.phase === 'post') posts++;
        expect(posts).toBeLessThanOrEqual(maxPostSteps);
        state = e.canvas.slice();
      }
    }
    expect(rewrites).toBeGreaterThan(0);
    expect(result.stats.edits).toBe(rewrites);
  });

  test('without self-correction nothing is rewritten', () => {
    const { steps, result } = run({ blockSize: 8, maxNewTokens: 24, stopAtEos: false });
    expect(steps.every((s) => s.rewritten.length === 0 && s.phase === 'fill')).toBe(true);
    expect(result.stats.edits).toBe(0);
  });
});

describe('events and the trajectory recorder', () => {
  test('every step is an event, consistent with the canvas it reports', () => {
    const { events, steps, result } = run({ blockSize: 8, maxNewTokens: 30, stopAtEos: false, threshold: 0.5 });
    expect(steps).toHaveLength(result.stats.stepForwards);
    expect(events[events.length - 1].type).toBe('done');
    let prev: Int32Array | null = null;
    let last: StepEvent | null = null;
    for (const e of events) {
      if (e.type === 'block_start') prev = e.canvas;
      if (e.type === 'step' && prev) {
        const changed = new Set([...e.committed, ...e.rewritten].map((c) => c.index));
        for (let i = 0; i < prev.length; i++) if (!changed.has(i)) expect(e.canvas[i]).toBe(prev[i]);
        for (const c of e.committed) expect(e.canvas[c.index]).toBe(c.token);
        expect(e.masked).toBe(Array.from(e.canvas).filter((t) => t === MASK).length);
        if (last) expect(e.forwards).toBeGreaterThan(last.forwards);
        prev = e.canvas;
        last = e;
      }
      if (e.type === 'block_end' && prev) expect(Array.from(e.canvas)).toEqual(Array.from(prev));
    }
    const blockTokens = events.flatMap((e) => (e.type === 'block_end' ? Array.from(e.tokens) : []));
    expect(blockTokens).toEqual(Array.from(result.tokens));
  });

  test('the recorder stores each block state and round-trips through JSON (atomic save)', () => {
    const prompt = promptOf(11);
    const rec = new TrajectoryRecorder(MASK, prompt);
    const result = decode(model, prompt, { blockSize: 8, maxNewTokens: 20, stopAtEos: false, onEvent: rec.listener });
    expect(rec.steps).toBe(result.stats.stepForwards);
    expect(rec.blocks).toHaveLength(result.stats.blocks);
    for (const b of rec.blocks) {
      expect(b.states[0].phase).toBe('start');
      const masks = b.states.map((s) => s.ids.filter((t) => t === MASK).length);
      for (let i = 1; i < masks.length; i++) expect(masks[i]).toBe(masks[i - 1] - b.states[i].committed.length);
      expect(masks[masks.length - 1]).toBe(0);
    }
    expect(rec.output).toEqual(Array.from(result.tokens));
    const dir = mkdtempSync(path.join(tmpdir(), 'sampler-rec-'));
    try {
      const file = path.join(dir, 'traj.json');
      rec.save(file);
      const back = TrajectoryRecorder.fromJSON(readFileSync(file, 'utf8'));
      expect(back.toJSON()).toEqual(JSON.parse(JSON.stringify(rec.toJSON())));
      expect(() => TrajectoryRecorder.fromJSON('{"version":2}')).toThrow(/version 1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the async iterator yields the same events and returns the result', async () => {
    const prompt = promptOf(9);
    const sync = run({ blockSize: 4, maxNewTokens: 12, stopAtEos: false }, prompt);
    const it = decodeEvents(model, prompt, { blockSize: 4, maxNewTokens: 12, stopAtEos: false });
    const types: string[] = [];
    let r = await it.next();
    while (!r.done) {
      types.push(r.value.type);
      r = await it.next();
    }
    expect(types).toEqual(sync.events.map((e) => e.type));
    expect(Array.from(r.value.tokens)).toEqual(Array.from(sync.result.tokens));
  });
});
