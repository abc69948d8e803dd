import { Command, InvalidArgumentError } from 'commander';

import { DEFAULT_MODEL_DIR } from './generate';

// The server loads only when the command runs, so other commands stay fast.
const lazy = {
  serving: () => require('@seed-diffusion/serving') as typeof import('@seed-diffusion/serving'),
};

interface ServeFlags {
  model: string;
  name?: string;
  host: string;
  port: number;
  cors: string[];
  maxRunning: number;
  maxQueue: number;
  maxBodyBytes: number;
  timeout: number;
  drain: number;
  threads?: number;
  poolPages?: number;
  playground: boolean;
  log?: boolean;
}

function int(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}.`);
    return n;
  };
}
const collect = (v: string, acc: string[]) => [...acc, v];
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** `seed-diffusion serve`: the OpenAI-compatible server with the playground, until SIGINT/SIGTERM. */
export function serveCommand(): Command {
  return new Command('serve')
    .description(
      'serve a model over HTTP: OpenAI-compatible /v1/completions and /v1/chat/completions (SSE streaming), ' +
        'a diffusion step stream, /v1/models, /health, /metrics, and a live playground at /',
    )
    .exitOverride()
    .option('--model <dir>', 'model folder (config.json, model.safetensors, tokenizer.json)', DEFAULT_MODEL_DIR)
    .option('--name <id>', 'model name clients pass as `model` (default: the folder name)')
    .option('--host <addr>', 'interface to bind (default loopback only)', '127.0.0.1')
    .option('--port <n>', 'TCP port (0: any free one)', int('--port', 0), 8080)
    .option(
      '--cors <origin>',
      'allow browser calls from this origin (repeatable; "*" for any); default none',
      collect,
      [],
    )
    .option('--max-running <n>', 'sequences decoding at once (the batch)', int('--max-running', 1), 16)
    .option('--max-queue <n>', 'sequences waiting beyond those; more get 429 + Retry-After', int('--max-queue', 0), 64)
    .option('--max-body-bytes <n>', 'largest request body (413 beyond)', int('--max-body-bytes', 1), 1024 * 1024)
    .option('--timeout <ms>', 'longest a request may take, queueing included', int('--timeout', 1), 300_000)
    .option('--drain <ms>', 'on SIGINT/SIGTERM, how long in-flight requests may finish', int('--drain', 0), 10_000)
    .option('--threads <n>', 'kernel threads of the engine (default: the backend’s)', int('--threads', 1))
    .option(
      '--pool-pages <n>',
      'KV pool pages of 64 rows (default: every running sequence at full context)',
      int('--pool-pages', 1),
    )
    .option('--no-playground', 'do not serve the playground page at /')
    .option('--log', 'log every request (JSON lines on stdout)')
    .addHelpText(
      'after',
      '\nAPI key: set SEED_DIFFUSION_API_KEY to require `Authorization: Bearer <key>` on /v1/* and /metrics ' +
        '(an environment variable, so the key does not show in the process list).',
    )
    .action(async (flags: ServeFlags) => {
      const apiKey = process.env.SEED_DIFFUSION_API_KEY || undefined;
      if (!LOOPBACK.has(flags.host) && !apiKey) {
        process.stderr.write(
          `warning: serving on ${flags.host} without an API key: anyone who can reach it can use it (set SEED_DIFFUSION_API_KEY)\n`,
        );
      }
      const server = await lazy.serving().startServer({
        modelDir: flags.model,
        modelName: flags.name,
        host: flags.host,
        port: flags.port,
        apiKey,
        corsOrigins: flags.cors,
        maxRunning: flags.maxRunning,
        maxQueue: flags.maxQueue,
        maxBodyBytes: flags.maxBodyBytes,
        requestTimeoutMs: flags.timeout,
        drainMs: flags.drain,
        threads: flags.threads,
        poolPages: flags.poolPages,
        playground: flags.playground,
        logger: flags.log,
      });
      const o = server.options;
      process.stdout.write(
        `seed-diffusion serve: listening on ${server.url} — model "${o.modelName}" (${server.engine.info.model.parameters} parameters, ` +
          `backend ${server.engine.info.backend}, chat ${server.model.chat.kind}), batch ${o.maxRunning}, queue ${o.maxQueue}` +
          `${apiKey ? ', API key required' : ''}${o.playground ? `; playground at ${server.url}/` : ''}\n`,
      );
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) {
            process.stderr.write(`${signal} again: exiting now\n`);
            process.exit(130);
          }
          stopping = true;
          process.stderr.write(`${signal}: finishing in-flight requests (up to ${o.drainMs} ms), then exiting\n`);
          server.close().then(resolve, (e) => {
            process.stderr.write(`error while closing: ${(e as Error).message}\n`);
            process.exit(1);
          });
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}
