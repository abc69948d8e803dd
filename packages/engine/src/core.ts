// The engine's core: admission, scheduling and the batched decode loop, all synchronous, on the
// thread that owns the backend. Requests wait in a FIFO queue until the pool can promise them the
// pages their worst case needs (so a running request never runs out of KV memory: backpressure
// instead of failures), then join a DecodeBatch whose every step is one batched forward.
import { makeConfig, Model, type KVPool, type ModelConfigInput } from '@seed-diffusion/model';
import { backend } from '@seed-diffusion/native';
import {
  checkPrompt,
  DecodeBatch,
  resolveOptions,
  verifyCacheRows,
  type BatchOutcome,
  type DecodeEvent,
} from '@seed-diffusion/sampler';

import type { CoreOptions, EngineRequest, EngineStats, EndMessage, ModelSource } from './protocol';

/** Thrown by submit when the queue is full (the caller should retry later or shed load). */
export class QueueFullError extends Error {
  constructor(queued: number) {
    super(`engine queue full: ${queued} requests already waiting; retry later`);
    this.name = 'QueueFullError';
  }
}

export interface RequestSink {
  event(e: DecodeEvent): void;
  end(e: EndMessage): void;
}

interface Waiting {
  id: number;
  request: EngineRequest;
  pages: number;
  sink: RequestSink;
}

/** Loads the model a core serves. */
export function loadModel(src: ModelSource, halfWeights: CoreOptions['halfWeights'] = 'auto'): Model {
  let m: Model;
  if ('dir' in src) m = Model.load(src.dir);
  else {
    const c = makeConfig(src.config as unknown as ModelConfigInput);
    const b = backend();
    m = new Model(c, b.from(src.params), b);
  }
  if (halfWeights) m.useHalfWeights(halfWeights);
  return m;
}

export class EngineCore {
  readonly pool: KVPool;
  private readonly batch: DecodeBatch;
  private readonly queue: Waiting[] = [];
  /** Running requests → pages promised to them. */
  private readonly running = new Map<number, number>();
  private readonly batchIds = new Map<number, number>();
  private budgeted = 0;
  private forwards = 0;
  private rows = 0;
  readonly maxRunning: number;
  readonly maxQueued: number;

  constructor(
    readonly model: Model,
    opts: Omit<CoreOptions, 'model'> = {},
  ) {
    this.pool = model.newPool({ pages: opts.poolPages ?? 512, pageSize: opts.pageSize });
    this.batch = new DecodeBatch(model, { pool: this.pool, maxBatchRows: opts.maxBatchRows });
    this.maxRunning = opts.maxRunning ?? 64;
    this.maxQueued = opts.maxQueued ?? 1024;
    for (const [k, v] of Object.entries({ maxRunning: this.maxRunning, maxQueued: this.maxQueued })) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`engine option ${k}: must be a positive integer, got ${v}`);
    }
  }

  /** Whether a step has work to do. */
  get busy(): boolean {
    return this.batch.size > 0 || this.queue.length > 0;
  }

  /**
   * Queues a request. A bad prompt or option, a request larger than the whole pool, or a full
   * queue throws here (nothing is queued).
   */
  submit(id: number, request: EngineRequest, sink: RequestSink): void {
    const { prompt, ...rest } = request;
    const opts = resolveOptions(rest);
    const ids = checkPrompt(this.model, prompt);
    const pages = Math.ceil(cacheRows(this.model.config.maxSeqLen, ids.length, opts) / this.pool.pageSize);
    if (pages > this.pool.capacity) {
      throw new Error(
        `request needs up to ${pages} KV pages of ${this.pool.pageSize} rows (prompt ${ids.length} + ${opts.maxNewTokens} new tokens), ` +
          `more than the engine's pool of ${this.pool.capacity}: shorten it or start the engine with more poolPages`,
      );
    }
    if (this.queue.length >= this.maxQueued) throw new QueueFullError(this.queue.length);
    this.queue.push({ id, request: { ...rest, prompt: ids }, pages, sink });
  }

  /** Cancels a queued or running request (its pages go back at once). */
  cancel(id: number): boolean {
    const q = this.queue.findIndex((w) => w.id === id);
    if (q >= 0) {
      const [w] = this.queue.splice(q, 1);
      w.sink.end({ status: 'cancelled' });
      return true;
    }
    const b = this.batchIds.get(id);
    return b !== undefined && this.batch.cancel(b);
  }

  /** Admits what fits, then runs one batched forward. Returns the rows forwarded. */
  step(): number {
    this.admit();
    const rows = this.batch.step();
    if (rows > 0) {
      this.forwards++;
      this.rows += rows;
    }
    return rows;
  }

  stats(): EngineStats {
    const p = this.pool;
    return {
      running: this.running.size,
      queued: this.queue.length,
      budgetedPages: this.budgeted,
      pool: {
        pageSize: p.pageSize,
        capacity: p.capacity,
        usedPages: p.usedPages,
        freePages: p.freePages,
        bytesPerPage: p.bytesPerPage,
      },
      forwards: this.forwards,
      rowsForwarded: this.rows,
    };
  }

  /** Moves queued requests into the batch, oldest first, while their page budgets fit. */
  private admit(): void {
    while (this.queue.length > 0 && this.running.size < this.maxRunning) {
      const w = this.queue[0];
      if (this.budgeted + w.pages > this.pool.capacity) break; // wait for pages (FIFO: no overtaking)
      this.queue.shift();
      const { prompt, ...opts } = w.request;
      this.running.set(w.id, w.pages);
      this.budgeted += w.pages;
      const onEnd = (o: BatchOutcome) => {
        this.budgeted -= this.running.get(w.id) ?? 0;
        this.running.delete(w.id);
        this.batchIds.delete(w.id);
        w.sink.end(
          o.status === 'failed' ? { status: 'failed', error: { name: o.error.name, message: o.error.message } } : o,
        );
      };
      try {
        this.batchIds.set(
          w.id,
          this.batch.add(prompt, opts, (e) => w.sink.event(e), onEnd),
        );
      } catch (e) {
        onEnd({ status: 'failed', error: e as Error });
      }
    }
  }
}

/** KV rows a request may hold at most: what its decoder's cache is sized for. */
export function cacheRows(
  maxSeqLen: number,
  promptLen: number,
  o: { mode: string; maxNewTokens: number; blockSize: number; draftRows: number },
): number {
  const limit = Math.min(maxSeqLen, promptLen + o.maxNewTokens);
  if (o.mode === 'nocache') return 0;
  return o.mode === 'verify' ? verifyCacheRows(maxSeqLen, limit, o.blockSize, o.draftRows) : limit;
}
