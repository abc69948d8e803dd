// The sampler frees what it allocates: every KV cache a decode makes through model.newCache is
// disposed when the decode ends — finished, stopped early, or abandoned by its consumer (a
// generator's return() runs the finally). Without this each generation leaked its cache (~2 MB
// per 256 tokens on WASM, where memory is not the GC's).
import type { DecodingCache, DecodingModel } from './model-api';

/** `model` with newCache recording each cache it makes into `caches`. */
export function trackCaches(model: DecodingModel, caches: DecodingCache[]): DecodingModel {
  const fv = model.forwardVerify;
  return {
    get config() {
      return model.config;
    },
    newCache: (maxLen) => {
      const c = model.newCache(maxLen);
      caches.push(c);
      return c;
    },
    prefill: (cache, ids, block) => model.prefill(cache, ids, block),
    forwardBlock: (cache, ids, opts) => model.forwardBlock(cache, ids, opts),
    forwardFull: (ids, topology, opts) => model.forwardFull(ids, topology, opts),
    forwardVerify: fv ? (cache, clean, opts) => fv.call(model, cache, clean, opts) : undefined,
  };
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
    for (const c of caches) c.dispose?.();
  }
}
