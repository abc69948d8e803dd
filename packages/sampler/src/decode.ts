// Drivers of the decoder state machines. decodeSteps runs one request (a batch of one: the same
// decoder and the same forward path as a batch); DecodeBatch runs many, gathering every ready
// request's forward into one batched forward per step and routing the logits back.
import type { Tensor } from '@seed-diffusion/native';

import { blockDecoder, checkPrompt, splitRequest, type DecodeRequest } from './block-decoder';
import { callRows, type Decoder, type DecoderContext, type ForwardCall } from './decoder-step';
import type { DecodeEvent, DecodeResult } from './events';
import { runForwards } from './forwards';
import { disposeCaches, withOwnedCaches } from './lifetimes';
import type { DecodingCache, DecodingModel, DecodingPool } from './model-api';
import { verifyDecoder } from './verify-decoder';

/** A decoder for one request (validated here: a bad prompt or option throws at once). */
export function startDecoder(
  model: DecodingModel,
  prompt: ArrayLike<number>,
  request: DecodeRequest,
  ctx: DecoderContext,
): Decoder {
  const { opts, shouldStop } = splitRequest(request);
  const ids = checkPrompt(model, prompt);
  return opts.mode === 'verify'
    ? verifyDecoder(model, ids, opts, shouldStop, ctx)
    : blockDecoder(model, ids, opts, shouldStop, ctx);
}

/**
 * The decoding loop as a synchronous generator of events; its return value is the result. Every
 * other single-request entry point (decode, decodeEvents, streamText) drives this one.
 */
export function decodeSteps(
  model: DecodingModel,
  prompt: ArrayLike<number>,
  request: DecodeRequest = {},
): Generator<DecodeEvent, DecodeResult, void> {
  // The caches this decode makes are disposed when it ends, however it ends.
  return withOwnedCaches(model, (m) => runOneDecoder(m, prompt, request));
}

function* runOneDecoder(
  model: DecodingModel,
  prompt: ArrayLike<number>,
  request: DecodeRequest,
): Generator<DecodeEvent, DecodeResult, void> {
  const dec = startDecoder(model, prompt, request, { newCache: (n) => model.newCache(n) });
  try {
    let r = dec.next();
    for (;;) {
      if (r.done) return r.value;
      const y = r.value;
      if (y.type === 'forward') {
        const out = runForwards(model, [y.call]);
        // The decoder reads its logits before it yields again; then they are freed.
        try {
          r = dec.next(out.logits[0]);
        } finally {
          out.free();
        }
      } else {
        yield y;
        r = dec.next();
      }
    }
  } finally {
    // Stopped early (or failed): end the decoder so that its cache is released.
    dec.return(undefined as never);
  }
}

/** Runs a whole decode, calling `onEvent` for every event. */
export function decode(
  model: DecodingModel,
  prompt: ArrayLike<number>,
  request: DecodeRequest & { onEvent?: (e: DecodeEvent) => void } = {},
): DecodeResult {
  const { onEvent, ...rest } = request;
  const it = decodeSteps(model, prompt, rest);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
    onEvent?.(r.value);
  }
}

/**
 * The same events as an async iterator; it yields to the event loop after every step so output
 * can be written and signals handled while decoding.
 */
