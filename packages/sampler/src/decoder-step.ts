// The protocol between a decoder and whatever runs its forwards. A decoder is a generator (a
// per-request state machine): it yields its events, and for each forward a ForwardNeed naming
// what it needs — a prefill, a block against its cache, a verify forward, a no-cache forward —
// and is resumed with that forward's logits. It never calls the model itself, so a driver can
// gather the needs of many requests into one batched forward (DecodeBatch) or run one alone.
import type { Tensor } from '@seed-diffusion/native';

import type { DecodeEvent, DecodeResult } from './events';
import type { DecodingCache, FullTopology } from './model-api';

export type ForwardCall =
  /** Append `ids` to the cache as clean, block-causal rows (no logits; resumed with null). */
  | { kind: 'prefill'; cache: DecodingCache; ids: Int32Array; block: number }
  /** A block against the cache: logits for `rows`; `commit` keeps the first rows (block-causal with `block`). */
  | { kind: 'block'; cache: DecodingCache; ids: Int32Array; rows: Int32Array; commit?: number; block?: number }
  /** Mode 'verify': clean rows, one-token mask rows and draft rows (see Model.forwardVerify). */
  | { kind: 'verify'; cache: DecodingCache; clean: Int32Array; masks: number; draft: number }
  /** No cache: the whole canvas, logits for `rows`. */
  | { kind: 'full'; ids: Int32Array; topology: FullTopology; rows: Int32Array };

export interface ForwardNeed {
  type: 'forward';
  call: ForwardCall;
}

/** Yields events and forward needs; resumed with the logits of each need (null for a prefill). */
export type Decoder = Generator<DecodeEvent | ForwardNeed, DecodeResult, Tensor | null | undefined>;

/** What a driver gives its decoders: where their caches come from. */
export interface DecoderContext {
  newCache(maxLen: number): DecodingCache;
}

/** Rows a forward call puts through the model (the scheduler's token budget counts these). */
export function callRows(call: ForwardCall): number {
  switch (call.kind) {
    case 'verify':
      return call.clean.length + call.masks + call.draft;
    default:
      return call.ids.length;
  }
}
