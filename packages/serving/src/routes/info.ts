// GET /v1/models (with the model's diffusion defaults), /health (cheap: never waits on the engine),
// /metrics (Prometheus text) and the playground page at /.
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context';

/** The playground's single page (playground/index.html beside src/ and dist/). */
const PLAYGROUND = path.join(__dirname, '..', '..', 'playground', 'index.html');

export function infoRoutes(app: FastifyInstance, ctx: ServerContext, startedAt: number): void {
  const cfg = ctx.model.config;
  const d = ctx.model.defaults;
  const modelObject = () => ({
    id: ctx.options.modelName,
    object: 'model',
    created: ctx.model.created,
    owned_by: 'seed-diffusion',
    context_length: cfg.maxSeqLen,
    chat_template: ctx.model.chat.kind,
    diffusion_defaults: {
      mode: d.mode,
      block_size: d.blockSize,
      threshold: d.threshold,
      edit_threshold: d.editThreshold,
      self_correct: d.selfCorrect,
    },
    trained_block_sizes: cfg.trainedBlockSizes,
  });
  app.get('/v1/models', async () => ({ object: 'list', data: [modelObject()] }));
  app.get('/v1/models/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    ctx.checkModel(id);
    return reply.send(modelObject());
  });

  // 503 while draining, so a load balancer stops sending new requests.
  app.get('/health', async (_req, reply) => {
    if (ctx.isClosing) reply.code(503);
    return {
      status: ctx.isClosing ? 'shutting_down' : 'ok',
      model: ctx.options.modelName,
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      requests_in_flight: ctx.inFlightRequests,
      sequences_in_flight: ctx.inFlightSequences,
    };
  });

  app.get('/metrics', async (_req, reply) => {
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return ctx.metrics.text();
  });

  if (ctx.options.playground) {
    const html = readFileSync(PLAYGROUND, 'utf8');
    app.get('/', async (_req, reply) => {
      reply
        .type('text/html; charset=utf-8')
        .header(
          'content-security-policy',
          "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; connect-src 'self'",
        )
        .header('x-content-type-options', 'nosniff');
      return html;
    });
  }
}
