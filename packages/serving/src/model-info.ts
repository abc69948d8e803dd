// What the server knows about its model: config, tokenizer, chat format and the diffusion settings
// a request gets when it names none (the model's recommended ones).
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import type { EngineRequestOptions } from '@seed-diffusion/engine';
import { readConfig, type ModelConfig } from '@seed-diffusion/model';
import { DEFAULT_OPTIONS } from '@seed-diffusion/sampler';
import { Tokenizer } from '@seed-diffusion/tokenizer';

import { loadChatFormat, type ChatFormat } from './chat-template';

export interface DiffusionDefaults {
  mode: NonNullable<EngineRequestOptions['mode']>;
  blockSize: number;
  threshold: number;
  editThreshold: number;
  selfCorrect: boolean;
}

export interface ModelInfo {
  dir: string;
  config: ModelConfig;
  tokenizer: Tokenizer;
  chat: ChatFormat;
  defaults: DiffusionDefaults;
  /** File modification time (seconds): the `created` of /v1/models. */
  created: number;
}

const GENERATION_KEYS: Record<string, keyof DiffusionDefaults> = {
  mode: 'mode',
  block_size: 'blockSize',
  threshold: 'threshold',
  edit_threshold: 'editThreshold',
  self_correct: 'selfCorrect',
};

/**
 * The model's recommended diffusion settings: the sampler's defaults (cache mode, blocks of 32,
 * threshold 0.9), with blocks no larger than the largest the model was trained with, overridden by
 * the `diffusion` object of the folder's generation_config.json when it has one.
 */
export function diffusionDefaults(dir: string, config: ModelConfig): DiffusionDefaults {
  const trained = config.trainedBlockSizes ?? [];
  const d: DiffusionDefaults = {
    mode: DEFAULT_OPTIONS.mode,
    blockSize:
      trained.length > 0 ? Math.min(DEFAULT_OPTIONS.blockSize, Math.max(...trained)) : DEFAULT_OPTIONS.blockSize,
    threshold: DEFAULT_OPTIONS.threshold,
    editThreshold: DEFAULT_OPTIONS.editThreshold,
    selfCorrect: DEFAULT_OPTIONS.selfCorrect,
  };
  const file = path.join(dir, 'generation_config.json');
  if (existsSync(file)) {
    const j = JSON.parse(readFileSync(file, 'utf8')) as { diffusion?: Record<string, unknown> };
    for (const [k, v] of Object.entries(j.diffusion ?? {})) {
      const key = GENERATION_KEYS[k];
      if (!key)
        throw new Error(`${file}: unknown diffusion setting "${k}"; known: ${Object.keys(GENERATION_KEYS).join(', ')}`);
      (d as unknown as Record<string, unknown>)[key] = v;
    }
  }
  return d;
}

export function loadModelInfo(dir: string): ModelInfo {
  const config = readConfig(dir);
  const tokFile = path.join(dir, 'tokenizer.json');
  if (!existsSync(tokFile)) throw new Error(`the model folder ${path.resolve(dir)} has no tokenizer.json`);
  const tokenizer = Tokenizer.load(tokFile);
  const eos = tokenizer.idToToken(config.eosTokenId);
  const { mtimeMs } = statSync(path.join(dir, 'config.json'));
  return {
    dir,
    config,
    tokenizer,
    chat: loadChatFormat(dir, { eos }),
    defaults: diffusionDefaults(dir, config),
    created: Math.floor(mtimeMs / 1000),
  };
}
