// What every route shares: the engine, the model, the options and metrics, and the bookkeeping of
// in-flight requests — admission against the bounded queue (429 + Retry-After), the per-request
// timeout, client disconnects and shutdown all abort a request's scope, which cancels its sequences.
import type { Engine, EngineRequestOptions } from '@seed-diffusion/engine';
import type { FastifyReply } from 'fastify';

import { ApiError } from './errors';
import { GenerationAborted } from './generation';
import type { ServerMetrics } from './metrics';
import type { ModelInfo } from './model-info';
import type { ResolvedOptions } from './options';
import type { Limits, SamplingParams } from './validate';

/** Tokens generated when a request gives no max_tokens (less where the context is shorter). */
export const DEFAULT_MAX_TOKENS = 256;

export class RequestScope {
  readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private released = false;
  private readonly t0 = performance.now();

  constructor(
    private readonly ctx: ServerContext,
    readonly reply: FastifyReply,
    readonly sequences: number,
    private readonly route: string,
  ) {
    this.timer = setTimeout(() => this.abort('timeout'), ctx.options.requestTimeoutMs);
    this.timer.unref();
    // The response closing before it finished means the client left: stop its compute.
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) this.abort('disconnect');
    });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason: GenerationAborted['reason']): void {
    if (!this.controller.signal.aborted) this.controller.abort(new GenerationAborted(reason));
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    clearTimeout(this.timer);
    this.ctx.release(this);
    const seconds = (performance.now() - this.t0) / 1000;
    this.ctx.metrics.requestDuration.observe({ route: this.route }, seconds);
    this.ctx.noteDuration(seconds);
  }
}

export class ServerContext {
  private reserved = 0;
  private readonly scopes = new Set<RequestScope>();
  private closing = false;
  /** Moving average of request durations (s), for Retry-After. */
  private avgSeconds = 1;
  readonly limits: Limits;

  constructor(
    readonly engine: Engine,
    readonly model: ModelInfo,
    readonly options: ResolvedOptions,
    readonly metrics: ServerMetrics,
  ) {
    this.limits = { maxN: options.maxN, maxContext: model.config.maxSeqLen, defaults: model.defaults };
  }

  /** Sequences admitted by the server and not yet finished. */
  get inFlightSequences(): number {
    return this.reserved;
  }
  get inFlightRequests(): number {
    return this.scopes.size;
  }
  /** Whether close() has begun. */
  get isClosing(): boolean {
    return this.closing;
  }

  /**
   * Admits a request of `sequences` completions, or refuses it: 503 while shutting down, 429 with
   * Retry-After when the engine's batch and the queue behind it are full.
   */
  admit(reply: FastifyReply, sequences: number, route: string): RequestScope {
    if (this.closing)
      throw new ApiError(503, 'the server is shutting down', 'service_unavailable', null, 'shutting_down');
    const cap = this.options.maxRunning + this.options.maxQueue;
    if (this.reserved + sequences > cap) {
      const waves = Math.ceil((this.reserved + sequences - this.options.maxRunning) / this.options.maxRunning);
      const retry = Math.max(1, Math.min(60, Math.ceil(this.avgSeconds * Math.max(1, waves))));
      throw new ApiError(
        429,
        `the server is at capacity (${this.reserved} sequences decoding or queued, limit ${cap}); retry after ${retry} s`,
        'rate_limit_error',
        null,
        'queue_full',
        { 'retry-after': String(retry) },
      );
    }
    this.reserved += sequences;
    const scope = new RequestScope(this, reply, sequences, route);
    this.scopes.add(scope);
    return scope;
  }

  /** @internal */
  release(scope: RequestScope): void {
    if (this.scopes.delete(scope)) this.reserved -= scope.sequences;
  }

  /** @internal */
  noteDuration(seconds: number): void {
    this.avgSeconds = 0.8 * this.avgSeconds + 0.2 * seconds;
  }

  /** Stops admitting; resolves when every in-flight request ended or `drainMs` passed, then cancels the rest. */
  async drain(drainMs: number): Promise<void> {
    this.closing = true;
    const until = Date.now() + drainMs;
    while (this.scopes.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.scopes) s.abort('shutdown');
    while (this.scopes.size > 0) await new Promise((r) => setTimeout(r, 10));
  }

  /** Prompt ids of a text, or a 400 naming the field when it does not fit the context. */
  encode(text: string, param: string): number[] {
    const ids = this.model.tokenizer.encode(text);
    const max = this.model.config.maxSeqLen;
    if (ids.length >= max) {
      throw new ApiError(
        400,
        `${param}: ${ids.length} tokens, but this model's context is ${max} tokens (prompt + completion): shorten it`,
        'invalid_request_error',
        param,
        'context_length_exceeded',
      );
    }
    return ids;
  }

  /** max_tokens checked against the context left after the prompt; the default fills at most DEFAULT_MAX_TOKENS. */
  maxTokens(promptTokens: number, asked: number | undefined, param = 'max_tokens'): number {
    const left = this.model.config.maxSeqLen - promptTokens;
    if (asked === undefined) return Math.min(DEFAULT_MAX_TOKENS, left);
    if (asked > left) {
      throw new ApiError(
        400,
        `${param}: this model's context is ${this.model.config.maxSeqLen} tokens; the prompt has ${promptTokens}, so at most ${left} can be generated, got ${asked}`,
        'invalid_request_error',
        param,
        'context_length_exceeded',
      );
    }
    return asked;
  }

  /** Engine options of choice `index` (seeded choices get seed + index so n > 1 differ when sampling). */
  sampler(p: SamplingParams, maxNewTokens: number, index: number): EngineRequestOptions & { maxNewTokens: number } {
    const d = p.diffusion;
    const seed =
      p.seed !== undefined ? (p.seed + index) % 2 ** 31 : p.temperature > 0 ? Math.floor(Math.random() * 2 ** 31) : 0;
    return {
      mode: d.mode,
      blockSize: d.blockSize,
      threshold: d.threshold,
      editThreshold: d.editThreshold,
      selfCorrect: d.selfCorrect,
      temperature: p.temperature,
      topP: p.topP,
      topK: p.topK,
      seed,
      maxNewTokens,
      stopAtEos: true,
    };
  }

  checkModel(name: string): void {
    if (name !== this.options.modelName) {
      throw new ApiError(
        404,
        `The model \`${name.slice(0, 100)}\` does not exist; this server serves "${this.options.modelName}" (GET /v1/models)`,
        'invalid_request_error',
        'model',
        'model_not_found',
      );
    }
  }
}
