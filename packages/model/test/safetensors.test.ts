// Our safetensors reader/writer: F32/F16/BF16 round trips, sharding with an index, HF
// checkpoint folders, and refusal of truncated or mismatched files with a precise message.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { backend } from '@seed-diffusion/native';

import { makeConfig } from '../src/config';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../src/dtype';
import { Model } from '../src/model';
import { SafetensorsFile, SafetensorsSet, saveSafetensorsSet, writeSafetensors } from '../src/safetensors';

backend().numThreads = 1;
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sd-st-'));
const rand = (n: number, seed: number) => {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 4294967296 - 0.5) * 8;
  });
};
const cfg = makeConfig({
  vocabSize: 11,
  hiddenSize: 12,
  numLayers: 2,
  numHeads: 3,
  numKvHeads: 1,
  maskTokenId: 10,
  eosTokenId: 0,
  qkvBias: true,
  tieWordEmbeddings: false,
});

test('float16 / bfloat16 conversions round to nearest even and keep specials', () => {
  for (const x of [0, -0, 1, -2.5, 65504, 1e-7, 6.1e-5, 3.14159, -1234.5]) {
    const h = f16ToF32(f32ToF16(x));
    expect(Math.abs(h - x)).toBeLessThanOrEqual(Math.max(Math.abs(x) * 2 ** -11, 2 ** -25));
    const bb = bf16ToF32(f32ToBf16(x));
    expect(Math.abs(bb - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -8);
  }
  expect(f16ToF32(f32ToF16(1e6))).toBe(Infinity);
  expect(Number.isNaN(f16ToF32(f32ToF16(NaN)))).toBe(true);
  expect(Number.isNaN(bf16ToF32(f32ToBf16(NaN)))).toBe(true);
  expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie to even
  expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80);
});

test.each(['F32', 'F16', 'BF16'] as const)(
  '%s round trip of a file, with header and offsets as the spec says',
  (dtype) => {
    const dir = tmp();
    const a = rand(24, 1);
    const b = rand(5, 2);
    const file = path.join(dir, 'x.safetensors');
    writeSafetensors(
      file,
      [
        { name: 'a', shape: [4, 6], data: a },
        { name: 'b', shape: [5], data: b },
      ],
      { dtype, metadata: { note: 'hi' } },
    );
    const raw = fs.readFileSync(file);
    const hlen = Number(raw.readBigUInt64LE(0));
    expect(hlen % 8).toBe(0);
    const header = JSON.parse(raw.toString('utf8', 8, 8 + hlen));
    const w = dtype === 'F32' ? 4 : 2;
    expect(header.a).toEqual({ dtype, shape: [4, 6], data_offsets: [0, 24 * w] });
    expect(header.b.data_offsets).toEqual([24 * w, 29 * w]);
    expect(header.__metadata__).toEqual({ note: 'hi' });
    const f = SafetensorsFile.open(file);
    const ra = f.read('a');
    const tol = dtype === 'F32' ? 0 : dtype === 'F16' ? 4 * 2 ** -11 : 4 * 2 ** -8;
    for (let i = 0; i < a.length; i++) expect(Math.abs(ra[i] - a[i])).toBeLessThanOrEqual(tol);
    f.close();
  },
);

