// Server options and their defaults: safe ones (loopback, no CORS, bounded queue, body and time
// limits) unless the caller says otherwise.
import type { Engine, EngineOptions } from '@seed-diffusion/engine';

export interface ServerOptions {
  /** Model folder (config.json, model.safetensors, tokenizer.json; optional tokenizer_config.json, generation_config.json). */
  modelDir: string;
  /** Name clients pass as `model` (default: the folder's name). */
  modelName?: string;
  /** Interface to bind (default 127.0.0.1: loopback only). */
  host?: string;
  /** TCP port (default 8080; 0 picks a free one). */
  port?: number;
  /** When set, /v1/* and /metrics need `Authorization: Bearer <key>` (compared in constant time). */
  apiKey?: string;
  /** Origins allowed to call the API from a browser (default none: CORS off). '*' allows any. */
  corsOrigins?: string[];
  /** Sequences decoding at once (default 16): the engine's batch. */
  maxRunning?: number;
  /** Sequences waiting beyond those (default 64); past it requests get 429 with Retry-After. */
  maxQueue?: number;
  /** Largest request body in bytes (default 1 MiB; 413 beyond). */
  maxBodyBytes?: number;
  /** Most completions per request (n; default 8). */
  maxN?: number;
  /** Longest generation a request may take, queueing included, in ms (default 300000; then it is cancelled). */
  requestTimeoutMs?: number;
  /** Time a client has to send its headers (default 10000 ms) and its whole request (default 30000 ms): slow clients get 408. */
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /** On close(): how long in-flight requests may finish before they are cancelled (default 10000 ms). */
  drainMs?: number;
  /** KV pool pages (default: enough for every running sequence at full context) and kernel threads. */
  poolPages?: number;
  threads?: number;
  /** Serve the playground page at / (default true). */
  playground?: boolean;
  /** Log requests (fastify's pino logger) — default false. */
  logger?: boolean;
  /** Use this engine instead of starting one (it is not closed with the server). */
  engine?: Engine;
  /** Extra options for the engine the server starts. */
  engineOptions?: Partial<Omit<EngineOptions, 'model'>>;
}

export type ResolvedOptions = Required<
  Omit<ServerOptions, 'apiKey' | 'engine' | 'engineOptions' | 'poolPages' | 'threads' | 'modelName'>
> &
  Pick<ServerOptions, 'apiKey' | 'engine' | 'engineOptions' | 'poolPages' | 'threads'> & { modelName: string };

function positiveInt(name: string, v: unknown, min = 1): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`server option ${name}: must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
}

export function resolveServerOptions(o: ServerOptions, defaultName: string): ResolvedOptions {
  const r: ResolvedOptions = {
    modelDir: o.modelDir,
    modelName: o.modelName ?? defaultName,
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 8080,
    apiKey: o.apiKey,
    corsOrigins: o.corsOrigins ?? [],
    maxRunning: o.maxRunning ?? 16,
    maxQueue: o.maxQueue ?? 64,
    maxBodyBytes: o.maxBodyBytes ?? 1024 * 1024,
    maxN: o.maxN ?? 8,
    requestTimeoutMs: o.requestTimeoutMs ?? 300_000,
    headersTimeoutMs: o.headersTimeoutMs ?? 10_000,
    bodyTimeoutMs: o.bodyTimeoutMs ?? 30_000,
    drainMs: o.drainMs ?? 10_000,
    poolPages: o.poolPages,
    threads: o.threads,
    playground: o.playground ?? true,
    logger: o.logger ?? false,
    engine: o.engine,
    engineOptions: o.engineOptions,
  };
  positiveInt('port', r.port, 0);
  for (const k of [
    'maxRunning',
    'maxN',
    'maxBodyBytes',
    'requestTimeoutMs',
    'headersTimeoutMs',
    'bodyTimeoutMs',
  ] as const) {
    positiveInt(k, r[k]);
  }
  positiveInt('maxQueue', r.maxQueue, 0);
  positiveInt('drainMs', r.drainMs, 0);
  if (r.apiKey !== undefined && r.apiKey.length === 0) throw new Error('server option apiKey: must not be empty');
  if (!/^[\w.:-]+$/.test(r.modelName))
    throw new Error(`server option modelName: letters, digits, . _ : - only, got "${r.modelName}"`);
  return r;
}
