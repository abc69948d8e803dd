// One forward over a batch of blocks from different sequences: every Linear runs once over all
// rows, each sequence attends to its own paged KV cache (ragged lengths, its own mask: a block,
// block-causal rows, a verify forward) or, without a cache, to its own rows (a no-cache forward
// over a whole canvas), and logits are computed only for the rows each sequence asks for. Every
// kernel is row-independent, so a sequence's logits are bit for bit those it gets alone.
import { pagedSeqTable, type Backend, type PagedSeq, type Tensor } from '@seed-diffusion/native';

import type { Activations } from './activations';
import { rowsOf } from './activations';
import type { ModelConfig } from './config';
import { forwardTrunk } from './forward';
import { headForward } from './layers/head';
import { linearFwd } from './layers/linear';
import type { KVCache } from './kvcache';
import type { KVPool } from './kvpool';
import type { ParamViews } from './params';
import type { SeqAttention, Topology } from './topology';

/** Attention of a block against its cache: the block itself, block-causal rows, or a verify forward. */
export type CachedMask =
  | { mask: 'prefix' }
  | { mask: 'block_causal'; block: number; origin?: number }
  | { mask: 'verify'; block: number; origin: number };
/** Attention of a whole sequence without a cache (positions 0..n-1). */
export type FullTopology = { mask: 'bidir' } | { mask: 'block_causal'; block: number; origin?: number };

export interface BatchItem {
  /** The sequence's cache: its rows attend to the cache and K/V land at rows [cache.length, …). Absent: no cache. */
  cache?: KVCache | null;
  ids: Int32Array;
  /** Token positions (default: cache.length + i, or i without a cache). */
  positions?: Int32Array;
  mask: CachedMask | FullTopology;
  /** Rows whose logits are wanted, in output order; undefined: every row; null: none (K/V only). */
  rows?: Int32Array | null;
  /** Rows of the block kept in the cache (cache.length advances by it); default 0. */
  commit?: number;
}

export interface BatchOutput {
  /** Every item's logits rows, concatenated in item order ([Σ rows, V]); null when none asked. */
  logits: Tensor | null;
  /** Item i's rows of `logits` (views; null when it asked for none). */
  parts: (Tensor | null)[];
  /** Frees the logits (the parts are views of it). */
  free(): void;
}

export interface BatchContext {
  b: Backend;
  c: ModelConfig;
  pv: ParamViews;
  workspace(n: number): Activations;
  headBuffers(n: number): { src: Tensor; hsel: Tensor };
}

interface Placed {
  item: BatchItem;
  index: number;
  q0: number;
  n: number;
  len: number;
  rows: Int32Array | null;
}

