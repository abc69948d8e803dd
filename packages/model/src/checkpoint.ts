// Hugging Face checkpoint folders: config.json (Llama/Qwen2 field names + diffusion fields),
// model.safetensors (or shards + index), tokenizer.json. Loading is strict: every tensor the config
// needs must be there with its shape, every tensor in the files must be used (or allowed by name),
// the values must be finite, and a manifest, when the folder has one, must verify. This file does
// not import model.ts (Model.load / Model.save call into it), so there is no import cycle.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type { Tensor } from '@seed-diffusion/native';

import { MANIFEST_FILE, verifyCheckpoint } from './checkpoint-dir';
import type { ModelConfig } from './config';
import { fromHFConfig, parameterCount, toHFConfig } from './config';
import { writeFileAtomic } from './fsutil';
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

export interface LoadOptions {
  /**
   * Scan every weight for NaN/Inf once at load (default true). Set false only for trusted large
   * files, where the pass costs noticeable time.
   */
  checkFinite?: boolean;
  /**
   * Tensors the files may hold that the config does not use: names or patterns (e.g. a rotary
   * table some exporters write). Anything else unused is an error: a config with fewer layers
   * than its weights would otherwise silently drop them.
   */
  allowExtraTensors?: (string | RegExp)[];
  /** Verify the folder's manifest.json (sizes and SHA-256) when it has one (default true). */
  verifyManifest?: boolean;
}

/** Buffers that are exported by some tools but carry no parameters (recomputed from the config). */
const KNOWN_EXTRAS = [/^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/];

/** What a model is for saving: its config and its flat parameter buffer. */
export interface ModelLike {
  readonly config: ModelConfig;
  readonly params: Tensor;
}

/** The model's tensors as named host arrays (views of the parameter buffer on CPU/WASM). */
export function namedTensors(config: ModelConfig, params: Float32Array): NamedTensor[] {
  return paramLayout(config).specs.map((s) => ({
    name: s.name,
    shape: s.shape,
    data: params.subarray(s.offset, s.offset + s.size),
  }));
}

export function saveModel(model: ModelLike, dir: string, opts: SaveOptions = {}): void {
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
  let j: unknown;
  try {
    j = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new Error(`${file}: not a JSON object`);
  try {
    return fromHFConfig(j as Record<string, unknown>);
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** Largest float32 buffer one host array can hold (V8: 2^32 elements). */
const MAX_HOST_ELEMENTS = 2 ** 32;

/** Refuses a config whose parameters cannot be held here (format limit or this machine's memory). */
export function checkFits(config: ModelConfig, where: string): number {
  const { total } = paramLayout(config);
  if (total !== parameterCount(config)) {
    throw new Error(`${where}: internal: layout has ${total} values, parameterCount ${parameterCount(config)}`);
  }
  if (!Number.isSafeInteger(total) || total > MAX_HOST_ELEMENTS) {
    throw new Error(
      `${where}: the config describes ${total} parameters; one float32 host buffer holds at most ${MAX_HOST_ELEMENTS}`,
    );
  }
  const bytes = total * 4;
  if (bytes > os.totalmem()) {
    throw new Error(
      `${where}: the config describes ${total} parameters (${(bytes / 2 ** 30).toFixed(1)} GiB as float32), ` +
        `more than this machine's ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB of memory`,
    );
  }
  return total;
}

/** The first non-finite value of a range, or -1. */
function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    // x - x is 0 for every finite x and NaN for ±Inf and NaN: one compare per value.
    if (x - x !== 0) return i;
  }
  return -1;
}

function unravel(i: number, shape: number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(i % shape[d]);
    i = Math.floor(i / shape[d]);
  }
  return `[${idx.join(', ')}]`;
}

/**
 * Reads every tensor the layout needs into a flat buffer, checking names and shapes, that no
 * tensor of the files goes unused, and (checkFinite) that every value is finite.
 */
export function loadParamsInto(
  config: ModelConfig,
  set: SafetensorsSet,
  host: Float32Array,
  where: string,
  opts: LoadOptions = {},
): void {
  const { specs } = paramLayout(config);
  const used = new Set<string>();
  for (const s of specs) {
    const e = set.entry(s.name);
    if (!e) throw new Error(`${where}: missing tensor ${s.name} [${s.shape}] (the config needs it)`);
    if (e.shape.length !== s.shape.length || e.shape.some((v, i) => v !== s.shape[i])) {
      throw new Error(`${where}: tensor ${s.name} has shape [${e.shape}], the config needs [${s.shape}]`);
    }
    used.add(s.name);
  }
  const allowed = [...KNOWN_EXTRAS, ...(opts.allowExtraTensors ?? [])];
  const extras = set
    .names()
    .filter((n) => !used.has(n) && !allowed.some((a) => (typeof a === 'string' ? a === n : a.test(n))));
  if (extras.length > 0) {
    const shown = extras.slice(0, 4).join(', ') + (extras.length > 4 ? `, … (${extras.length} in all)` : '');
    throw new Error(
      `${where}: the weights hold tensors the config does not use: ${shown} ` +
        `(config: ${config.numLayers} layers, tie_word_embeddings ${config.tieWordEmbeddings}, ` +
        `attention_bias ${config.qkvBias}); fix config.json, or allow them by name (allowExtraTensors)`,
    );
  }
  for (const s of specs) {
    const dst = host.subarray(s.offset, s.offset + s.size);
    set.readInto(s.name, dst);
    if (opts.checkFinite === false) continue;
    const bad = firstNonFinite(dst);
    if (bad >= 0) {
      throw new Error(
        `${where}: tensor ${s.name} holds ${dst[bad]} at ${unravel(bad, s.shape)} (element ${bad}); ` +
          'the weights are corrupt (pass checkFinite: false / --trust-weights only to skip this check)',
      );
    }
  }
}

/** Reads and checks a model folder: its config and its parameters as one host buffer. */
export function readModelFolder(dir: string, opts: LoadOptions = {}): { config: ModelConfig; host: Float32Array } {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${dir}: not a directory`);
  if (opts.verifyManifest !== false && fs.existsSync(path.join(dir, MANIFEST_FILE))) {
    const v = verifyCheckpoint(dir);
    if (!v.ok) throw new Error(`${dir}: ${v.reason}`);
  }
  const config = readConfig(dir);
  const total = checkFits(config, path.join(dir, 'config.json'));
  const set = SafetensorsSet.open(dir);
  try {
    const host = new Float32Array(total);
    loadParamsInto(config, set, host, dir, opts);
    return { config, host };
  } finally {
    set.close();
  }
}