test('a model saved sharded (with index) or single loads back bit-identically; HF names and config fields', () => {
  const m = Model.init(cfg, 3);
  const d1 = tmp();
  m.save(d1, { maxShardBytes: 2000 });
  const index = JSON.parse(fs.readFileSync(path.join(d1, 'model.safetensors.index.json'), 'utf8'));
  const shards = new Set(Object.values(index.weight_map));
  expect(shards.size).toBeGreaterThan(1);
  expect(index.weight_map['model.layers.1.self_attn.k_proj.bias']).toMatch(/^model-\d{5}-of-\d{5}\.safetensors$/);
  expect(Object.keys(index.weight_map)).toEqual(
    expect.arrayContaining([
      'model.embed_tokens.weight',
      'lm_head.weight',
      'model.norm.weight',
      'model.layers.0.mlp.down_proj.weight',
    ]),
  );
  const back = Model.load(d1);
  expect(Buffer.from(back.params.toArray().buffer).equals(Buffer.from(m.params.toArray().buffer))).toBe(true);
  const j = JSON.parse(fs.readFileSync(path.join(d1, 'config.json'), 'utf8'));
  expect(j).toMatchObject({
    hidden_size: 12,
    num_hidden_layers: 2,
    num_attention_heads: 3,
    num_key_value_heads: 1,
    vocab_size: 11,
    tie_word_embeddings: false,
    mask_token_id: 10,
    model_type: 'qwen2',
    architectures: ['Qwen2ForCausalLM'],
  });
  // Re-saving as one file removes the shards and the index.
  m.save(d1, { dtype: 'BF16' });
  expect(fs.readdirSync(d1).sort()).toEqual(['config.json', 'model.safetensors']);
  const bf = Model.load(d1).params.toArray();
  const p = m.params.toArray();
  for (let i = 0; i < p.length; i++) expect(Math.abs(bf[i] - p[i])).toBeLessThanOrEqual(Math.abs(p[i]) * 2 ** -8);
});

test('truncated, mismatched and malformed files are refused with a message naming the problem', () => {
  const m = Model.init(cfg, 3);
  const d = tmp();
  m.save(d);
  const file = path.join(d, 'model.safetensors');
  const full = fs.readFileSync(file);
  fs.writeFileSync(file, full.subarray(0, full.length - 10));
  expect(() => Model.load(d)).toThrow(
    /lm_head\.weight ends at byte \d+ of the data section but the file holds only \d+ \(truncated\)/,
  );
  fs.writeFileSync(file, full.subarray(0, 5));
  expect(() => Model.load(d)).toThrow(/truncated safetensors file \(5 bytes/);
  // A config that disagrees with the weights.
  fs.writeFileSync(file, full);
  const j = JSON.parse(fs.readFileSync(path.join(d, 'config.json'), 'utf8'));
  j.intermediate_size = 40;
  fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(j));
  expect(() => Model.load(d)).toThrow(
    /tensor model\.layers\.0\.mlp\.gate_proj\.weight has shape \[32,12\], the config needs \[40,12\]/,
  );
  delete j.hidden_size;
  fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(j));
  expect(() => Model.load(d)).toThrow(/config\.json: field "hidden_size" is missing/);
  // data_offsets inconsistent with shape.
  const bad = path.join(d, 'bad.safetensors');
  const h = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }).padEnd(64));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  fs.writeFileSync(bad, Buffer.concat([len, h, Buffer.alloc(16)]));
  expect(() => SafetensorsFile.open(bad)).toThrow(/tensor w \[2,2\] F32 needs 16 bytes but data_offsets span 12/);
  const i64 = Buffer.from(JSON.stringify({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }).padEnd(64));
  fs.writeFileSync(bad, Buffer.concat([len, i64, Buffer.alloc(8)]));
  expect(() => SafetensorsFile.open(bad)).toThrow(/tensor w has dtype I64; supported: F32, F16, BF16/);
  const e = tmp();
  expect(() => SafetensorsSet.open(e)).toThrow(/neither model\.safetensors nor model\.safetensors\.index\.json exists/);
  saveSafetensorsSet(e, [{ name: 'x', shape: [1], data: new Float32Array(1) }]);
  expect(() => Model.load(e)).toThrow(/no config\.json/);
});

test('writes are atomic: no temporary files are left behind', () => {
  const d = tmp();
  Model.init(cfg, 1).save(d, { maxShardBytes: 3000, tokenizerJson: { version: '1.0' } });
  expect(fs.readdirSync(d).filter((f) => f.includes('.tmp'))).toEqual([]);
  expect(JSON.parse(fs.readFileSync(path.join(d, 'tokenizer.json'), 'utf8'))).toEqual({ version: '1.0' });
});