/** Runs the batch (validated by the caller); caches advance by their items' commit. */
export function runBatch(ctx: BatchContext, items: BatchItem[]): BatchOutput {
  const { b, c, pv } = ctx;
  const kvd = c.numKvHeads * c.headDim;
  const d = c.hiddenSize;
  const V = c.vocabSize;
  // Row order: paged sequences first (their K/V rows are scattered as one range), those that want
  // no logits before those that do (the last layer then starts at the first row that feeds logits),
  // then the sequences without a cache.
  const rank = (it: BatchItem) => (it.cache ? (it.rows === null ? 0 : 1) : 2);
  const order = items.map((it, index) => ({ it, index })).sort((x, y) => rank(x.it) - rank(y.it) || x.index - y.index);
  const placed: Placed[] = [];
  let N = 0;
  let pool: KVPool | null = null;
  for (const { it, index } of order) {
    const n = it.ids.length;
    const len = it.cache ? it.cache.length : 0;
    if (it.cache) {
      if (pool && it.cache.pool !== pool)
        throw new Error('forwardBatch: every cache of a batch must come from one KVPool');
      pool = it.cache.pool;
    }
    const rows = it.rows === undefined ? Int32Array.from({ length: n }, (_, i) => i) : it.rows;
    placed.push({ item: it, index, q0: N, n, len, rows });
    N += n;
  }
  const paged = placed.filter((p) => p.item.cache);
  const Nc = paged.reduce((s, p) => s + p.n, 0);
  // Reserve every page first, so a full pool fails before anything is written.
  if (pool) {
    const need = paged.reduce((s, p) => s + p.item.cache!.pagesFor(p.len + p.n), 0);
    if (need > pool.freePages && !pool.canAllocate(need)) {
      pool.allocate(need); // throws PoolExhaustedError with the numbers
    }
    for (const p of paged) p.item.cache!.reserve(p.len + p.n);
  }

  const ws = ctx.workspace(N);
  const ids = new Int32Array(N);
  const pos = new Int32Array(N);
  for (const p of placed) {
    ids.set(p.item.ids, p.q0);
    if (p.item.positions) pos.set(p.item.positions, p.q0);
    else for (let i = 0; i < p.n; i++) pos[p.q0 + i] = p.len + i;
  }
  b.write(ws.ids, ids);
  b.write(ws.pos, pos);

  const seqs: SeqAttention[] = [];
  const pageList: number[] = [];
  const slots = new Int32Array(Nc);
  for (const p of placed) {
    const m = p.item.mask;
    const block = m.mask === 'prefix' || m.mask === 'bidir' ? undefined : m.block;
    const origin = m.mask === 'block_causal' ? (m.origin ?? 0) : m.mask === 'verify' ? m.origin : undefined;
    if (p.item.cache) {
      const cache = p.item.cache;
      for (let i = 0; i < p.n; i++) slots[p.q0 + i] = cache.slot(p.len + i);
      seqs.push({
        q0: p.q0,
        nq: p.n,
        k0: -1,
        Tk: p.len + p.n,
        mask: m.mask,
        block,
        origin,
        qOffset: p.len,
        page0: pageList.length,
      });
      pageList.push(...cache.pages.slice(0, Math.ceil((p.len + p.n) / cache.pool.pageSize)));
    } else {
      seqs.push({ q0: p.q0, nq: p.n, k0: p.q0, Tk: p.n, mask: m.mask, block, origin, qOffset: 0 });
    }
  }
  const k = rowsOf(ws.layers[0].k, N, kvd);
  const v = rowsOf(ws.layers[0].v, N, kvd);
  const temps: Tensor[] = [];
  const keep = (t: Tensor) => (temps.push(t), t);
  const topo: Topology = {
    kOut: () => k,
    vOut: () => v,
    keys: (_l, s) => k.slice(s.k0 * kvd, s.Tk * kvd),
    values: (_l, s) => v.slice(s.k0 * kvd, s.Tk * kvd),
    seqs,
  };
  if (pool && paged.length > 0) {
    const pagedSeqs = seqs.filter((s) => s.page0 !== undefined) as (SeqAttention & { page0: number })[];
    const table: PagedSeq[] = pagedSeqs.map((s) => ({ ...s, Tq: s.nq }));
    topo.paged = {
      pool,
      rows: Nc,
      slots: keep(b.from(slots)),
      table: keep(b.from(pagedSeqTable(table, { N, pages: pageList.length, pageSize: pool.pageSize }))),
      count: pagedSeqs.length,
      pages: keep(b.from(Int32Array.from(pageList))),
    };
  }

  try {
    // Logit rows (global), in item order.
    const byItem = [...placed].sort((x, y) => x.index - y.index);
    const R = byItem.reduce((s, p) => s + (p.rows ? p.rows.length : 0), 0);
    const shift = c.shiftLogits;
    const firstOut = placed.reduce(
      (m, p) => (p.rows && p.rows.length > 0 ? Math.min(m, p.q0 + Math.min(...p.rows)) : m),
      N,
    );
    // Without logits only the K/V matter (a shifted model also keeps every row's hidden state).
    const outFrom = shift ? (R > 0 || Nc > 0 ? 0 : N) : R > 0 ? firstOut : N;
    forwardTrunk(b, c, pv, ws, N, topo, false, outFrom);
    for (const p of paged) p.item.cache!.length = p.len + (p.item.commit ?? 0);
    if (R === 0 && !shift) return { logits: null, parts: items.map(() => null), free: () => {} };
    const head = ctx.headBuffers(Math.max(N, R));
    const logits = R > 0 ? b.f32(R * V) : null;
    const parts: (Tensor | null)[] = items.map(() => null);
    let r = 0;
    for (const p of byItem) {
      if (!p.rows || p.rows.length === 0) continue;
      parts[p.index] = logits!.slice(r * V, p.rows.length * V);
      r += p.rows.length;
    }
    const out: BatchOutput = { logits, parts, free: () => logits && b.free(logits) };
    if (!shift) {
      if (!logits) return out;
      const src = new Int32Array(R);
      r = 0;
      for (const p of byItem) for (const i of p.rows ?? []) src[r++] = p.q0 + i;
      const srcT = rowsOf(head.src, R, 1);
      b.write(srcT, src);
      headForward(
        b,
        c,
        pv.norm,
        pv.head,
        ws.xOut,
        ws.lnf,
        ws.rstdf,
        N,
        R,
        { src: srcT, hsel: head.hsel, logits },
        outFrom,
        pv.half,
      );
      return out;
    }
    // Shifted logits (Dream): logits row i of a block come from the hidden state of the position
    // before it — the previous block's last row for i = 0, kept per row in the pool's pages.
    b.rmsnormFwd(rowsOf(ws.xOut, N, d), pv.norm, rowsOf(ws.lnf, N, d), rowsOf(ws.rstdf, N, 1), N, d, c.rmsNormEps);
    if (pool && Nc > 0) b.kvScatter(pool.hidden!, rowsOf(ws.lnf, Nc, d), topo.paged!.slots, Nc, d, pool.rows);
    if (!logits) return out;
    const hsel = rowsOf(head.hsel, R, d);
    r = 0;
    for (const p of byItem) {
      if (!p.rows || p.rows.length === 0) continue;
      const m = p.rows.length;
      const src = p.rows.map((i) => Math.max(p.len + i - 1, 0));
      const dst = hsel.slice(r * d, m * d);
      if (p.item.cache) {
        const s = keep(b.from(src.map((x) => p.item.cache!.slot(x))));
        b.embeddingFwd(s, pool!.hidden!, dst, m, pool!.rows, d);
      } else {
        const s = keep(b.from(src.map((x) => p.q0 + x)));
        b.embeddingFwd(s, rowsOf(ws.lnf, N, d), dst, m, N, d);
      }
      r += m;
    }
    linearFwd(b, hsel, pv.head, logits, R, V, d, pv.half);
    return out;
  } finally {
    for (const t of temps) b.free(t);
  }
}
