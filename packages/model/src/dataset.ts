// Building a token dataset from a folder of code: collect files, deduplicate by content
// hash, split train/validation by file (deterministic in the hash), tokenize (training a
// tokenizer when none is given) and write token shards with EOS between documents.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { SPECIAL_TOKENS, Tokenizer } from '@seed-diffusion/tokenizer';

import { writeFileAtomic } from './fsutil';
import { readShards, writeShard } from './shards';

export interface DatasetOptions {
  /** Folder of code files to collect (optional when `documents` are given). */
  src?: string;
  /**
   * Extra documents (e.g. generated tasks as prompt + solution), deduplicated with the files by
   * content; a document's `split` puts it in train or validation, otherwise its hash decides.
   */
  documents?: Array<{ text: string; split?: 'train' | 'validation' }>;
  out: string;
  /** File extensions to collect (default ['.py']). */
  extensions?: string[];
  /** An existing tokenizer.json; otherwise one is trained with vocabSize. */
  tokenizerFile?: string;
  vocabSize?: number;
  /** Bytes of training text used to train the tokenizer (default 4 MB, a deterministic subset). */
  tokenizerSampleBytes?: number;
  /** Fraction of files held out for validation (default 0.03). */
  validFraction?: number;
  /** Stop collecting after this many bytes of unique files (default: no limit). */
  maxBytes?: number;
  /** Tokens per shard file (default 16M). */
  shardTokens?: number;
  onProgress?: (phase: 'scan' | 'tokenizer' | 'encode', done: number, total: number) => void;
}

export interface DatasetMeta {
  version: 1;
  source: string;
  extensions: string[];
  vocabSize: number;
  eosTokenId: number;
  maskTokenId: number;
  padTokenId: number;
  files: { found: number; duplicates: number; skipped: number; train: number; validation: number };
  tokens: { train: number; validation: number };
  /** Extra documents given besides the files (generated tasks), when any. */
  documents?: number;
  shards: { train: string[]; validation: string[] };
  tokenizer: string;
}

interface Doc {
  file: string;
  hash: string;
  text: string;
  split?: 'train' | 'validation';
}

function walk(dir: string, exts: string[], out: string[]): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // unreadable folder: skip
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, exts, out);
    else if (e.isFile() && exts.some((x) => e.name.endsWith(x))) out.push(p);
  }
}

/** Files under src, deduplicated by SHA-256 of their content, in hash order. */
export function collectDocuments(
  src: string,
  exts: string[],
  maxBytes = Infinity,
  onProgress?: (done: number, total: number) => void,
): { docs: Doc[]; found: number; duplicates: number; skipped: number } {
  if (!fs.existsSync(src) || !fs.statSync(src).isDirectory()) throw new Error(`data: --src ${src} is not a folder`);
  const files: string[] = [];
  walk(src, exts, files);
  const seen = new Map<string, Doc>();
  let duplicates = 0;
  let skipped = 0;
  let bytes = 0;
  files.forEach((file, i) => {
    onProgress?.(i + 1, files.length);
    if (bytes >= maxBytes) return;
    let buf: Buffer;
    try {
      buf = fs.readFileSync(file);
    } catch {
      skipped++;
      return;
    }
    const text = buf.toString('utf8');
    if (text.includes('\uFFFD') || text.trim().length === 0) {
      skipped++; // not UTF-8 text, or empty
      return;
    }
    const hash = createHash('sha256').update(buf).digest('hex');
    if (seen.has(hash)) {
      duplicates++;
      return;
    }
    seen.set(hash, { file, hash, text });
    bytes += buf.length;
  });
  const docs = [...seen.values()].sort((a, b) => (a.hash < b.hash ? -1 : 1));
  return { docs, found: files.length, duplicates, skipped };
}

/** Validation membership from the hash alone: stable under adding or removing other files. */
export function isValidation(hash: string, fraction: number): boolean {
  return parseInt(hash.slice(0, 8), 16) / 2 ** 32 < fraction;
}

