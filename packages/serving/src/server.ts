// createServer(options): the engine (started on a worker thread unless one is given), the model's
// tokenizer and chat format, and a fastify app with the OpenAI routes, the diffusion step stream,
// /v1/models, /health, /metrics and the playground — behind the security defaults (loopback, optional
// API key, CORS off, body and time limits) and with a graceful close().
import path from 'node:path';

import { Engine } from '@seed-diffusion/engine';
import cors from '@fastify/cors';
import Fastify, { type FastifyInstance } from 'fastify';

import { keyChecker } from './auth';
import { ServerContext } from './context';
import { ApiError, fromFrameworkError } from './errors';
import { ServerMetrics } from './metrics';
import { loadModelInfo, type ModelInfo } from './model-info';
import { resolveServerOptions, type ResolvedOptions, type ServerOptions } from './options';
import { diffusionRoutes } from './routes/diffusion';
import { infoRoutes } from './routes/info';
import { openaiRoutes } from './routes/openai';

export interface DiffusionServer {
  app: FastifyInstance;
  engine: Engine;
  model: ModelInfo;
  options: ResolvedOptions;
  context: ServerContext;
  /** Starts listening; resolves with the base URL (http://host:port). */
  listen(): Promise<string>;
  /** The base URL once listening. */
  readonly url: string | null;
  /**
   * Stops accepting requests, lets in-flight ones finish for up to `drainMs` (then cancels them,
   * freeing their KV pages), closes every connection and the engine the server started.
   */
  close(): Promise<void>;
}

/** Paths that need the API key when one is set (the playground page and /health stay open). */
const PROTECTED = /^\/(v1\/|metrics)/;

export async function createServer(options: ServerOptions): Promise<DiffusionServer> {
  const model = loadModelInfo(options.modelDir);
  const opts = resolveServerOptions(options, path.basename(path.resolve(options.modelDir)));
  const pageSize = 64;
  const engine =
    opts.engine ??
    (await Engine.start({
      model: { dir: opts.modelDir },
      // Every running sequence can reach the full context without waiting for pages.
      poolPages: opts.poolPages ?? opts.maxRunning * (Math.ceil(model.config.maxSeqLen / pageSize) + 1),
      pageSize,
      maxRunning: opts.maxRunning,
      // The server's own bound (429) comes first; the engine's is a backstop.
      maxQueued: opts.maxQueue + opts.maxN + 1,
      threads: opts.threads,
      ...opts.engineOptions,
    }));
  const ownEngine = opts.engine === undefined;
  const metrics = new ServerMetrics(engine, (): number => ctx.inFlightRequests);
  const ctx: ServerContext = new ServerContext(engine, model, opts, metrics);

  const app = Fastify({
    logger: opts.logger,
    bodyLimit: opts.maxBodyBytes,
    // Requests that arrive while closing get our 503 in OpenAI's shape (ServerContext.admit).
    return503OnClosing: false,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Slow clients (slow-loris): headers and the whole request must arrive in time, else 408.
    http: {
      headersTimeout: opts.headersTimeoutMs,
      requestTimeout: opts.bodyTimeoutMs,
      connectionsCheckingInterval: 500,
    },
  });
  app.server.headersTimeout = opts.headersTimeoutMs;
  app.server.requestTimeout = opts.bodyTimeoutMs;

  // JSON only: a text/plain body is a 415 naming the content type, not a string to misread.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((err, _req, reply) => {
    const e = fromFrameworkError(err as Error & { statusCode?: number; code?: string });
    if (e.status >= 500 && !(err instanceof ApiError)) app.log.error(err);
    return reply.code(e.status).headers(e.headers).send(e.body());
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new ApiError(
      404,
      `no route ${req.method} ${req.url.slice(0, 200)}`,
      'not_found_error',
      null,
      'not_found',
    );
    return reply.code(404).send(e.body());
  });

  if (opts.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: opts.corsOrigins.includes('*') ? true : opts.corsOrigins,
      methods: ['GET', 'POST', 'OPTIONS'],
      allowedHeaders: ['authorization', 'content-type'],
    });
  }

  const checkKey = opts.apiKey ? keyChecker(opts.apiKey) : null;
  app.addHook('onRequest', async (req, reply) => {
    const route = req.routeOptions.url;
    if (route && PROTECTED.test(route) && route !== '/metrics') {
      reply.raw.once('close', () => metrics.requests.inc({ route, status: String(reply.raw.statusCode) }));
    }
    if (checkKey && req.method !== 'OPTIONS' && PROTECTED.test(req.url) && !checkKey(req.headers.authorization)) {
      throw new ApiError(
        401,
        'missing or wrong API key: send Authorization: Bearer <key>',
        'authentication_error',
        null,
        'invalid_api_key',
      );
    }
  });

  openaiRoutes(app, ctx);
  diffusionRoutes(app, ctx);
  const startedAt = Date.now();
  infoRoutes(app, ctx, startedAt);
  await app.ready();

  let url: string | null = null;
  let closing: Promise<void> | null = null;
  return {
    app,
    engine,
    model,
    options: opts,
    context: ctx,
    get url() {
      return url;
    },
    async listen() {
      await app.listen({ host: opts.host, port: opts.port });
      const a = app.server.address();
      if (a === null || typeof a === 'string') throw new Error(`unexpected server address ${String(a)}`);
      url = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
      return url;
    },
    close() {
      closing ??= (async () => {
        const drained = ctx.drain(opts.drainMs);
        let appDone = false;
        const appClosed = app.close().then(() => (appDone = true));
        await drained;
        // Keep-alive connections that were busy when closing began are idle now: close them (and,
        // after a grace period, any a client still holds open) so the listener can finish.
        const until = Date.now() + 2000;
        while (!appDone) {
          if (Date.now() < until) app.server.closeIdleConnections();
          else app.server.closeAllConnections();
          await Promise.race([appClosed, new Promise((r) => setTimeout(r, 50))]);
        }
        if (ownEngine) await engine.close();
      })();
      return closing;
    },
  };
}

/** createServer + listen. */
export async function startServer(options: ServerOptions): Promise<DiffusionServer> {
  const s = await createServer(options);
  try {
    await s.listen();
  } catch (e) {
    await s.close();
    throw e;
  }
  return s;
}
