// Paged attention (attention_paged_fwd) and the paged cache's row scatter (kv_scatter): a batch
// of sequences with ragged key counts, different masks and shuffled pages against the float64
// reference, and bit for bit against attention_fwd on each sequence's keys laid out contiguously
// (a sequence's result must not depend on the other sequences of the batch).
import { pagedSeqTable, reference, type PagedSeq } from '../lib';
import { backends, maxRelErr, randn, raw, rng } from './helpers';

// float32 against float64, as attention.test.ts's forward tolerance.
const FWD_TOL = 2e-5;

const Hq = 4;
const Hkv = 2;
const D = 24;
const P = 64;
const POOL_PAGES = 23;

/** A shuffled page table: sequence pages scattered over the pool. */
function shuffledPages(n: number, seed: number): Int32Array {
  const r = rng(seed);
  const ids = Array.from({ length: POOL_PAGES }, (_, i) => i);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return Int32Array.from(ids.slice(0, n));
}

// Query rows laid out one sequence after another; keys from the page table in order.
function batch(specs: Omit<PagedSeq, 'q0' | 'page0'>[]): { seqs: PagedSeq[]; N: number; nPages: number } {
  let q0 = 0;
  let page0 = 0;
  const seqs = specs.map((s) => {
    const out = { ...s, q0, page0 };
    q0 += s.Tq;
    page0 += Math.ceil(s.Tk / P);
    return out;
  });
  return { seqs, N: q0, nPages: page0 };
}

const mixed = batch([
  { Tq: 1, Tk: 1, mask: 'prefix', qOffset: 0 },
  { Tq: 1, Tk: 130, mask: 'prefix', qOffset: 129 },
  { Tq: 32, Tk: 96, mask: 'prefix', qOffset: 64 },
  { Tq: 9, Tk: 200, mask: 'block_causal', block: 4, origin: 0, qOffset: 191 },
  { Tq: 70, Tk: 70, mask: 'block_causal', block: 32, origin: 0, qOffset: 0 },
  { Tq: 11, Tk: 141, mask: 'verify', block: 5, origin: 5, qOffset: 130 },
  { Tq: 3, Tk: 64, mask: 'causal', qOffset: 61 },
]);

