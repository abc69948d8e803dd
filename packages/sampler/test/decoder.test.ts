import { backend } from '@seed-diffusion/native';

import { decode, decodeLogitRows, type DecodeEvent } from '../src';
import { decodeRowsReference } from './decode-reference';
import { argmaxRow, EOS, MASK, promptOf, tinyModel } from './tiny-model';

const model = tinyModel();
const V = model.config.vocabSize;

describe('decodeLogitRows', () => {
  test('matches the float64 reference on random logits (rows taken from an offset)', () => {
    const b = backend();
    const N = 5;
    const rows = 3;
    const host = Float32Array.from({ length: N * V }, (_, i) => Math.sin(i * 12.9898) * 4);
    const logits = b.from(host);
    const u = Float32Array.from([0.1, 0.55, 0.93]);
    for (const [filters, uniforms] of [
      [{ maskId: MASK, banId: -1, temperature: 0, topK: 0, topP: 1 }, null],
      [{ maskId: MASK, banId: EOS, temperature: 0.7, topK: 10, topP: 0.9 }, u],
    ] as const) {
      const got = decodeLogitRows(logits, 2, rows, V, filters, uniforms);
      const ref = decodeRowsReference(host.subarray(2 * V), rows, V, filters, uniforms);
      expect(Array.from(got.tok)).toEqual(ref.tok);
      for (let r = 0; r < rows; r++) {
        expect(got.prob[r]).toBeCloseTo(ref.prob[r], 5);
        expect(got.entropy[r]).toBeCloseTo(ref.entropy[r], 4);
        expect(got.margin[r]).toBeCloseTo(ref.margin[r], 5);
      }
    }
    b.free(logits);
  });
});

describe('the model calls the sampler relies on', () => {
  test('logits for selected rows equal those rows of the full logits (cached, fused and uncached)', () => {
    const b = backend();
    const ids = Int32Array.from(promptOf(20));
    const rows = Int32Array.from([5, 1, 7]);
    const pick = (t: ArrayLike<number>, r: number) => Array.from(t).slice(r * V, (r + 1) * V);
    const full = model.forwardFull(ids, { mask: 'block_causal', block: 4 });
    const sel = model.forwardFull(ids, { mask: 'block_causal', block: 4 }, { rows: Int32Array.from([17, 3]) });
    const fa = full.toArray();
    expect(sel.length).toBe(2 * V);
    pick(sel.toArray(), 0).forEach((x, j) => expect(x).toBeCloseTo(fa[17 * V + j], 4));
    pick(sel.toArray(), 1).forEach((x, j) => expect(x).toBeCloseTo(fa[3 * V + j], 4));
    // cached: prefill 8, then positions 8..15 as one block-causal forward keeping the first 4 rows
    const cache = model.newCache(32);
    model.prefill(cache, ids.subarray(0, 8), 4);
    const fused = model.forwardBlock(cache, ids.slice(8, 16), { commit: 4, block: 4, rows });
    expect(cache.length).toBe(12);
    rows.forEach((r, i) => pick(fused.toArray(), i).forEach((x, j) => expect(x).toBeCloseTo(fa[(8 + r) * V + j], 4)));
    const blockRows = model.forwardBlock(cache, ids.slice(12, 16), { rows: Int32Array.from([2]) });
    expect(cache.length).toBe(12);
    pick(blockRows.toArray(), 0).forEach((x, j) => expect(x).toBeCloseTo(fa[14 * V + j], 4));
    for (const t of [full, sel, fused, blockRows]) b.free(t);
  });
});

describe('modes agree', () => {
  test.each([
    [4, 11],
    [8, 16],
    [8, 3],
    [5, 9],
  ])('block %i, prompt %i: cache and nocache give identical tokens, steps and confidences', (block, plen) => {
    const prompt = promptOf(plen);
    const ev = { cache: [] as DecodeEvent[], nocache: [] as DecodeEvent[] };
    const run = (mode: 'cache' | 'nocache') =>
      decode(model, prompt, {
        mode,
        blockSize: block,
        maxNewTokens: 30,
        stopAtEos: false,
        onEvent: (e) => ev[mode].push(e),
      });
    const a = run('cache');
    const b = run('nocache');
    expect(Array.from(a.tokens)).toEqual(Array.from(b.tokens));
    expect(a.tokens).toHaveLength(30);
    expect(a.stats.stepForwards).toBe(b.stats.stepForwards);
    // one commit forward per block except the last
    expect(a.stats.commitForwards).toBe(a.stats.blocks - 1);
    expect(b.stats.commitForwards).toBe(0);
    const steps = (es: DecodeEvent[]) => es.flatMap((e) => (e.type === 'step' ? [e] : []));
    const sa = steps(ev.cache);
    const sb = steps(ev.nocache);
    expect(sa.map((e) => e.committed.map((c) => c.pos))).toEqual(sb.map((e) => e.committed.map((c) => c.pos)));
    sa.forEach((e, i) =>
      e.committed.forEach((c, j) => expect(c.confidence).toBeCloseTo(sb[i].committed[j].confidence, 4)),
    );
  });

  test('fused commits give the same tokens with one forward fewer per block', () => {
    const prompt = promptOf(13);
    const a = decode(model, prompt, { blockSize: 4, maxNewTokens: 24, stopAtEos: false });
    const f = decode(model, prompt, { blockSize: 4, maxNewTokens: 24, stopAtEos: false, fuseCommit: true });
    expect(Array.from(f.tokens)).toEqual(Array.from(a.tokens));
    expect(f.stats.commitForwards).toBe(0);
    expect(f.stats.fusedCommits).toBe(a.stats.commitForwards);
    expect(f.stats.forwards).toBe(a.stats.forwards - a.stats.commitForwards);
  });

  test('b = 1 greedy equals a hand loop of argmax over block-causal(1) forwards; mode ar is one forward per token', () => {
    const prompt = promptOf(7, 2);
    const n = 12;
    const canvas = [...prompt];
    for (let i = 0; i < n; i++) {
      const ids = Int32Array.from([...canvas, MASK]);
      const logits = model.forwardFull(ids, { mask: 'block_causal', block: 1 });
      canvas.push(argmaxRow(logits.toArray(), ids.length - 1, V, [MASK]));
      backend().free(logits);
    }
    const expected = canvas.slice(prompt.length);
    const common = { maxNewTokens: n, stopAtEos: false };
    const ar = decode(model, prompt, { ...common, mode: 'ar' });
    expect(Array.from(ar.tokens)).toEqual(expected);
    expect(ar.stats.forwards).toBe(n);
    expect(ar.stats.tokensPerForward).toBe(1);
    expect(Array.from(decode(model, prompt, { ...common, blockSize: 1 }).tokens)).toEqual(expected);
    expect(Array.from(decode(model, prompt, { ...common, blockSize: 1, mode: 'nocache' }).tokens)).toEqual(expected);
  });
});

