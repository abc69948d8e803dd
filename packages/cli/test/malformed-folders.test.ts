// The malformed-model-folder corpus, generated here: a small valid model folder (config.json,
// model.safetensors, tokenizer.json) is damaged one way at a time — every config field with wrong
// JSON types and out-of-range values, every safetensors header field (length, dtype, shape,
// data_offsets, metadata), overlapping / out-of-range / gapped offsets, truncation, NaN/Inf weights,
// unused and missing tensors, shard indexes, manifests and tokenizer fields. Every case must be a
// clear error (an Error naming the file and the field or tensor) raised by loading, before any
// decode — and no case may load.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Model, makeConfig } from '@seed-diffusion/model';
import { backend } from '@seed-diffusion/native';

import { loadModelDir } from '../src/commands/generate';

backend().numThreads = 1;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const TOKENIZER = fs.readFileSync(
  path.join(__dirname, '..', '..', '..', 'models', 'seed-diffusion-tiny', 'tokenizer.json'),
  'utf8',
);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-malformed-'));
const base = path.join(root, 'base');
const baseShards = path.join(root, 'base-shards');
const Q = 'model.layers.0.self_attn.q_proj.weight';
const NORM = 'model.norm.weight';

beforeAll(() => {
  const cfg = makeConfig({
    vocabSize: 8192,
    hiddenSize: 16,
    numLayers: 2,
    numHeads: 2,
    numKvHeads: 1,
    headDim: 8,
    intermediateSize: 32,
    maxSeqLen: 64,
    maskTokenId: 8187,
    eosTokenId: 8186,
    padTokenId: 8188,
    tieWordEmbeddings: false,
    attentionTopology: 'block_diff',
    trainedBlockSizes: [4, 8],
  });
  const m = Model.init(cfg, 1);
  m.save(base, { tokenizerJson: TOKENIZER });
  m.save(baseShards, { tokenizerJson: TOKENIZER, maxShardBytes: 300_000 });
  m.dispose();
  // The undamaged folders load (so every failure below is the damage's).
  loadModelDir(base).model.dispose();
  loadModelDir(baseShards).model.dispose();
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

// ------------------------------------------------------------------ safetensors byte surgery
interface St {
  header: Json;
  data: Buffer;
}
function readSt(file: string): St {
  const buf = fs.readFileSync(file);
  const hlen = Number(buf.readBigUInt64LE(0));
  return { header: JSON.parse(buf.subarray(8, 8 + hlen).toString('utf8')), data: buf.subarray(8 + hlen) };
}
function writeSt(file: string, st: St, opts: { hlenDelta?: number; rawHeader?: string; hlen?: bigint } = {}): void {
  let json = opts.rawHeader ?? JSON.stringify(st.header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(opts.hlen ?? BigInt(head.length + (opts.hlenDelta ?? 0)));
  fs.writeFileSync(file, Buffer.concat([len, head, st.data]));
}
const ST = 'model.safetensors';
function editSt(dir: string, f: (st: St) => void | { hlenDelta?: number; rawHeader?: string; hlen?: bigint }): void {
  const file = path.join(dir, ST);
  const st = readSt(file);
  const o = f(st) || {};
  writeSt(file, st, o);
}
/** Writes float32 value v at element i of tensor `name`. */
function poke(dir: string, name: string, i: number, v: number): void {
  editSt(dir, (st) => {
    const [b] = st.header[name].data_offsets;
    st.data = Buffer.from(st.data);
    st.data.writeFloatLE(v, b + 4 * i);
  });
}
function editJson(file: string, f: (j: Json) => Json | void): void {
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  const r = f(j);
  fs.writeFileSync(file, JSON.stringify(r === undefined ? j : r));
}

// ------------------------------------------------------------------ the corpus
interface Case {
  name: string;
  from?: 'base' | 'shards';
  damage: (dir: string) => void;
  /** What the error must say (besides naming a file of the folder). */
  expect: RegExp;
}
const cases: Case[] = [];
const add = (name: string, damage: (dir: string) => void, expect: RegExp, from: Case['from'] = 'base') =>
  cases.push({ name, damage, expect, from });
const cfgCase = (name: string, f: (j: Json) => Json | void, expect: RegExp) =>
  add(`config: ${name}`, (d) => editJson(path.join(d, 'config.json'), f), expect);
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Integer fields: wrong JSON types and out-of-range values.
const INT_FIELDS: [string, string][] = [
  ['vocab_size', 'vocabSize'],
  ['hidden_size', 'hiddenSize'],
  ['num_hidden_layers', 'numLayers'],
  ['num_attention_heads', 'numHeads'],
  ['num_key_value_heads', 'numKvHeads'],
  ['head_dim', 'headDim'],
  ['intermediate_size', 'intermediateSize'],
  ['max_position_embeddings', 'maxSeqLen'],
  ['mask_token_id', 'maskTokenId'],
  ['eos_token_id', 'eosTokenId'],
  ['pad_token_id', 'padTokenId'],
];
for (const [field, key] of INT_FIELDS) {
  const named = new RegExp(`config\\.json: .*(field "${field}"|${key})|config\\.json's ${field}`);
  for (const v of ['16', 1.5, -1, true, [16], { n: 16 }, 1e300]) {
    cfgCase(`${field} = ${JSON.stringify(v)}`, (j) => void (j[field] = v), named);
  }
  if (!field.endsWith('_id')) cfgCase(`${field} = 0`, (j) => void (j[field] = 0), named);
}
for (const field of [
  'vocab_size',
  'hidden_size',
  'num_hidden_layers',
  'num_attention_heads',
  'intermediate_size',
  'mask_token_id',
]) {
  cfgCase(`${field} missing`, (j) => void delete j[field], new RegExp(`config\\.json: field "${field}" is missing`));
}
// Id fields outside the vocabulary.
for (const [field, key] of INT_FIELDS.filter(([f]) => f.endsWith('_id'))) {
  cfgCase(
    `${field} = 8192 (outside the vocabulary)`,
    (j) => void (j[field] = 8192),
    new RegExp(`${key} must be an id in \\[0, 8192\\)`),
  );
}
// Boolean fields: no truthy strings or numbers.
for (const field of [
  'tie_word_embeddings',
  'attention_bias',
  'rope_interleaved',
  'shift_logits',
  'mlp_bias',
  'use_sliding_window',
]) {
  for (const v of ['false', 'true', 0, 1, [], {}]) {
    cfgCase(
      `${field} = ${JSON.stringify(v)}`,
      (j) => void (j[field] = v),
      new RegExp(`config\\.json: field "${field}" must be true or false`),
    );
  }
}
// Real-valued fields.
for (const field of ['rope_theta', 'rms_norm_eps', 'initializer_range']) {
  for (const v of ['1e4', true, [1]]) {
    cfgCase(
      `${field} = ${JSON.stringify(v)}`,
      (j) => void (j[field] = v),
      new RegExp(`config\\.json: field "${field}" must be a number`),
    );
  }
  for (const v of [0, -1]) cfgCase(`${field} = ${v}`, (j) => void (j[field] = v), /config\.json: .*must be > 0/);
}
// Strings, lists and features this model does not implement.
for (const [v, re] of [
  [5, /field "attention_topology" must be a string/],
  ['causal', /attentionTopology must be block_diff, bidir or block_causal/],
] as const)
  cfgCase(`attention_topology = ${JSON.stringify(v)}`, (j) => void (j.attention_topology = v), re);
cfgCase('model_type = "gpt2"', (j) => void (j.model_type = 'gpt2'), /field "model_type" "gpt2" is not supported/);
cfgCase('model_type = 3', (j) => void (j.model_type = 3), /field "model_type" must be a string/);
cfgCase('hidden_act = "gelu"', (j) => void (j.hidden_act = 'gelu'), /field "hidden_act" "gelu" is not supported/);
cfgCase('mlp_bias = true', (j) => void (j.mlp_bias = true), /field "mlp_bias" true is not supported/);
cfgCase(
  'rope_scaling set',
  (j) => void (j.rope_scaling = { type: 'linear', factor: 2 }),
  /field "rope_scaling" .* is not supported/,
);
cfgCase(
  'use_sliding_window = true',
  (j) => void (j.use_sliding_window = true),
  /"use_sliding_window" true is not supported/,
);
cfgCase(
  'partial_rotary_factor = 0.5',
  (j) => void (j.partial_rotary_factor = 0.5),
  /"partial_rotary_factor" 0.5 is not supported/,
);
for (const v of ['4', [0], [1.5], ['4'], { a: 4 }]) {
  cfgCase(
    `trained_block_sizes = ${JSON.stringify(v)}`,
    (j) => void (j.trained_block_sizes = v),
    /trained_block_sizes|trainedBlockSizes/,
  );
}
for (const v of [[], ['x'], [1.5]]) {
  cfgCase(
    `eos_token_id = ${JSON.stringify(v)}`,
    (j) => void (j.eos_token_id = v),
    /field "eos_token_id" must be an integer or a non-empty list/,
  );
}
cfgCase(
  'num_attention_heads not a multiple of num_key_value_heads',
  (j) => void (j.num_key_value_heads = 3),
  /numHeads \(2\) must be a multiple of numKvHeads \(3\)/,
);
cfgCase(
  'odd head_dim',
  (j) => void ((j.head_dim = 7), (j.hidden_size = 16)),
  /tensor .* has shape|headDim must be even/,
);
// A config that disagrees with the weights.
cfgCase(
  'fewer layers than the weights',
  (j) => void (j.num_hidden_layers = 1),
  /tensors the config does not use: model\.layers\.1\./,
);
cfgCase('more layers than the weights', (j) => void (j.num_hidden_layers = 3), /missing tensor model\.layers\.2\./);
cfgCase(
  'other hidden_size',
  (j) => void ((j.hidden_size = 32), (j.head_dim = 16)),
  /tensor model\.embed_tokens\.weight has shape \[8192,16\], the config needs \[8192,32\]/,
);
cfgCase(
  'other intermediate_size',
  (j) => void (j.intermediate_size = 64),
  /mlp\.gate_proj\.weight has shape \[32,16\], the config needs \[64,16\]/,
);
cfgCase(
  'other num_key_value_heads',
  (j) => void (j.num_key_value_heads = 2),
  /k_proj\.weight has shape \[8,16\], the config needs \[16,16\]/,
);
cfgCase(
  'other vocab_size',
  (j) => void (j.vocab_size = 8200),
  /embed_tokens\.weight has shape \[8192,16\], the config needs \[8200,16\]/,
);
cfgCase(
  'tie_word_embeddings true with an lm_head',
  (j) => void (j.tie_word_embeddings = true),
  /does not use: lm_head\.weight/,
);
cfgCase(
  'attention_bias true without biases',
  (j) => void (j.attention_bias = true),
  /missing tensor model\.layers\.0\.self_attn\.q_proj\.bias/,
);
cfgCase(
  'head_dim other than the weights',
  (j) => void (j.head_dim = 16),
  /q_proj\.weight has shape \[16,16\], the config needs \[32,16\]/,
);
cfgCase(
  'too large for this machine',
  (j) => void ((j.vocab_size = 1_000_000_000), (j.hidden_size = 4096), (j.head_dim = 2048)),
  /parameters/,
);
add(
  'config.json not JSON',
  (d) => fs.writeFileSync(path.join(d, 'config.json'), '{"vocab_size": 8192,'),
  /config\.json: not valid JSON/,
);
add('config.json empty', (d) => fs.writeFileSync(path.join(d, 'config.json'), ''), /config\.json: not valid JSON/);
add(
  'config.json an array',
  (d) => fs.writeFileSync(path.join(d, 'config.json'), '[]'),
  /config\.json: not a JSON object/,
);
add(
  'config.json null',
  (d) => fs.writeFileSync(path.join(d, 'config.json'), 'null'),
  /config\.json: not a JSON object/,
);
add('config.json missing', (d) => fs.rmSync(path.join(d, 'config.json')), /config\.json missing/);

// Safetensors: the header length.
const stCase = (name: string, f: Parameters<typeof editSt>[1], expect: RegExp) =>
  add(`safetensors: ${name}`, (d) => editSt(d, f), expect);
stCase(
  'header length one byte short',
  () => ({ hlenDelta: -1 }),
  /model\.safetensors: (header is not valid JSON|the data section has \d+ bytes but the tensors cover)/,
);
stCase(
  'header length one byte long',
  () => ({ hlenDelta: 1 }),
  /model\.safetensors: (header is not valid JSON|the data section)/,
);
stCase(
  'header length 8 bytes short',
  () => ({ hlenDelta: -8 }),
  /model\.safetensors: (header is not valid JSON|the data section)/,
);
stCase('header length 0', () => ({ hlen: 0n }), /model\.safetensors: header length 0/);
stCase('header length 1', () => ({ hlen: 1n }), /model\.safetensors: header length 1/);
stCase(
  'header length 2^40',
  () => ({ hlen: 2n ** 40n }),
  /model\.safetensors: header length \d+ exceeds the file size/,
);
stCase('header length 2^64-1', () => ({ hlen: 2n ** 64n - 1n }), /model\.safetensors: header length \d+ exceeds/);
stCase('header not JSON', () => ({ rawHeader: '{"a": ' }), /model\.safetensors: header is not valid JSON/);
stCase('header a JSON array', () => ({ rawHeader: '[1, 2]' }), /model\.safetensors: header is not a JSON object/);
stCase('header null', () => ({ rawHeader: 'null' }), /model\.safetensors: header is not a JSON object/);
add(
  'safetensors: file of 5 bytes',
  (d) => fs.writeFileSync(path.join(d, ST), Buffer.alloc(5)),
  /model\.safetensors: truncated safetensors file \(5 bytes/,
);
add(
  'safetensors: empty file',
  (d) => fs.writeFileSync(path.join(d, ST), Buffer.alloc(0)),
  /model\.safetensors: truncated safetensors file \(0 bytes/,
);
add(
  'safetensors: truncated by 1 byte',
  (d) => fs.truncateSync(path.join(d, ST), fs.statSync(path.join(d, ST)).size - 1),
  /model\.safetensors: tensor .* ends at byte \d+ of the data section but the file holds only/,
);
add(
  'safetensors: truncated to half',
  (d) => fs.truncateSync(path.join(d, ST), fs.statSync(path.join(d, ST)).size >> 1),
  /model\.safetensors: tensor .* \(truncated\)/,
);
add(
  'safetensors: 4 trailing bytes',
  (d) => fs.appendFileSync(path.join(d, ST), Buffer.alloc(4)),
  /model\.safetensors: the data section has \d+ bytes but the tensors cover \d+/,
);
add(
  'safetensors: missing',
  (d) => fs.rmSync(path.join(d, ST)),
  /neither model\.safetensors nor model\.safetensors\.index\.json exists/,
);
// Every field of a tensor entry.
for (const t of [Q, NORM, 'lm_head.weight']) {
  const T = esc(t);
  for (const v of [undefined, 'I64', 'F64', 'f32', 5, null]) {
    stCase(
      `${t} dtype ${JSON.stringify(v)}`,
      (st) => void (st.header[t].dtype = v),
      new RegExp(`model\\.safetensors: tensor ${T} has dtype`),
    );
  }
  for (const v of [undefined, 'x', null, { a: 1 }]) {
    stCase(
      `${t} shape ${JSON.stringify(v)}`,
      (st) => void (st.header[t].shape = v),
      new RegExp(`tensor ${T}: shape is missing or not a list`),
    );
  }
  for (const v of [[-1, 16], [1.5, 16], ['16'], [null], [2 ** 60, 2 ** 60]]) {
    stCase(
      `${t} shape ${JSON.stringify(v)}`,
      (st) => void (st.header[t].shape = v),
      new RegExp(`tensor ${T}: shape\\[\\d\\] = .* is not an integer >= 0`),
    );
  }
  stCase(
    `${t} shape with one value fewer`,
    (st) => void (st.header[t].shape = [...st.header[t].shape.slice(0, -1), st.header[t].shape.at(-1) - 1]),
    new RegExp(`tensor ${T} \\[.*\\] F32 needs \\d+ bytes but data_offsets span`),
  );
  if (t !== NORM) {
    stCase(
      `${t} shape flattened`,
      (st) => void (st.header[t].shape = [st.header[t].shape.reduce((a: number, b: number) => a * b, 1)]),
      new RegExp(`tensor ${T} has shape \\[\\d+\\], the config needs`),
    );
  }
  for (const v of [undefined, [0], [0, 1, 2], 'x', null]) {
    stCase(
      `${t} data_offsets ${JSON.stringify(v)}`,
      (st) => void (st.header[t].data_offsets = v),
      new RegExp(`tensor ${T}: data_offsets must be a list \\[begin, end\\]`),
    );
  }
  stCase(
    `${t} data_offsets negative`,
    (st) => void (st.header[t].data_offsets = st.header[t].data_offsets.map((x: number) => x - 1e9)),
    new RegExp(`tensor ${T}: data_offsets .* must be integers >= 0`),
  );
  stCase(
    `${t} data_offsets fractional`,
    (st) => void (st.header[t].data_offsets = st.header[t].data_offsets.map((x: number) => x + 0.5)),
    new RegExp(`tensor ${T}: data_offsets .* must be integers >= 0`),
  );
  stCase(
    `${t} data_offsets strings`,
    (st) => void (st.header[t].data_offsets = st.header[t].data_offsets.map(String)),
    new RegExp(`tensor ${T}: data_offsets .* must be integers >= 0`),
  );
  stCase(
    `${t} data_offsets reversed`,
    (st) => void st.header[t].data_offsets.reverse(),
    new RegExp(`tensor ${T}: data_offsets \\[\\d+, \\d+\\] end before they begin`),
  );
  stCase(
    `${t} data_offsets shifted back 4 bytes (overlap)`,
    (st) => void (st.header[t].data_offsets = st.header[t].data_offsets.map((x: number) => x - 4)),
    /overlaps|bytes \[\d+, \d+\) .* belong to no tensor|data_offsets .* must be integers/,
  );
  stCase(
    `${t} data_offsets shifted forward 4 bytes`,
    (st) => void (st.header[t].data_offsets = st.header[t].data_offsets.map((x: number) => x + 4)),
    /overlaps|belong to no tensor|ends at byte/,
  );
  stCase(
    `${t} data_offsets past the end`,
    (st) => void (st.header[t].data_offsets = st.header[t].data_offsets.map((x: number) => x + 1e7)),
    new RegExp(`tensor ${T} ends at byte \\d+ of the data section but the file holds only`),
  );
  stCase(
    `${t} entry a string`,
    (st) => void (st.header[t] = 'F32'),
    new RegExp(`tensor ${T}: entry must be an object`),
  );
  stCase(`${t} entry an array`, (st) => void (st.header[t] = [1]), new RegExp(`tensor ${T}: entry must be an object`));
  stCase(`${t} removed (its bytes left)`, (st) => void delete st.header[t], /belong to no tensor|the tensors cover/);
  for (const [v, label] of [
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [-Infinity, '-Infinity'],
  ] as const) {
    add(
      `weights: ${label} in ${t}`,
      (d) => poke(d, t, 5, v),
      new RegExp(`tensor ${T} holds ${label} at \\[.*\\] \\(element 5\\)`),
    );
  }
}
stCase(
  'two tensors overlapping',
  (st) => {
    st.header[NORM].data_offsets = [...st.header[Q].data_offsets];
    st.header[NORM].shape = st.header[Q].shape;
  },
  /overlaps/,
);
stCase(
  '__metadata__ an array',
  (st) => void (st.header.__metadata__ = [1]),
  /model\.safetensors: __metadata__ must be an object of strings/,
);
stCase(
  '__metadata__ value a number',
  (st) => void (st.header.__metadata__ = { step: 3 }),
  /model\.safetensors: __metadata__\.step must be a string/,
);
stCase(
  'an empty tensor name',
  (st) => void ((st.header[''] = st.header[NORM]), delete st.header[NORM]),
  /a tensor has an empty name/,
);
stCase(
  'an unused extra tensor',
  (st) => {
    st.header['model.layers.7.mlp.extra.weight'] = {
      dtype: 'F32',
      shape: [1],
      data_offsets: [st.data.length, st.data.length + 4],
    };
    st.data = Buffer.concat([st.data, Buffer.alloc(4)]);
  },
  /tensors the config does not use: model\.layers\.7\.mlp\.extra\.weight/,
);
stCase(
  'a tensor renamed',
  (st) => void ((st.header['model.norm.weight2'] = st.header[NORM]), delete st.header[NORM]),
  /missing tensor model\.norm\.weight/,
);

// Sharded checkpoints: the index and its shards.
const IDX = 'model.safetensors.index.json';
const shardCase = (name: string, f: (d: string) => void, expect: RegExp) => add(`shards: ${name}`, f, expect, 'shards');
const firstShard = (d: string) =>
  fs
    .readdirSync(d)
    .filter((n) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(n))
    .sort()[0];
shardCase('index not JSON', (d) => fs.writeFileSync(path.join(d, IDX), '{'), /index\.json: not valid JSON/);
shardCase(
  'index without weight_map',
  (d) => editJson(path.join(d, IDX), () => ({ metadata: {} })),
  /"weight_map" is missing or not an object/,
);
shardCase(
  'weight_map an array',
  (d) => editJson(path.join(d, IDX), (j) => void (j.weight_map = [])),
  /"weight_map" is missing or not an object/,
);
shardCase(
  'weight_map to a missing shard',
  (d) => editJson(path.join(d, IDX), (j) => void (j.weight_map[NORM] = 'model-00009-of-00009.safetensors')),
  /shard model-00009-of-00009\.safetensors does not exist/,
);
shardCase(
  'weight_map escaping the folder',
  (d) => editJson(path.join(d, IDX), (j) => void (j.weight_map[NORM] = '../base/model.safetensors')),
  /weight_map\.model\.norm\.weight must name a shard file in the folder/,
);
shardCase(
  'weight_map value a number',
  (d) => editJson(path.join(d, IDX), (j) => void (j.weight_map[NORM] = 1)),
  /must name a shard file/,
);
shardCase(
  'tensor mapped to the wrong shard',
  (d) =>
    editJson(
      path.join(d, IDX),
      (j) => void (j.weight_map['model.embed_tokens.weight'] = j.weight_map['lm_head.weight']),
    ),
  /model\.embed_tokens\.weight is mapped to .*, which does not contain it|does not contain/,
);
shardCase(
  'tensor in a shard but not in the index',
  (d) => editJson(path.join(d, IDX), (j) => void delete j.weight_map[NORM]),
  /tensor model\.norm\.weight is in this shard but the index maps it to null/,
);
shardCase(
  'a shard truncated',
  (d) => fs.truncateSync(path.join(d, firstShard(d)), 100),
  /model-00001-of-\d{5}\.safetensors: (header length|tensor)/,
);
shardCase(
  'a shard removed',
  (d) => fs.rmSync(path.join(d, firstShard(d))),
  /shard model-00001-of-\d{5}\.safetensors does not exist/,
);

// A manifest that no longer matches its files.
const withManifest = (d: string) => {
  const files = fs
    .readdirSync(d)
    .sort()
    .map((name) => {
      const b = fs.readFileSync(path.join(d, name));
      return { name, bytes: b.length, sha256: require('node:crypto').createHash('sha256').update(b).digest('hex') };
    });
  fs.writeFileSync(
    path.join(d, 'manifest.json'),
    JSON.stringify({ format: 'seed-diffusion-checkpoint', version: 1, step: 1, created: '', files }),
  );
};
add(
  'manifest: a weight changed after it was written',
  (d) => {
    withManifest(d);
    const f = path.join(d, ST);
    const b = fs.readFileSync(f);
    b[b.length - 3] ^= 1;
    fs.writeFileSync(f, b);
  },
  /model\.safetensors does not match its SHA-256/,
);
add(
  'manifest: a file missing',
  (d) => {
    withManifest(d);
    fs.rmSync(path.join(d, 'tokenizer.json'));
  },
  /tokenizer\.json/,
);
add(
  'manifest: newer format version',
  (d) => {
    withManifest(d);
    editJson(path.join(d, 'manifest.json'), (j) => void (j.version = 2));
  },
  /checkpoint format version 2 is newer/,
);

// tokenizer.json.
const tokCase = (name: string, f: (j: Json) => Json | void, expect: RegExp) =>
  add(`tokenizer: ${name}`, (d) => editJson(path.join(d, 'tokenizer.json'), f), expect);
const someToken = (j: Json) => Object.keys(j.model.vocab).find((k) => k.length > 3) as string;
tokCase(
  'vocab id 1e9',
  (j) => void (j.model.vocab[someToken(j)] = 1e9),
  /tokenizer\.json: model\.vocab\[.*\]: id 1000000000 is outside the vocabulary/,
);
tokCase(
  'vocab id -1',
  (j) => void (j.model.vocab[someToken(j)] = -1),
  /tokenizer\.json: model\.vocab\[.*\]: id is not a non-negative integer/,
);
tokCase('vocab id "7"', (j) => void (j.model.vocab[someToken(j)] = '7'), /id is not a non-negative integer/);
tokCase('vocab id 2.5', (j) => void (j.model.vocab[someToken(j)] = 2.5), /id is not a non-negative integer/);
tokCase('vocab id duplicated', (j) => void (j.model.vocab[someToken(j)] = 300), /id 300 is used twice/);
tokCase('vocab not an object', (j) => void (j.model.vocab = []), /tokenizer\.json: model\.vocab: expected an object/);
tokCase(
  'model.type WordPiece',
  (j) => void (j.model.type = 'WordPiece'),
  /model\.type: unsupported model type "WordPiece"/,
);
tokCase('model missing', (j) => void delete j.model, /tokenizer\.json: model: missing field/);
tokCase('merges not a list', (j) => void (j.model.merges = 'a b'), /model\.merges: expected an array/);
tokCase(
  'merge of an unknown token',
  (j) => void (j.model.merges[0] = 'zzqq@@ x'),
  /model\.merges\[0\]: refers to unknown token/,
);
tokCase('merge malformed', (j) => void (j.model.merges[0] = 'abc'), /model\.merges\[0\]: expected "left right"/);
tokCase(
  'added token id 1e9',
  (j) => void (j.added_tokens[0].id = 1e9),
  /added_tokens\[.*\]\.id: 1000000000 is outside the vocabulary/,
);
tokCase(
  'added token id "1"',
  (j) => void (j.added_tokens[0].id = '1'),
  /added_tokens\[0\]\.id: missing or not a non-negative integer/,
);
tokCase('added token content empty', (j) => void (j.added_tokens[0].content = ''), /added_tokens\[0\]\.content/);
tokCase('added_tokens not a list', (j) => void (j.added_tokens = {}), /added_tokens: expected an array/);
tokCase(
  'two added tokens share an id',
  (j) => void (j.added_tokens[1].id = j.added_tokens[0].id),
  /two added tokens share an id/,
);
tokCase(
  'pre_tokenizer unsupported',
  (j) => void (j.pre_tokenizer = { type: 'Whitespace' }),
  /pre_tokenizer\.type: unsupported "Whitespace"/,
);
tokCase(
  'normalizer unsupported',
  (j) => void (j.normalizer = { type: 'Lowercase' }),
  /normalizer\.type: unsupported "Lowercase"/,
);
tokCase(
  'decoder unsupported',
  (j) => void (j.decoder = { type: 'WordPiece' }),
  /decoder\.type: unsupported "WordPiece"/,
);
tokCase('BPE dropout', (j) => void (j.model.dropout = 0.1), /model\.dropout: BPE dropout is not supported/);
add(
  'tokenizer: not JSON',
  (d) => fs.writeFileSync(path.join(d, 'tokenizer.json'), '{"model":'),
  /tokenizer\.json: not valid JSON/,
);
add('tokenizer: missing', (d) => fs.rmSync(path.join(d, 'tokenizer.json')), /has no tokenizer\.json/);
add(
  'tokenizer: its <|mask|> is not the config mask_token_id',
  (d) => editJson(path.join(d, 'config.json'), (j) => void (j.mask_token_id = 8189)),
  /tokenizer\.json has <\|mask\|> = 8187 but config\.json's mask_token_id is 8189/,
);
add(
  'tokenizer: its <|endoftext|> is not the config eos_token_id',
  (d) => editJson(path.join(d, 'config.json'), (j) => void (j.eos_token_id = 8190)),
  /tokenizer\.json has <\|endoftext\|> = 8186 but config\.json's eos_token_id is 8190/,
);
add(
  'tokenizer: more ids than the config vocabulary',
  (d) => {
    editJson(path.join(d, 'tokenizer.json'), (j) => {
      const n = Object.keys(j.model.vocab).length + j.added_tokens.length;
      j.added_tokens.push({ id: n, content: '<|extra|>', special: true });
    });
  },
  /tokenizer\.json has 8193 ids but config\.json's vocab_size is 8192/,
);

// NaN/Inf in a 16-bit checkpoint.
add(
  'weights: a float16 NaN',
  (d) => {
    const m = Model.load(d);
    m.save(d, { dtype: 'F16', tokenizerJson: TOKENIZER });
    m.dispose();
    editSt(d, (st) => {
      st.data = Buffer.from(st.data);
      st.data.writeUInt16LE(0x7e00, st.header[NORM].data_offsets[0] + 2);
    });
  },
  /tensor model\.norm\.weight holds NaN at \[1\] \(element 1\)/,
);
add(
  'weights: a bfloat16 -Inf',
  (d) => {
    const m = Model.load(d);
    m.save(d, { dtype: 'BF16', tokenizerJson: TOKENIZER });
    m.dispose();
    editSt(d, (st) => {
      st.data = Buffer.from(st.data);
      st.data.writeUInt16LE(0xff80, st.header[Q].data_offsets[0] + 2 * 17);
    });
  },
  /tensor model\.layers\.0\.self_attn\.q_proj\.weight holds -Infinity at \[1, 1\] \(element 17\)/,
);

// ------------------------------------------------------------------ the run
test(`the corpus has at least 150 cases (${cases.length})`, () => {
  expect(cases.length).toBeGreaterThanOrEqual(150);
  expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
});

test('every malformed folder is a clear error at load, none loads', () => {
  const loaded: string[] = [];
  const unclear: string[] = [];
  for (const c of cases) {
    const dir = path.join(root, 'case');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.cpSync(c.from === 'shards' ? baseShards : base, dir, { recursive: true });
    c.damage(dir);
    let err: unknown = null;
    try {
      const { model } = loadModelDir(dir);
      model.dispose();
    } catch (e) {
      err = e;
    }
    if (err === null) {
      loaded.push(c.name);
      continue;
    }
    const e = err as Error;
    // An Error (not a TypeError/RangeError from deep inside), naming the folder or one of its
    // files, and saying what the case expects.
    const clear =
      e instanceof Error &&
      e.name === 'Error' &&
      (e.message.includes(dir) || /config\.json|tokenizer\.json|safetensors/.test(e.message)) &&
      c.expect.test(e.message);
    if (!clear) unclear.push(`${c.name}: [${e.name}] ${e.message}`);
  }
  console.log(
    `malformed folders: ${cases.length} cases, ${cases.length - loaded.length - unclear.length} clear errors, ` +
      `${unclear.length} unclear, ${loaded.length} loaded`,
  );
  expect(loaded).toEqual([]);
  expect(unclear).toEqual([]);
});