describe.each(backends())('%s backend', (_name, b) => {
  // chosen at load: a backend without the kernel (CUDA today) reports these skipped, with the reason
  const has = b.has('attention_paged_fwd');
  const it = has
    ? test
    : (name: string, fn: () => void) =>
        test.skip(`${name} [skipped: the ${_name} backend has no attention_paged_fwd]`, fn);
  it('a mixed batch matches the reference and, bit for bit, attentionFwd per sequence', () => {
    const { seqs, N, nPages } = mixed;
    const row = Hkv * D;
    const q = randn(N * Hq * D, 11);
    const kPool = randn(POOL_PAGES * P * row, 12);
    const vPool = randn(POOL_PAGES * P * row, 13);
    const pages = shuffledPages(nPages, 14);
    const out = b.f32(N * Hq * D);
    const desc = b.from(pagedSeqTable(seqs, { N, pages: pages.length, pageSize: P }));
    b.attentionPagedFwd(b.from(q), b.from(kPool), b.from(vPool), out, desc, b.from(pages), {
      N,
      S: seqs.length,
      Hq,
      Hkv,
      D,
      pageSize: P,
      poolPages: POOL_PAGES,
    });
    const got = out.toArray() as Float32Array;
    const want = reference.attentionPagedFwd(q, kPool, vPool, seqs, pages, { N, Hq, Hkv, D, pageSize: P });
    expect(maxRelErr(got, want)).toBeLessThan(FWD_TOL);
    for (const s of seqs) {
      // The same sequence through the contiguous kernel, keys gathered from its pages.
      const k = new Float32Array(s.Tk * row);
      const v = new Float32Array(s.Tk * row);
      for (let j = 0; j < s.Tk; j++) {
        const at = (pages[s.page0 + Math.floor(j / P)] * P + (j % P)) * row;
        k.set(kPool.subarray(at, at + row), j * row);
        v.set(vPool.subarray(at, at + row), j * row);
      }
      const o = b.f32(s.Tq * Hq * D);
      b.attentionFwd(b.from(q.slice(s.q0 * Hq * D, (s.q0 + s.Tq) * Hq * D)), b.from(k), b.from(v), o, null, {
        ...s,
        Hq,
        Hkv,
        D,
      });
      expect(got.subarray(s.q0 * Hq * D, (s.q0 + s.Tq) * Hq * D)).toEqual(o.toArray());
    }
  });

  it('a sequence gets the same bits alone and in any batch composition', () => {
    const { seqs, N, nPages } = mixed;
    const row = Hkv * D;
    const q = randn(N * Hq * D, 21);
    const kPool = b.from(randn(POOL_PAGES * P * row, 22));
    const vPool = b.from(randn(POOL_PAGES * P * row, 23));
    const pages = b.from(shuffledPages(nPages, 24));
    const run = (which: PagedSeq[]): Float32Array => {
      const out = b.f32(N * Hq * D);
      const desc = b.from(pagedSeqTable(which, { N, pages: nPages, pageSize: P }));
      b.attentionPagedFwd(b.from(q), kPool, vPool, out, desc, pages, {
        N,
        S: which.length,
        Hq,
        Hkv,
        D,
        pageSize: P,
        poolPages: POOL_PAGES,
      });
      return out.toArray() as Float32Array;
    };
    const all = run(seqs);
    for (const s of seqs) {
      const alone = run([s]);
      const pair = run([seqs[3], s].filter((x, i, a) => a.indexOf(x) === i));
      const rows = (a: Float32Array) => a.subarray(s.q0 * Hq * D, (s.q0 + s.Tq) * Hq * D);
      expect(rows(alone)).toEqual(rows(all));
      expect(rows(pair)).toEqual(rows(all));
    }
  });

  test('kv_scatter writes each row to its slot and leaves the rest alone', () => {
    const row = 6;
    const poolRows = 10;
    const p0 = randn(poolRows * row, 31);
    const src = randn(4 * row, 32);
    const slots = Int32Array.from([7, 0, 3, 9]);
    const pool = b.from(p0);
    b.kvScatter(pool, b.from(src), b.from(slots), 4, row, poolRows);
    expect(maxRelErr(pool.toArray(), reference.kvScatter(p0, src, slots, row))).toBe(0);
  });

  test('bad calls throw errors naming the op and the problem', () => {
    const pool = b.f32(10 * 6);
    expect(() => b.kvScatter(pool, b.f32(12), b.from(Int32Array.from([1, 10])), 2, 6, 10)).toThrow(
      /kv_scatter: slot 1 is 10, outside the pool of 10 rows/,
    );
    expect(() =>
      pagedSeqTable([{ q0: 0, Tq: 2, Tk: 130, mask: 'prefix', qOffset: 128, page0: 1 }], {
        N: 2,
        pages: 2,
        pageSize: 64,
      }),
    ).toThrow(/attention_paged_fwd: sequence 0: 130 keys need page-table entries \[1, 4\) of 2/);
    expect(() =>
      pagedSeqTable([{ q0: 1, Tq: 2, Tk: 2, mask: 'prefix', page0: 0 }], { N: 2, pages: 2, pageSize: 64 }),
    ).toThrow(/rows \[1, 3\) exceed the 2 query rows/);
  });

  it('the kernel rejects pages outside the pool and a page size that splits key tiles', () => {
    const { k, ref } = raw(b);
    const q = b.f32(Hq * D);
    const kp = b.f32(2 * P * Hkv * D);
    const seq = b.from(Int32Array.from([0, 1, 65, 4, 0, 0, 64, 0]));
    expect(() =>
      k.attention_paged_fwd(
        ref(q),
        ref(kp),
        ref(kp),
        ref(b.f32(Hq * D)),
        ref(seq),
        ref(b.from(Int32Array.from([0, 5]))),
        1,
        Hq,
        Hkv,
        D,
        P,
        2,
        0.2,
      ),
    ).toThrow(/attention_paged_fwd: sequence 0: page 1 is 5, outside the pool of 2 pages/);
    expect(() =>
      k.attention_paged_fwd(
        ref(q),
        ref(kp),
        ref(kp),
        ref(b.f32(Hq * D)),
        ref(seq),
        ref(b.from(Int32Array.from([0, 1]))),
        1,
        Hq,
        Hkv,
        D,
        32,
        4,
        0.2,
      ),
    ).toThrow(/page_size must be a multiple of 64/);
  });
});