export async function* decodeEvents(
  model: DecodingModel,
  prompt: ArrayLike<number>,
  request: DecodeRequest = {},
): AsyncGenerator<DecodeEvent, DecodeResult, void> {
  const it = decodeSteps(model, prompt, request);
  try {
    for (;;) {
      const r = it.next();
      if (r.done) return r.value;
      yield r.value;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    it.return(undefined as never);
  }
}

export interface DecodeBatchOptions {
  /** Where the requests' caches come from (the model's own growable pool when absent). */
  pool?: DecodingPool;
  /**
   * Most rows in one forward (default 4096): the requests whose forwards fit run this step, the
   * rest the next (a prompt's prefill longer than this runs alone).
   */
  maxBatchRows?: number;
}

/** How a request of a batch ended. */
export type BatchOutcome =
  { status: 'done'; result: DecodeResult } | { status: 'cancelled' } | { status: 'failed'; error: Error };

interface Entry {
  id: number;
  dec: Decoder;
  /** The decoder's last yield not yet handled (a forward need waiting for its batch). */
  at: IteratorResult<DecodeEvent | { type: 'forward'; call: ForwardCall }, DecodeResult> | null;
  onEvent: (e: DecodeEvent) => void;
  onEnd: (o: BatchOutcome) => void;
  /** The caches its decoder made: disposed when it leaves the batch, however it ends. */
  caches: DecodingCache[];
}

/**
 * Many requests decoded together: each step gathers every request's next forward (up to
 * maxBatchRows rows, oldest requests first), runs them as one batched forward, and hands each
 * request its logits. Every request gets exactly the tokens and events it gets alone (the model's
 * batched forward is row-independent). Synchronous: an engine calls step() from wherever it
 * keeps its compute (a worker thread).
 */
export class DecodeBatch {
  private entries: Entry[] = [];
  private nextId = 1;
  readonly maxBatchRows: number;

  constructor(
    readonly model: DecodingModel,
    readonly opts: DecodeBatchOptions = {},
  ) {
    this.maxBatchRows = opts.maxBatchRows ?? 4096;
    if (!Number.isInteger(this.maxBatchRows) || this.maxBatchRows < 1) {
      throw new Error(`DecodeBatch: maxBatchRows must be a positive integer, got ${opts.maxBatchRows}`);
    }
  }

  /** Requests not yet finished. */
  get size(): number {
    return this.entries.length;
  }

  /**
   * Adds a request; a bad prompt or option throws here. onEvent sees its events as the steps run;
   * onEnd is called once, when it finishes, is cancelled or fails. Returns its id.
   */
  add(
    prompt: ArrayLike<number>,
    request: DecodeRequest,
    onEvent: (e: DecodeEvent) => void = () => {},
    onEnd: (o: BatchOutcome) => void = () => {},
  ): number {
    const { model } = this;
    const pool = this.opts.pool;
    const caches: DecodingCache[] = [];
    const dec = startDecoder(model, prompt, request, {
      newCache: (n) => {
        const c = pool ? model.newCache(n, pool) : model.newCache(n);
        caches.push(c);
        return c;
      },
    });
    const id = this.nextId++;
    this.entries.push({ id, dec, at: null, onEvent, onEnd, caches });
    return id;
  }

  /** Cancels a request: its decoder ends (releasing its cache) and onEnd gets 'cancelled'. */
  cancel(id: number): boolean {
    const i = this.entries.findIndex((e) => e.id === id);
    if (i < 0) return false;
    const [e] = this.entries.splice(i, 1);
    try {
      e.dec.return(undefined as never);
    } finally {
      disposeCaches(e.caches);
      e.onEnd({ status: 'cancelled' });
    }
    return true;
  }

  /**
   * One batched forward: advances every request to its next forward (emitting events, finishing
   * those that are done), runs as many of those forwards as fit in maxBatchRows in one call, and
   * resumes their requests with the logits. Returns the rows forwarded (0 when idle).
   */
  step(): number {
    for (const e of [...this.entries]) this.advance(e, undefined);
    const chosen: Entry[] = [];
    let rows = 0;
    for (const e of this.entries) {
      const y = e.at && !e.at.done ? e.at.value : null;
      if (!y || y.type !== 'forward') continue;
      const n = callRows(y.call);
      if (chosen.length > 0 && rows + n > this.maxBatchRows) continue;
      chosen.push(e);
      rows += n;
    }
    if (chosen.length === 0) return 0;
    const calls = chosen.map((e) => (e.at!.value as { call: ForwardCall }).call);
    let out;
    try {
      out = runForwards(this.model, calls);
    } catch (err) {
      if (chosen.length === 1) {
        this.fail(chosen[0], err as Error);
        return 0;
      }
      // Find the request(s) at fault (e.g. a full pool): run them one by one.
      for (const e of chosen) {
        try {
          const o = runForwards(this.model, [(e.at!.value as { call: ForwardCall }).call]);
          try {
            this.advance(e, o.logits[0]);
          } finally {
            o.free();
          }
        } catch (err1) {
          this.fail(e, err1 as Error);
        }
      }
      return rows;
    }
    try {
      chosen.forEach((e, i) => this.advance(e, out.logits[i]));
    } finally {
      out.free();
    }
    return rows;
  }

  /** Steps until every request has finished. */
  runToEnd(): void {
    while (this.entries.length > 0) this.step();
  }

  /**
   * Resumes a request (with logits when it waited on a forward) and runs it to its next forward
   * need, emitting its events; a finished or failed request leaves the batch.
   */
  private advance(e: Entry, logits: Tensor | null | undefined): void {
    if (e.at && !e.at.done && e.at.value.type === 'forward' && logits === undefined) return; // still waiting
    try {
      let r = e.dec.next(logits);
      while (!r.done && r.value.type !== 'forward') {
        e.onEvent(r.value);
        r = e.dec.next();
      }
      e.at = r;
      if (r.done) {
        this.remove(e);
        disposeCaches(e.caches);
        e.onEnd({ status: 'done', result: r.value });
      }
    } catch (err) {
      this.fail(e, err as Error);
    }
  }

  private fail(e: Entry, error: Error): void {
    this.remove(e);
    try {
      e.dec.return(undefined as never);
    } catch {
      // the decoder already ended with the error
    }
    disposeCaches(e.caches);
    e.onEnd({ status: 'failed', error });
  }

  private remove(e: Entry): void {
    const i = this.entries.indexOf(e);
    if (i >= 0) this.entries.splice(i, 1);
  }
}
