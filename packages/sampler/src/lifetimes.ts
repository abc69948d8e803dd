// The sampler frees what it allocates: every KV cache a decode makes through model.newCache is
// disposed when the decode ends — finished, stopped early, cancelled, failed or abandoned by its
// consumer (a generator's return() runs the finally). Without this each generation leaked its cache
// (~2 MB per 256 tokens on WASM, where memory is not the GC's). A paged cache's dispose gives its
// pages back to the pool; the decoders release them too, and both are harmless twice.
import type { DecodingCache, DecodingModel } from './model-api';

/**
 * `model` with newCache recording each cache it makes into `caches`. Every other DecodingModel
 * call is forwarded unchanged (optional ones only when the model has them: the drivers test for
 * forwardBatch / forwardVerify / verifyItem to choose their path).
 */
export function trackCaches(model: DecodingModel, caches: DecodingCache[]): DecodingModel {
  const fv = model.forwardVerify;
  const fb = model.forwardBatch;
  const vi = model.verifyItem;
  return {
    get config() {
      return model.config;
    },
    newCache: (maxLen, pool) => {
      const c = pool ? model.newCache(maxLen, pool) : model.newCache(maxLen);
      caches.push(c);
      return c;
    },
    prefill: (cache, ids, block) => model.prefill(cache, ids, block),
    forwardBlock: (cache, ids, opts) => model.forwardBlock(cache, ids, opts),
    forwardFull: (ids, topology, opts) => model.forwardFull(ids, topology, opts),
    forwardVerify: fv ? (cache, clean, opts) => fv.call(model, cache, clean, opts) : undefined,
    forwardBatch: fb ? (items) => fb.call(model, items) : undefined,
    verifyItem: vi ? (cache, clean, opts) => vi.call(model, cache, clean, opts) : undefined,
  };
}

/** Disposes (or, lacking dispose, releases) the caches and empties the list. */
export function disposeCaches(caches: DecodingCache[]): void {
  for (const c of caches.splice(0)) {
    if (c.dispose) c.dispose();
    else c.release?.();
  }
}

/** Runs a decode generator over a cache-tracking model and disposes its caches at the end. */
export function* withOwnedCaches<E, R>(
  model: DecodingModel,
  run: (tracked: DecodingModel) => Generator<E, R, void>,
): Generator<E, R, void> {
  const caches: DecodingCache[] = [];
  try {
    return yield* run(trackCaches(model, caches));
  } finally {
    disposeCaches(caches);
  }
}
