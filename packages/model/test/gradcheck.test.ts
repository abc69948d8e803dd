// Every layer's backward against float64 finite differences of a plain reference forward,
// on a tiny config (vocab 11, d 12, 2 layers, 3 heads / 1 KV head), over every training
// topology and the config options (tied/untied head, QKV bias, RoPE layouts, shifted rows).
import { backend } from '@seed-diffusion/native';

import type { ModelConfigInput } from '../src/config';
import { makeConfig } from '../src/config';
import type { GraphBatch } from '../src/graph';
import { TrainGraph } from '../src/graph';
import { paramLayout, paramViews } from '../src/params';
import type { RefTopology } from './reference-model';
import { refLoss } from './reference-model';

const b = backend();
// Tiny shapes: one thread (OpenMP synchronisation dominates them on a loaded 2-core machine).
b.numThreads = 1;
const base: ModelConfigInput = {
  vocabSize: 11,
  hiddenSize: 12,
  numLayers: 2,
  numHeads: 3,
  numKvHeads: 1,
  intermediateSize: 20,
  maskTokenId: 10,
  eosTokenId: 0,
  maxSeqLen: 32,
};

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

interface Case {
  name: string;
  cfg: Partial<ModelConfigInput>;
  B: number;
  T: number;
  topo: RefTopology;
  /** Loss rows: 'all', 'noisy' (first half of each sequence) or 'shift'. */
  rows: 'all' | 'noisy' | 'shift';
  dupPositions?: boolean;
}

const cases: Case[] = [
  { name: 'bidir, tied, NeoX rope', cfg: {}, B: 2, T: 7, topo: { mask: 'bidir' }, rows: 'all' },
  {
    name: 'block_diff (BD3-LM [x_t; x_0]), untied, QKV bias, interleaved rope',
    cfg: { tieWordEmbeddings: false, qkvBias: true, ropeInterleaved: true },
    B: 1,
    T: 14,
    topo: { mask: 'block_diff', block: 3 },
    rows: 'noisy',
    dupPositions: true,
  },
  {
    name: 'block_causal with origin, shifted logits',
    cfg: { shiftLogits: true, numKvHeads: 3 },
    B: 1,
    T: 7,
    topo: { mask: 'block_causal', block: 2, origin: 3 },
    rows: 'shift',
  },
  { name: 'causal (block 1), GQA', cfg: {}, B: 1, T: 7, topo: { mask: 'causal' }, rows: 'all' },
];

describe.each(cases)('gradient check: $name', (cs) => {
  const c = makeConfig({ ...base, ...cs.cfg });
  const r = rng(7 + cs.T);
  const { specs, total } = paramLayout(c);
  const P = new Float64Array(total);
  for (const s of specs) {
    for (let i = 0; i < s.size; i++) {
      P[s.offset + i] = s.name.includes('norm') ? 0.8 + 0.4 * r() : (r() - 0.5) * 0.8;
    }
  }
  const N = cs.B * cs.T;
  const ids = new Int32Array(N).map(() => Math.floor(r() * c.vocabSize));
  const pos = new Int32Array(N).map((_, i) => (cs.dupPositions ? (i % cs.T) % (cs.T / 2) : i % cs.T));
  let src: Int32Array | null = null;
  if (cs.rows === 'noisy') {
    const L = cs.T / 2;
    src = new Int32Array(cs.B * L).map((_, i) => Math.floor(i / L) * cs.T + (i % L));
  } else if (cs.rows === 'shift') {
    src = new Int32Array(N).map((_, i) => Math.max(i - 1, 0));
  }
  const R = src ? src.length : N;
  const targets = new Int32Array(R).map(() => Math.floor(r() * (c.vocabSize - 1)));
  const weights = new Float32Array(R).map(() => 0.2 + r());
  weights[1] = 0; // a row without loss
  const mask = { mask: cs.topo.mask, block: cs.topo.block, origin: cs.topo.origin };
  const batch: GraphBatch = { ids, pos, src, targets, weights, mask };

  const params = b.from(Float32Array.from(P));
  const graph = new TrainGraph(b, c, cs.B, cs.T, R);
  const ref = refLoss(c, P, ids, pos, cs.B, cs.T, cs.topo, src, targets, weights);

  test('forward matches the float64 reference (logits within 1e-4, loss within 1e-5 relative)', () => {
    const res = graph.run(paramViews(c, params), batch, null);
    const lg = graph.logits.toArray();
    let md = 0;
    for (let i = 0; i < ref.logits.length; i++) md = Math.max(md, Math.abs(lg[i] - ref.logits[i]));
    expect(md).toBeLessThan(1e-4);
    expect(Math.abs(res.loss - ref.loss) / Math.abs(ref.loss)).toBeLessThan(1e-5);
  });

  test('every tensor gradient matches central finite differences', () => {
    const grads = b.f32(total);
    graph.run(paramViews(c, params), batch, paramViews(c, grads));
    const g = grads.toArray();
    const h = 1e-5;
    const fail: string[] = [];
    for (const s of specs) {
      let maxRef = 0;
      let maxErr = 0;
      // Four entries per tensor (chosen by the seeded generator) keep the file to seconds.
      const picks = Array.from({ length: Math.min(4, s.size) }, (_, j) =>
        s.size <= 4 ? s.offset + j : s.offset + Math.floor(r() * s.size),
      );
      for (const i of picks) {
        const keep = P[i];
        P[i] = keep + h;
        const lp = refLoss(c, P, ids, pos, cs.B, cs.T, cs.topo, src, targets, weights).loss;
        P[i] = keep - h;
        const lm = refLoss(c, P, ids, pos, cs.B, cs.T, cs.topo, src, targets, weights).loss;
        P[i] = keep;
        const fd = (lp - lm) / (2 * h);
        maxRef = Math.max(maxRef, Math.abs(fd));
        maxErr = Math.max(maxErr, Math.abs(fd - g[i]));
      }
      if (!(maxRef > 0) || maxErr > 2e-3 * maxRef + 1e-6)
        fail.push(`${s.name}: max err ${maxErr} vs max |grad| ${maxRef}`);
    }
    expect(fail).toEqual([]);
  });
});
