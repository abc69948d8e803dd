// forwardBatch and the paged KV pool: a batch of blocks from different sequences (ragged cache
// lengths, different masks and block sizes, verify forwards, no-cache forwards) gives each
// sequence exactly the logits it gets alone; pages come back; a full pool is a clear error.
import { backend } from '@seed-diffusion/native';

import type { ModelConfigInput } from '../src/config';
import type { BatchItem } from '../src/batch';
import { KVPool, PoolExhaustedError } from '../src/kvpool';
import { Model } from '../src/model';

backend().numThreads = 1;
const base: ModelConfigInput = {
  vocabSize: 23,
  hiddenSize: 24,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  intermediateSize: 40,
  maskTokenId: 22,
  eosTokenId: 0,
  maxSeqLen: 200,
  initStd: 0.3,
};
const seq = (n: number, salt: number) => Int32Array.from({ length: n }, (_, i) => (i * 7 + salt * 5 + 3) % 22);

describe.each([
  { name: 'plain', cfg: {} },
  { name: 'shifted logits, QKV bias', cfg: { shiftLogits: true, qkvBias: true } },
])('$name', ({ cfg }) => {
  const m = Model.init({ ...base, ...cfg }, 3);
  const shifted = !!(cfg as { shiftLogits?: boolean }).shiftLogits;

  /** Five sequences with prompts of 5..130 tokens prefilled, and the next forward each makes. */
  function scenario(pool: KVPool): { items: BatchItem[]; caches: ReturnType<Model['newCache']>[] } {
    const specs = [
      { prompt: 5, block: 1 },
      { prompt: 64, block: 4 },
      { prompt: 130, block: 32 },
      { prompt: 17, block: 8 },
      { prompt: 70, block: 1 },
    ];
    const caches = specs.map(() => m.newCache(200, pool));
    specs.forEach((s, i) => m.prefill(caches[i], seq(s.prompt, i), s.block));
    const masks = (n: number) => new Int32Array(n).fill(22);
    const items: BatchItem[] = [
      {
        cache: caches[0],
        ids: Int32Array.of(4, 22),
        mask: { mask: 'block_causal', block: 1 },
        rows: Int32Array.of(1),
        commit: 1,
      },
      { cache: caches[1], ids: masks(4), mask: { mask: 'prefix' } },
      { cache: caches[2], ids: masks(32), mask: { mask: 'prefix' }, rows: Int32Array.of(3, 0, 31) },
      { cache: caches[3], ids: seq(8, 9), mask: { mask: 'block_causal', block: 8 }, rows: null, commit: 8 },
      { ids: seq(40, 7), mask: { mask: 'block_causal', block: 8 }, rows: Int32Array.of(39, 32) },
    ];
    if (!shifted) items.push(m.verifyItem(caches[4], seq(5, 3), { masks: 5, draft: 3 }));
    return { items, caches };
  }

  test('every sequence of a batch gets the logits (bit for bit) and cache it gets alone', () => {
    const poolA = m.newPool({ pages: 16 });
    const batch = scenario(poolA);
    const out = m.forwardBatch(batch.items);
    const poolB = m.newPool({ pages: 16 });
    const alone = scenario(poolB);
    alone.items.forEach((it, i) => {
      const o = m.forwardBatch([it]);
      const got = out.parts[i];
      if (it.rows === null) expect(got).toBeNull();
      else expect(got!.toArray()).toEqual(o.parts[0]!.toArray());
      o.free();
    });
    batch.caches.forEach((c, i) => {
      expect(c.length).toBe(alone.caches[i].length);
      for (let l = 0; l < 2; l++) expect(c.read('k', l)).toEqual(alone.caches[i].read('k', l));
    });
    out.free();
    for (const c of [...batch.caches, ...alone.caches]) c.release();
    expect(poolA.usedPages).toBe(0);
    expect(poolB.usedPages).toBe(0);
  });

  test('the legacy single-sequence calls are batches of one (same logits as forwardBatch)', () => {
    const c1 = m.newCache();
    const c2 = m.newCache();
    m.prefill(c1, seq(20, 1), 4);
    m.forwardBatch([
      { cache: c2, ids: seq(20, 1), mask: { mask: 'block_causal', block: 4, origin: 0 }, rows: null, commit: 20 },
    ]);
    const a = m.forwardBlock(c1, seq(4, 2)).toArray();
    const b = m.forwardBatch([{ cache: c2, ids: seq(4, 2), mask: { mask: 'prefix' } }]).logits!.toArray();
    expect(a).toEqual(b);
    c1.release();
    c2.release();
  });
});

