// The held-out split the small-scale measures read: the same documents the data build puts in its
// validation shards (deterministic in each file's content hash, see isValidation in the model
// package), tokenized with the model's own tokenizer.
import { collectDocuments, isValidation, openDataset } from '@seed-diffusion/model';
import type { TextCodec } from '@seed-diffusion/sampler';

export interface HeldOut {
  /** Where the documents came from (a folder of source files or a dataset folder). */
  source: string;
  /** Document texts (the next-line measure works on lines). */
  texts: string[];
  /** Token ids of each document (no EOS). */
  docs: Int32Array[];
  /** The documents joined with EOS after each, as in the shards (the ELBO reads windows of it). */
  stream: Int32Array;
  eosId: number;
}

/** Held-out documents from texts: tokenized, empty ones dropped. */
export function heldOutFromTexts(
  texts: readonly string[],
  tokenizer: TextCodec,
  eosId: number,
  source = 'texts',
): HeldOut {
  const keptTexts: string[] = [];
  const docs: Int32Array[] = [];
  for (const t of texts) {
    const ids = Int32Array.from(tokenizer.encode(t));
    if (ids.length === 0) continue;
    keptTexts.push(t);
    docs.push(ids);
  }
  if (docs.length === 0) throw new Error(`held-out ${source}: no non-empty documents`);
  return { source, texts: keptTexts, docs, stream: joinWithEos(docs, eosId), eosId };
}

export interface FolderOptions {
  /** Fraction of files held out by the data build (default 0.03, its default). */
  validFraction?: number;
  extensions?: string[];
  /** Keep at most this many held-out documents (in hash order; default all). */
  maxDocs?: number;
}

/**
 * The validation documents of a source folder exactly as `seed-diffusion data build --src DIR`
 * splits it (same deduplication, same hash order, same membership test).
 */
export function heldOutFromFolder(src: string, tokenizer: TextCodec, eosId: number, o: FolderOptions = {}): HeldOut {
  const frac = o.validFraction ?? 0.03;
  if (!(frac > 0 && frac < 1)) throw new Error(`validFraction must be in (0, 1), got ${frac}`);
  const { docs } = collectDocuments(src, o.extensions ?? ['.py']);
  const valid = docs.filter((d) => isValidation(d.hash, frac)).slice(0, o.maxDocs ?? Infinity);
  if (valid.length === 0)
    throw new Error(`held-out: no file of ${src} falls in the validation split (fraction ${frac})`);
  return heldOutFromTexts(
    valid.map((d) => d.text),
    tokenizer,
    eosId,
    src,
  );
}

/** The validation shards of a dataset folder written by `seed-diffusion data build`, split at EOS. */
export function heldOutFromDataset(dir: string, tokenizer: TextCodec): HeldOut {
  const { meta, valid } = openDataset(dir);
  if (valid.length === 0) throw new Error(`${dir}: the dataset has no validation tokens`);
  const docs: Int32Array[] = [];
  let from = 0;
  for (let i = 0; i <= valid.length; i++) {
    if (i === valid.length || valid[i] === meta.eosTokenId) {
      if (i > from) docs.push(valid.slice(from, i));
      from = i + 1;
    }
  }
  return {
    source: dir,
    texts: docs.map((d) => tokenizer.decode(d)),
    docs,
    stream: joinWithEos(docs, meta.eosTokenId),
    eosId: meta.eosTokenId,
  };
}

function joinWithEos(docs: readonly Int32Array[], eosId: number): Int32Array {
  const total = docs.reduce((a, d) => a + d.length + 1, 0);
  const out = new Int32Array(total);
  let o = 0;
  for (const d of docs) {
    out.set(d, o);
    o += d.length;
    out[o++] = eosId;
  }
  return out;
}
