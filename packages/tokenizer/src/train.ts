// Byte-level BPE training, the standard fast way: pre-token frequencies are counted once; each unique
// pre-token is a word of symbol ids with a frequency; pair counts are kept incrementally, with the
// words each pair occurs in, and a max-heap picks the next merge. Ties go to the smaller (left, right)
// pair, so training is deterministic. Ids: 0..255 are the bytes, then one id per merge, then the
// special tokens.
import { readFile } from 'node:fs/promises';

import type { Merge } from './bpe';
import { type PreTokenizerKind, scannerFor } from './pretokenize';
import { DEFAULT_SPECIAL_TOKENS } from './special';
import type { TokenizerSpec } from './spec';
import { encodeWtf8 } from './utf8';

export type CorpusItem = string;

export type TrainPhase = 'count' | 'merge';

export interface TrainOptions {
  /** total ids wanted: 256 bytes + merges + special tokens */
  vocabSize: number;
  /** default: the six seed-diffusion special tokens */
  specialTokens?: string[];
  /** split pattern; default 'cl100k' */
  preTokenizer?: PreTokenizerKind;
  /** stop when the best pair occurs fewer times than this (default 1: train until the size is reached or no pair is left) */
  minFrequency?: number;
  /** phase 'count': done = bytes read, total = totalBytes (0 if unknown); phase 'merge': merges done / merges wanted */
  onProgress?: (done: number, total: number, phase: TrainPhase) => void;
  /** size of the corpus in bytes, for count progress */
  totalBytes?: number;
}

/** Counts pre-token frequencies over a corpus. */
export class PreTokenCounter {
  readonly counts = new Map<string, number>();
  bytes = 0;
  private readonly next;

  constructor(kind: PreTokenizerKind = 'cl100k') {
    this.next = scannerFor(kind);
  }

  add(text: string): void {
    const { counts, next } = this;
    const end = text.length;
    for (let pos = 0; pos < end;) {
      const e = next(text, pos, end);
      const key = text.slice(pos, e);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      pos = e;
    }
    this.bytes += Buffer.byteLength(text, 'utf8');
  }
}

function checkOptions(opts: TrainOptions): string[] {
  const specials = opts.specialTokens ?? DEFAULT_SPECIAL_TOKENS;
  if (!Number.isInteger(opts.vocabSize) || opts.vocabSize < 256 + specials.length)
    throw new Error(
      `train: vocabSize must be an integer >= ${256 + specials.length} (256 bytes + ${specials.length} special tokens), got ${opts.vocabSize}`,
    );
  if (new Set(specials).size !== specials.length) throw new Error('train: specialTokens has duplicates');
  for (const s of specials)
    if (typeof s !== 'string' || s === '') throw new Error('train: specialTokens must be non-empty strings');
  return specials;
}

export function trainSpec(texts: Iterable<string>, opts: TrainOptions): TokenizerSpec {
  const specials = checkOptions(opts);
  const counter = new PreTokenCounter(opts.preTokenizer);
  for (const t of texts) {
    if (typeof t !== 'string') throw new Error('train: texts must be strings');
    counter.add(t);
    opts.onProgress?.(counter.bytes, opts.totalBytes ?? 0, 'count');
  }
  return specFromCounts(counter.counts, specials, opts);
}

export async function trainSpecAsync(
  corpus: Iterable<CorpusItem> | AsyncIterable<CorpusItem>,
  opts: TrainOptions & { files?: boolean },
): Promise<TokenizerSpec> {
  const specials = checkOptions(opts);
  const counter = new PreTokenCounter(opts.preTokenizer);
  for await (const item of corpus) {
    if (typeof item !== 'string')
      throw new Error('train: corpus items must be strings (texts, or paths with files: true)');
    counter.add(opts.files ? await readFile(item, 'utf8') : item);
    opts.onProgress?.(counter.bytes, opts.totalBytes ?? 0, 'count');
  }
  return specFromCounts(counter.counts, specials, opts);
}

export function specFromCounts(counts: Map<string, number>, specials: string[], opts: TrainOptions): TokenizerSpec {
  const wanted = opts.vocabSize - 256 - specials.length;
  const merges = learnMerges(counts, wanted, opts.minFrequency ?? 1, opts.onProgress);
  const tokenBytes: Uint8Array[] = [];
  for (let b = 0; b < 256; b++) tokenBytes.push(new Uint8Array([b]));
  for (const m of merges) {
    const l = tokenBytes[m.left];
    const r = tokenBytes[m.right];
    const t = new Uint8Array(l.length + r.length);
    t.set(l);
    t.set(r, l.length);
    tokenBytes.push(t);
  }
  const specialTokens = new Map<string, number>();
  for (const s of specials) specialTokens.set(s, tokenBytes.length + specialTokens.size);
  return {
    tokenBytes,
    merges,
    ignoreMerges: false,
    preTokenizer: opts.preTokenizer ?? 'cl100k',
    specialTokens,
    normalizer: null,
  };
}