describe('determinism and sampling', () => {
  test('greedy decoding is deterministic', () => {
    const p = promptOf(10, 1);
    const a = decode(model, p, { blockSize: 8, maxNewTokens: 24, stopAtEos: false });
    const b = decode(model, p, { blockSize: 8, maxNewTokens: 24, stopAtEos: false });
    expect(Array.from(a.tokens)).toEqual(Array.from(b.tokens));
  });

  test('sampling is reproducible from the seed, in cache and nocache modes alike', () => {
    const p = promptOf(10, 3);
    const o = { blockSize: 4, maxNewTokens: 24, stopAtEos: false, temperature: 1.5, topK: 20, topP: 0.95 };
    const a = decode(model, p, { ...o, seed: 5 });
    const b = decode(model, p, { ...o, seed: 5 });
    const c = decode(model, p, { ...o, seed: 5, mode: 'nocache' });
    const d = decode(model, p, { ...o, seed: 6 });
    expect(Array.from(a.tokens)).toEqual(Array.from(b.tokens));
    expect(Array.from(a.tokens)).toEqual(Array.from(c.tokens));
    expect(Array.from(a.tokens)).not.toEqual(Array.from(d.tokens));
    const greedy = decode(model, p, { ...o, temperature: 0 });
    expect(Array.from(a.tokens)).not.toEqual(Array.from(greedy.tokens));
  });
});

describe('limits and EOS', () => {
  test('the prompt tail shares the first block and is never rewritten', () => {
    const prompt = promptOf(10);
    const events: DecodeEvent[] = [];
    decode(model, prompt, {
      blockSize: 8,
      maxNewTokens: 10,
      stopAtEos: false,
      selfCorrect: true,
      editThreshold: 0,
      onEvent: (e) => events.push(e),
    });
    const first = events.find((e) => e.type === 'block_start');
    expect(first).toMatchObject({ start: 8 });
    if (first?.type !== 'block_start') throw new Error('no block_start');
    expect(Array.from(first.fixed)).toEqual([1, 1, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(first.canvas.slice(0, 2))).toEqual(prompt.slice(8, 10));
    for (const e of events) {
      if (e.type === 'step' && e.block === 0) {
        expect(Array.from(e.canvas.slice(0, 2))).toEqual(prompt.slice(8, 10));
        for (const c of [...e.committed, ...e.rewritten]) expect(c.index).toBeGreaterThanOrEqual(2);
      }
    }
  });

  test('max new tokens and the context bound the output', () => {
    const a = decode(model, promptOf(5), { blockSize: 8, maxNewTokens: 13, stopAtEos: false });
    expect(a.tokens).toHaveLength(13);
    expect(a.stats.stopReason).toBe('max_new_tokens');
    const b = decode(model, promptOf(90), { blockSize: 8, maxNewTokens: 50, stopAtEos: false });
    expect(b.tokens).toHaveLength(model.config.maxSeqLen - 90);
    expect(b.stats.stopReason).toBe('context');
  });

  test('stops at the first completed EOS; suppression bans it', () => {
    const prompt = promptOf(9);
    const free = decode(model, prompt, { blockSize: 4, maxNewTokens: 20, stopAtEos: false });
    // Make the 4th generated token this model's EOS: the output then ends before it.
    const eos = free.tokens[3];
    const first = free.tokens.indexOf(eos);
    const m = tinyModel({ eosTokenId: eos });
    const r = decode(m, prompt, { blockSize: 4, maxNewTokens: 20 });
    expect(r.stats.stopReason).toBe('eos');
    expect(Array.from(r.tokens)).toEqual(Array.from(free.tokens.slice(0, first)));
    const s = decode(m, prompt, { blockSize: 4, maxNewTokens: 20, suppressEos: true });
    expect(Array.from(s.tokens)).not.toContain(eos);
    expect(s.tokens).toHaveLength(20);
  });

  test('clear errors for an empty prompt, a prompt that fills the context, bad ids and unknown options', () => {
    expect(() => decode(model, [])).toThrow(/prompt is empty/);
    expect(() => decode(model, promptOf(96))).toThrow(/96 tokens leaves no room .* context of 96/);
    expect(() => decode(model, [1, MASK])).toThrow(/prompt token 1 is 63/);
    expect(() => decode(model, [1, 2], { blok: 4 } as never)).toThrow(/unknown sampler option "blok"/);
  });
});
