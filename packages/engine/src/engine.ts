// The caller's side: Engine.start spawns the core on a worker thread (or, with worker: false,
// runs it on this thread over a MessageChannel) and submit(request) returns a RequestStream, an
// async iterator of that request's decode events. One engine owns one model and its backend.
import path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';

import type { Model } from '@seed-diffusion/model';
import type { DecodeEvent, DecodeResult } from '@seed-diffusion/sampler';

import type { CoreOptions, EndMessage, EngineRequest, EngineStats, FromCore, PoolStats, ToCore } from './protocol';
import { serve } from './serve';

export interface EngineOptions extends Omit<CoreOptions, 'model'> {
  /** A checkpoint folder, a config with its parameters, or (worker: false only) a Model. */
  model: CoreOptions['model'] | Model;
  /** Run the core on a worker thread (default true): the caller's event loop never blocks on a forward. */
  worker?: boolean;
}

/** The last event of a cancelled request. */
export interface CancelledEvent {
  type: 'cancelled';
}
export type EngineEvent = DecodeEvent | CancelledEvent;

/** A request's failure, rebuilt on the caller's side with the core's error name and message. */
export class EngineRequestError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** One submitted request: iterate it for its events; cancel() stops it (breaking out of a for-await does too). */
export class RequestStream implements AsyncIterable<EngineEvent> {
  private buffer: EngineEvent[] = [];
  private wake: (() => void) | null = null;
  private end: EndMessage | null = null;
  private waiters: (() => void)[] = [];

  constructor(
    readonly id: number,
    private readonly send: (m: ToCore) => void,
  ) {}

  /** @internal */
  push(e: DecodeEvent): void {
    this.buffer.push(e);
    this.wake?.();
  }
  /** @internal */
  finish(end: EndMessage): void {
    this.end = end;
    if (end.status === 'cancelled') this.buffer.push({ type: 'cancelled' });
    this.wake?.();
    for (const w of this.waiters.splice(0)) w();
  }

  /** Whether the request has ended (done, cancelled or failed). */
  get ended(): boolean {
    return this.end !== null;
  }

  /** Asks the engine to stop this request; its last event is { type: 'cancelled' } (unless it ended first). */
  cancel(): void {
    if (!this.end) this.send({ type: 'cancel', id: this.id });
  }

  /** The result when it is done; null when cancelled; rejects with the request's error when it failed. */
  async result(): Promise<DecodeResult | null> {
    if (!this.end) await new Promise<void>((r) => this.waiters.push(r));
    const e = this.end!;
    if (e.status === 'failed') throw new EngineRequestError(e.error.name, e.error.message);
    return e.status === 'done' ? e.result : null;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<EngineEvent, void, void> {
    try {
      for (;;) {
        if (this.buffer.length > 0) {
          yield this.buffer.shift()!;
          continue;
        }
        if (this.end) {
          if (this.end.status === 'failed') throw new EngineRequestError(this.end.error.name, this.end.error.message);
          return;
        }
        await new Promise<void>((r) => (this.wake = r));
        this.wake = null;
      }
    } finally {
      // A consumer that stops reading no longer wants the request.
      if (!this.end) this.cancel();
    }
  }
}

export class Engine {
  private nextId = 1;
  private readonly streams = new Map<number, RequestStream>();
  private readonly statsWaiters = new Map<number, (s: EngineStats) => void>();
  private closed: Promise<void> | null = null;
  private onClosed: (() => void) | null = null;

  private constructor(
    private readonly send: (m: ToCore) => void,
    private readonly stop: () => Promise<void>,
    /** What the core reported when it started. */
    readonly info: {
      model: { vocabSize: number; maxSeqLen: number; parameters: number };
      backend: string;
      pool: PoolStats;
    },
  ) {}

  /** Starts an engine and resolves once its model is loaded. */
  static start(opts: EngineOptions): Promise<Engine> {
    const { worker = true, model, ...rest } = opts;
    return new Promise<Engine>((resolve, reject) => {
      let engine: Engine | null = null;
      const onMessage = (m: FromCore) => {
        if (m.type === 'init_error') return reject(new Error(`engine failed to start: ${m.message}`));
        if (m.type === 'ready') {
          engine = new Engine(send, stop, { model: m.model, backend: m.backend, pool: m.pool });
          return resolve(engine);
        }
        engine?.receive(m);
      };
      let send: (m: ToCore) => void;
      let stop: () => Promise<void>;
      if (worker) {
        if (typeof (model as Model).forwardBatch === 'function') {
          throw new Error(
            'engine: a Model object cannot cross to a worker thread; pass { dir } or { config, params }, or worker: false',
          );
        }
        // Compiled worker next to this file (dist/), or dist/ beside src/ under ts-jest.
        const file = path.join(__dirname, '..', 'dist', 'worker.js');
        const w = new Worker(file, { workerData: { ...rest, model } });
        w.on('message', onMessage);
        w.on('error', (e) => (engine ? engine.crash(e) : reject(e)));
        send = (m) => w.postMessage(m);
        stop = async () => {
          await w.terminate();
        };
      } else {
        const { port1, port2 } = new MessageChannel();
        port1.on('message', onMessage);
        send = (m) => port1.postMessage(m);
        stop = async () => {
          port1.close();
        };
        try {
          const isModel = typeof (model as Model).forwardBatch === 'function';
          serve(
            port2 as never,
            { ...rest, model: isModel ? { dir: '' } : (model as CoreOptions['model']) },
            isModel ? (model as Model) : undefined,
          );
        } catch (e) {
          port1.close();
          reject(e);
        }
      }
    });
  }

  /** Submits a request; its events (and any error: a bad option, a full queue) come through the stream. */
  submit(request: EngineRequest): RequestStream {
    if (this.closed) throw new Error('engine: submit after close()');
    const id = this.nextId++;
    const s = new RequestStream(id, this.send);
    this.streams.set(id, s);
    // Prompts cross the thread boundary as Int32Array (a plain array works too).
    this.send({ type: 'submit', id, request: { ...request, prompt: Int32Array.from(request.prompt) } });
    return s;
  }

  /** Running and queued requests, the pool's pages, forwards so far. */
  stats(): Promise<EngineStats> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.statsWaiters.set(id, resolve);
      this.send({ type: 'stats', id });
    });
  }

  /** Cancels what is left, frees the pool and stops the core (its thread too). */
  close(): Promise<void> {
    if (this.closed) return this.closed;
    for (const s of this.streams.values()) s.cancel();
    this.closed = new Promise<void>((r) => (this.onClosed = r)).then(() => this.stop());
    this.send({ type: 'close' });
    return this.closed;
  }

  private receive(m: FromCore): void {
    switch (m.type) {
      case 'events':
        for (const { id, event } of m.items) this.streams.get(id)?.push(event);
        break;
      case 'end': {
        const s = this.streams.get(m.id);
        this.streams.delete(m.id);
        s?.finish(m.end);
        break;
      }
      case 'stats':
        this.statsWaiters.get(m.id)?.(m.stats);
        this.statsWaiters.delete(m.id);
        break;
      case 'closed':
        for (const s of this.streams.values()) s.finish({ status: 'cancelled' });
        this.streams.clear();
        this.onClosed?.();
        break;
    }
  }

  private crash(e: Error): void {
    for (const s of this.streams.values())
      s.finish({ status: 'failed', error: { name: 'EngineCrashed', message: `engine worker crashed: ${e.message}` } });
    this.streams.clear();
  }
}