/** The merge loop. Returns up to `wanted` merges (fewer when the corpus runs out of pairs). */
export function learnMerges(
  counts: Map<string, number>,
  wanted: number,
  minFrequency: number,
  onProgress?: (done: number, total: number, phase: TrainPhase) => void,
): Merge[] {
  const V = 256 + wanted + 1; // pair key = left * V + right
  const words: Int32Array[] = [];
  const lens: number[] = [];
  const freq: number[] = [];
  for (const [piece, c] of counts) {
    const b = encodeWtf8(piece);
    if (b.length < 2) continue;
    words.push(Int32Array.from(b));
    lens.push(b.length);
    freq.push(c);
  }
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const addWord = (key: number, w: number) => {
    const list = pairWords.get(key);
    if (list === undefined) pairWords.set(key, [w]);
    else if (list[list.length - 1] !== w) list.push(w);
  };
  for (let w = 0; w < words.length; w++) {
    const s = words[w];
    for (let i = 0; i + 1 < lens[w]; i++) {
      const key = s[i] * V + s[i + 1];
      pairCount.set(key, (pairCount.get(key) ?? 0) + freq[w]);
      addWord(key, w);
    }
  }

  // max-heap on (count, -key)
  const hc: number[] = [];
  const hk: number[] = [];
  const better = (a: number, b: number) => hc[a] > hc[b] || (hc[a] === hc[b] && hk[a] < hk[b]);
  const swap = (a: number, b: number) => {
    let t = hc[a];
    hc[a] = hc[b];
    hc[b] = t;
    t = hk[a];
    hk[a] = hk[b];
    hk[b] = t;
  };
  const push = (count: number, key: number) => {
    let k = hc.length;
    hc.push(count);
    hk.push(key);
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!better(k, p)) break;
      swap(k, p);
      k = p;
    }
  };
  const pop = () => {
    const last = hc.length - 1;
    swap(0, last);
    hc.pop();
    hk.pop();
    const n = hc.length;
    let k = 0;
    for (;;) {
      const a = 2 * k + 1;
      const b = a + 1;
      let s = k;
      if (a < n && better(a, s)) s = a;
      if (b < n && better(b, s)) s = b;
      if (s === k) break;
      swap(k, s);
      k = s;
    }
  };
  for (const [key, c] of pairCount) push(c, key);

  const merges: Merge[] = [];
  const seen = new Int32Array(words.length).fill(-1);
  const changed = new Map<number, number>();
  let lastReport = 0;
  while (merges.length < wanted && hc.length > 0) {
    const count = hc[0];
    const key = hk[0];
    pop();
    const current = pairCount.get(key) ?? 0;
    // counts of existing pairs only fall, so a stale entry overestimates: refresh it and look again
    if (current !== count) {
      if (current > 0) push(current, key);
      continue;
    }
    if (count < minFrequency || count <= 0) break;
    const a = Math.floor(key / V);
    const b = key - a * V;
    const z = 256 + merges.length;
    merges.push({ left: a, right: b, merged: z, priority: merges.length });
    changed.clear();
    const bump = (k: number, d: number) => {
      pairCount.set(k, (pairCount.get(k) ?? 0) + d);
      if (Math.floor(k / V) === z || k % V === z) changed.set(k, 1);
    };
    const list = pairWords.get(key) ?? [];
    const step = merges.length;
    for (const w of list) {
      if (seen[w] === step) continue;
      seen[w] = step;
      const s = words[w];
      const f = freq[w];
      let n = lens[w];
      let o = 0;
      for (let i = 0; i < n;) {
        if (i + 1 < n && s[i] === a && s[i + 1] === b) {
          if (o > 0) {
            bump(s[o - 1] * V + a, -f);
            bump(s[o - 1] * V + z, f);
            addWord(s[o - 1] * V + z, w);
          }
          if (i + 2 < n) {
            bump(b * V + s[i + 2], -f);
            bump(z * V + s[i + 2], f);
            addWord(z * V + s[i + 2], w);
          }
          s[o++] = z;
          i += 2;
        } else s[o++] = s[i++];
      }
      n = o;
      lens[w] = n;
    }
    pairCount.delete(key);
    pairWords.delete(key);
    for (const k of changed.keys()) {
      const c = pairCount.get(k) ?? 0;
      if (c > 0) push(c, k);
    }
    if (onProgress && (merges.length - lastReport >= 64 || merges.length === wanted)) {
      lastReport = merges.length;
      onProgress(merges.length, wanted, 'merge');
    }
  }
  onProgress?.(merges.length, wanted, 'merge');
  return merges;
}
