// Messages between an Engine (the caller's thread) and its core (a worker thread, or the same
// thread over a MessageChannel). Everything here survives structured cloning.
import type { BatchOutcome, DecodeEvent, DecodeRequest } from '@seed-diffusion/sampler';

/** Per-request decoding options: every sampler option (mode, block size, policy, temperature, seed, …). */
export type EngineRequestOptions = Omit<DecodeRequest, 'shouldStop'>;

export interface EngineRequest extends EngineRequestOptions {
  /** Prompt token ids. */
  prompt: ArrayLike<number>;
}

/** Where the core gets its model: a checkpoint folder, or a config and its flat parameters. */
export type ModelSource = { dir: string } | { config: Record<string, unknown>; params: Float32Array };

export interface CoreOptions {
  model: ModelSource;
  /** Keep an exact 16-bit copy of the weights when the checkpoint allows it (default 'auto'). */
  halfWeights?: 'auto' | 'f16' | 'bf16' | false;
  /** KV pool size in pages (default 512) and rows per page (default 64). */
  poolPages?: number;
  pageSize?: number;
  /** Most rows in one forward (default 4096). */
  maxBatchRows?: number;
  /** Most requests decoding at once (default 64). */
  maxRunning?: number;
  /** Most requests waiting for admission before submit is refused (default 1024). */
  maxQueued?: number;
  /** Kernel threads (default: the backend's). */
  threads?: number;
}

export interface PoolStats {
  pageSize: number;
  capacity: number;
  usedPages: number;
  freePages: number;
  bytesPerPage: number;
}

export interface EngineStats {
  running: number;
  queued: number;
  /** Pages promised to running requests (their worst case), of the pool's capacity. */
  budgetedPages: number;
  pool: PoolStats;
  forwards: number;
  rowsForwarded: number;
}

export type ToCore =
  | { type: 'submit'; id: number; request: EngineRequest }
  | { type: 'cancel'; id: number }
  | { type: 'stats'; id: number }
  | { type: 'close' };

/** A request's end as the caller sees it (errors as messages: Error objects lose their class across threads). */
export type EndMessage =
  | { status: 'done'; result: Extract<BatchOutcome, { status: 'done' }>['result'] }
  | { status: 'cancelled' }
  | { status: 'failed'; error: { name: string; message: string } };

export type FromCore =
  | {
      type: 'ready';
      model: { vocabSize: number; maxSeqLen: number; parameters: number };
      backend: string;
      pool: PoolStats;
    }
  | { type: 'events'; items: { id: number; event: DecodeEvent }[] }
  | { type: 'end'; id: number; end: EndMessage }
  | { type: 'stats'; id: number; stats: EngineStats }
  | { type: 'init_error'; message: string }
  | { type: 'closed' };
