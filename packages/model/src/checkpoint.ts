// Hugging Face checkpoint folders: config.json (Llama/Qwen2 field names + diffusion fields),
// model.safetensors (or shards + index), tokenizer.json. Loading validates names and shapes.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { Backend } from '@seed-diffusion/native';
import { backend as defaultBackend } from '@seed-diffusion/native';

import type { ModelConfig } from './config';
import { fromHFConfig, toHFConfig } from './config';
import { writeFileAtomic } from './fsutil';
import { Model } from './model';
import { paramLayout } from './params';
import type { NamedTensor, StDtype } from './safetensors';
import { SafetensorsSet, saveSafetensorsSet } from './safetensors';

export interface SaveOptions {
  dtype?: StDtype;
  /** Split into shards above this many bytes (default: one file). */
  maxShardBytes?: number;
  /** A tokenizer.json to write next to the weights: its text, or an object to serialise. */
  tokenizerJson?: string | object;
  /** Extra safetensors __metadata__ entries (e.g. the training step). */
  metadata?: Record<string, string>;
}

/** The model's tensors as named host arrays (views of the parameter buffer on CPU/WASM). */
export function namedTensors(config: ModelConfig, params: Float32Array): NamedTensor[] {
  return paramLayout(config).specs.map((s) => ({
    name: s.name,
    shape: s.shape,
    data: params.subarray(s.offset, s.offset + s.size),
  }));
}

export function saveModel(model: Model, dir: string, opts: SaveOptions = {}): void {
  fs.mkdirSync(dir, { recursive: true });
  const host = model.params.toArray() as Float32Array;
  saveSafetensorsSet(dir, namedTensors(model.config, host), {
    dtype: opts.dtype,
    maxShardBytes: opts.maxShardBytes,
    metadata: opts.metadata,
  });
  const cfg = toHFConfig(model.config);
  if (opts.dtype) cfg.torch_dtype = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[opts.dtype];
  writeFileAtomic(path.join(dir, 'config.json'), JSON.stringify(cfg, null, 2) + '\n');
  if (opts.tokenizerJson !== undefined) {
    const text = typeof opts.tokenizerJson === 'string' ? opts.tokenizerJson : JSON.stringify(opts.tokenizerJson);
    writeFileAtomic(path.join(dir, 'tokenizer.json'), text);
  }
}

export function readConfig(dir: string): ModelConfig {
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(file)) throw new Error(`${dir}: no config.json`);
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  try {
    return fromHFConfig(j);
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** Reads every tensor the layout needs into a flat buffer, checking names and shapes. */
export function loadParamsInto(config: ModelConfig, set: SafetensorsSet, host: Float32Array, where: string): void {
  const { specs } = paramLayout(config);
  for (const s of specs) {
    const e = set.entry(s.name);
    if (!e) throw new Error(`${where}: missing tensor ${s.name} [${s.shape}]`);
    if (e.shape.length !== s.shape.length || e.shape.some((v, i) => v !== s.shape[i])) {
      throw new Error(`${where}: tensor ${s.name} has shape [${e.shape}], the config needs [${s.shape}]`);
    }
    set.readInto(s.name, host.subarray(s.offset, s.offset + s.size));
  }
}

export function loadModel(dir: string, b: Backend = defaultBackend()): Model {
  const config = readConfig(dir);
  const set = SafetensorsSet.open(dir);
  try {
    const host = new Float32Array(paramLayout(config).total);
    loadParamsInto(config, set, host, dir);
    return new Model(config, b.from(host), b);
  } finally {
    set.close();
  }
}