describe('the KV pool', () => {
  const m = Model.init(base, 3);

  test('memory per sequence follows its length; pages return to the pool', () => {
    const pool = m.newPool({ pages: 8 });
    const short = m.newCache(200, pool);
    const long = m.newCache(200, pool);
    m.prefill(short, seq(10, 1), 1);
    m.prefill(long, seq(150, 2), 1);
    expect(short.pages.length).toBe(1);
    expect(long.pages.length).toBe(3);
    expect(long.bytes).toBe(3 * pool.bytesPerPage);
    expect(pool.bytesPerPage).toBe(4 * 64 * 2 * 2 * 2 * 6);
    expect(pool.usedPages).toBe(4);
    short.release();
    long.release();
    expect(pool.usedPages).toBe(0);
    expect(pool.freePages).toBe(8);
  });

  test('a full pool throws PoolExhaustedError before writing anything; a growable pool grows and keeps its pages', () => {
    const pool = m.newPool({ pages: 2 });
    const a = m.newCache(200, pool);
    const b = m.newCache(200, pool);
    m.prefill(a, seq(100, 1), 1);
    expect(() => m.forwardBatch([{ cache: b, ids: seq(70, 2), mask: { mask: 'prefix' } }])).toThrow(PoolExhaustedError);
    expect(() => m.prefill(b, seq(70, 2), 1)).toThrow(
      /KV pool exhausted: 2 more page\(s\) of 64 rows needed, 0 free of 2/,
    );
    expect(b.length).toBe(0);
    expect(b.pages.length).toBe(0);
    const before = m.forwardBlock(a, seq(3, 4)).toArray();
    const g = m.newPool({ pages: 1, growable: true });
    const c = m.newCache(200, g);
    m.prefill(c, seq(100, 1), 1);
    const d = m.newCache(200, g);
    m.prefill(d, seq(130, 5), 1);
    expect(g.capacity).toBeGreaterThanOrEqual(5);
    expect(m.forwardBlock(c, seq(3, 4)).toArray()).toEqual(before);
  });

  test('bad batches name the problem', () => {
    const pool = m.newPool({ pages: 4 });
    const c = m.newCache(50, pool);
    expect(() => m.forwardBatch([])).toThrow(/no items/);
    expect(() => m.forwardBatch([{ cache: c, ids: seq(3, 1), mask: { mask: 'bidir' } }])).toThrow(
      /item 0: mask must be one of prefix, block_causal, verify with a cache, got "bidir"/,
    );
    expect(() =>
      m.forwardBatch([
        { cache: c, ids: seq(3, 1), mask: { mask: 'prefix' } },
        { cache: c, ids: seq(3, 1), mask: { mask: 'prefix' } },
      ]),
    ).toThrow(/item 1: the same cache appears twice/);
    expect(() => m.forwardBatch([{ cache: c, ids: seq(51, 1), mask: { mask: 'prefix' } }])).toThrow(
      /item 0: 51 ids at position 0 overflow the cache of 50/,
    );
    expect(() => m.forwardBatch([{ ids: seq(3, 1), mask: { mask: 'bidir' }, commit: 2 }])).toThrow(/needs a cache/);
    expect(() => m.forwardBatch([{ ids: seq(3, 1), mask: { mask: 'bidir' }, rows: Int32Array.of(3) }])).toThrow(
      /row 3 is outside \[0, 3\)/,
    );
    const other = m.newCache(50, m.newPool({ pages: 1 }));
    expect(() =>
      m.forwardBatch([
        { cache: c, ids: seq(3, 1), mask: { mask: 'prefix' } },
        { cache: other, ids: seq(3, 1), mask: { mask: 'prefix' } },
      ]),
    ).toThrow(/one KVPool/);
    expect(() => m.newPool({ pageSize: 48 })).toThrow(/multiple of 64/);
  });
});
