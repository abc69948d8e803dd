// Model.useHalfWeights: an exact 16-bit copy of the matrices for inference. Every inference entry
// point must give the float32 path's logits bit for bit (a checkpoint saved in f16/bf16), the copy
// must be refused when it would change a value, and training must never read it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { backend } from '@seed-diffusion/native';

import type { ModelConfigInput } from '../src/config';
import { Model } from '../src/model';

const b = backend();
const hasKernel = b.has('matmul_w16');
const cfgs: [string, ModelConfigInput][] = [
  [
    'tied',
    {
      vocabSize: 37,
      hiddenSize: 32,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      intermediateSize: 56,
      maskTokenId: 36,
      eosTokenId: 0,
      maxSeqLen: 96,
      initStd: 0.3,
    },
  ],
  [
    'untied, QKV bias, shifted logits',
    {
      vocabSize: 29,
      hiddenSize: 24,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      intermediateSize: 40,
      maskTokenId: 28,
      eosTokenId: 0,
      maxSeqLen: 96,
      initStd: 0.3,
      tieWordEmbeddings: false,
      qkvBias: true,
      shiftLogits: true,
    },
  ],
];

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A model whose parameters went through a save in `dtype` (so they are exactly representable). */
function savedAs(cfg: ModelConfigInput, dtype: 'F16' | 'BF16', seed: number): Model {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-half-'));
  dirs.push(dir);
  Model.init(cfg, seed).save(dir, { dtype });
  return Model.load(dir);
}

/** Every inference entry point's logits, as plain arrays. */
function allLogits(m: Model): number[][] {
  const V = m.config.vocabSize;
  const mask = m.config.maskTokenId;
  const ids = Int32Array.from({ length: 40 }, (_, i) => (i * 11 + 5) % (V - 1));
  const out: number[][] = [];
  const take = (t: ReturnType<Model['forwardFull']>) => {
    out.push(Array.from(t.toArray()));
    b.free(t);
  };
  take(m.forwardFull(ids, { mask: 'block_causal', block: 4 }));
  take(m.forwardFull(ids.subarray(0, 17), { mask: 'bidir' }, { rows: Int32Array.of(3, 16) }));
  const cache = m.newCache(80);
  m.prefill(cache, ids.subarray(0, 24), 4);
  const block = Int32Array.from([ids[24], mask, ids[26], mask]);
  take(m.forwardBlock(cache, block));
  if (!m.config.shiftLogits) take(m.forwardVerify(cache, ids.subarray(24, 29), { masks: 5, draft: 3 }));
  return out;
}

describe.each(cfgs)('%s', (_name, cfg) => {
  if (!hasKernel) {
    test(`the ${b.name} backend has no matmul_w16: the model keeps float32 weights`, () => {
      const m = savedAs(cfg, 'F16', 3);
      const want = allLogits(m);
      expect(m.useHalfWeights('f16')).toBeNull();
      expect(m.halfWeights).toBeNull();
      expect(allLogits(m)).toEqual(want);
    });
    return;
  }

  test.each(['F16', 'BF16'] as const)('saved as %s: the 16-bit copy gives identical logits everywhere', (dtype) => {
    const m = savedAs(cfg, dtype, 3);
    const want = allLogits(m);
    const type = dtype === 'F16' ? 'f16' : 'bf16';
    expect(m.useHalfWeights(type)).toBe(type);
    expect(m.halfWeights).toBe(type);
    const got = allLogits(m);
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) expect(got[i]).toEqual(want[i]);
    m.dropHalfWeights();
    expect(m.halfWeights).toBeNull();
    expect(allLogits(m)).toEqual(want);
  });

  test('auto picks a format the values fit (not on WASM, where it is slower); float32 values get no copy', () => {
    expect(savedAs(cfg, 'F16', 4).useHalfWeights()).toBe(b.name === 'wasm' ? null : 'f16');
    const m = Model.init(cfg, 4); // random float32 values: not exactly representable in 16 bits
    expect(m.useHalfWeights()).toBeNull();
    expect(m.useHalfWeights('bf16')).toBeNull();
    expect(m.halfWeights).toBeNull();
  });

  test('subnormal, signed-zero and large values are kept exactly; one unrepresentable value refuses the copy', () => {
    const m = savedAs(cfg, 'F16', 6);
    const host = m.params.toArray() as Float32Array;
    const wq = m.layout.specs.find((s) => s.name.endsWith('q_proj.weight'));
    if (!wq) throw new Error('no q_proj');
    // f16 subnormals, −0, the largest f16 and its negative, the smallest normal: all exact in f16 and bf16
    const specials = [2 ** -24, -(2 ** -20), 3 * 2 ** -16, -0, 65504, -65504, 2 ** -14];
    specials.forEach((x, i) => (host[wq.offset + i] = x));
    b.write(m.params, host);
    const want = allLogits(m);
    expect(m.useHalfWeights('f16')).toBe('f16');
    expect(allLogits(m)).toEqual(want);
    // 1 + 2^-12 needs 12 fraction bits: not binary16, not bfloat16
    host[wq.offset + 9] = 1 + 2 ** -12;
    b.write(m.params, host);
    expect(m.useHalfWeights()).toBeNull();
    expect(m.halfWeights).toBeNull();
    // 2^-30 is a bfloat16 value but below binary16's range
    host[wq.offset + 9] = 2 ** -30;
    b.write(m.params, host);
    expect(m.useHalfWeights('f16')).toBeNull();
  });

  test('the copy follows the parameters only when rebuilt: changed weights are seen after useHalfWeights again', () => {
    const m = savedAs(cfg, 'F16', 5);
    expect(m.useHalfWeights('f16')).toBe('f16');
    const before = allLogits(m);
    // Scale every parameter by 2 (exact in f16 for these magnitudes), as an optimiser step would change them.
    const host = m.params.toArray() as Float32Array;
    b.write(
      m.params,
      host.map((x) => 2 * x),
    );
    expect(m.useHalfWeights('f16')).toBe('f16');
    const after = allLogits(m);
    m.dropHalfWeights();
    expect(allLogits(m)).toEqual(after);
    expect(after).not.toEqual(before);
  });
});