export function buildDataset(o: DatasetOptions): DatasetMeta {
  const exts = o.extensions ?? ['.py'];
  const frac = o.validFraction ?? 0.03;
  const shardTokens = o.shardTokens ?? 16 * 1024 * 1024;
  if (o.src === undefined && !o.documents?.length) throw new Error('data: give a source folder or documents');
  const collected =
    o.src !== undefined
      ? collectDocuments(o.src, exts, o.maxBytes, (d, t) => o.onProgress?.('scan', d, t))
      : { docs: [], found: 0, duplicates: 0, skipped: 0 };
  const { found, skipped } = collected;
  let { duplicates } = collected;
  let docs = collected.docs;
  if (o.src !== undefined && docs.length === 0)
    throw new Error(`data: no ${exts.join('/')} files found under ${o.src}`);
  if (o.documents?.length) {
    const seen = new Set(docs.map((d) => d.hash));
    o.documents.forEach((d, i) => {
      const hash = createHash('sha256').update(d.text).digest('hex');
      if (seen.has(hash)) return void duplicates++;
      seen.add(hash);
      docs.push({ file: `document ${i}`, hash, text: d.text, split: d.split });
    });
    docs = docs.sort((a, b) => (a.hash < b.hash ? -1 : 1));
  }
  const inValid = (d: Doc) => (d.split ? d.split === 'validation' : isValidation(d.hash, frac));
  const train = docs.filter((d) => !inValid(d));
  const valid = docs.filter((d) => inValid(d));
  if (train.length === 0) throw new Error('data: every file landed in validation; lower validFraction');

  let tok: Tokenizer;
  if (o.tokenizerFile) {
    tok = Tokenizer.load(o.tokenizerFile);
  } else {
    const budget = o.tokenizerSampleBytes ?? 4 * 1024 * 1024;
    const sample: string[] = [];
    let b = 0;
    for (const d of train) {
      if (b >= budget) break;
      sample.push(d.text);
      b += d.text.length;
    }
    tok = Tokenizer.train(sample, {
      vocabSize: o.vocabSize ?? 8192,
      totalBytes: b,
      onProgress: (done, total) => o.onProgress?.('tokenizer', done, total),
    });
  }
  const id = (name: string): number => {
    const v = tok.tokenToId(name);
    if (v === undefined) throw new Error(`data: the tokenizer has no ${name} token`);
    return v;
  };
  const eos = id(SPECIAL_TOKENS.eos);
  fs.mkdirSync(o.out, { recursive: true });
  const tokPath = path.join(o.out, 'tokenizer.json');
  writeFileAtomic(tokPath, JSON.stringify(tok.toHFJson()));

  const totalDocs = docs.length;
  let encoded = 0;
  const writeSplit = (name: string, split: Doc[]): { files: string[]; tokens: number } => {
    const files: string[] = [];
    let buf: number[] = [];
    let tokens = 0;
    const flush = () => {
      if (buf.length === 0) return;
      const f = `${name}-${String(files.length).padStart(5, '0')}.bin`;
      writeShard(path.join(o.out, f), buf, tok.vocabSize);
      files.push(f);
      buf = [];
    };
    for (const d of split) {
      const ids = tok.encode(d.text);
      for (const t of ids) buf.push(t);
      buf.push(eos); // document separator
      tokens += ids.length + 1;
      if (buf.length >= shardTokens) flush();
      o.onProgress?.('encode', ++encoded, totalDocs);
    }
    flush();
    return { files, tokens };
  };
  const tr = writeSplit('train', train);
  const va = writeSplit('validation', valid);
  const meta: DatasetMeta = {
    version: 1,
    source: o.src !== undefined ? path.resolve(o.src) : 'documents',
    extensions: exts,
    vocabSize: tok.vocabSize,
    eosTokenId: eos,
    maskTokenId: id(SPECIAL_TOKENS.mask),
    padTokenId: id(SPECIAL_TOKENS.pad),
    files: { found, duplicates, skipped, train: train.length, validation: valid.length },
    ...(o.documents?.length ? { documents: o.documents.length } : {}),
    tokens: { train: tr.tokens, validation: va.tokens },
    shards: { train: tr.files, validation: va.files },
    tokenizer: 'tokenizer.json',
  };
  writeFileAtomic(path.join(o.out, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  return meta;
}

/** Opens a dataset folder written by buildDataset: meta, validated shards and the tokenizer text. */
export function openDataset(dir: string): {
  meta: DatasetMeta;
  train: Int32Array;
  valid: Int32Array;
  tokenizerJson: string;
} {
  const mf = path.join(dir, 'meta.json');
  if (!fs.existsSync(mf)) throw new Error(`${dir}: no meta.json (build one with \`seed-diffusion data build\`)`);
  const meta = JSON.parse(fs.readFileSync(mf, 'utf8')) as DatasetMeta;
  if (meta.version !== 1) throw new Error(`${mf}: unsupported version ${meta.version}`);
  for (const k of ['vocabSize', 'eosTokenId', 'maskTokenId', 'padTokenId'] as const) {
    if (!Number.isInteger(meta[k])) throw new Error(`${mf}: field ${k} is missing or not an integer`);
  }
  const train = readShards(
    meta.shards.train.map((f) => path.join(dir, f)),
    meta.vocabSize,
  );
  const valid = readShards(
    meta.shards.validation.map((f) => path.join(dir, f)),
    meta.vocabSize,
  );
  const tokenizerJson = fs.readFileSync(path.join(dir, meta.tokenizer), 'utf8');
  return { meta, train, valid, tokenizerJson };
}
