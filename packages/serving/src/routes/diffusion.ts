// POST /v1/diffusion/stream: the playground's view of decoding. Server-sent events, named:
//   start       {prompt_tokens, max_tokens, mode, block_size, threshold}
//   block_start {block, start, canvas: (string|null)[], fixed: boolean[]}     null = [MASK]
//   step        {block, step, phase, committed: [{index, token}], rewritten: [{index, token, previous}], masked, forwards}
//   block_end   {block, canvas: string[], tokens, forwards}                  the block is final
//   text        {delta}                                                        committed text (stop strings applied)
//   done        {finish_reason, text, usage, stats}                            stats: tokens/s, tokens/forward, ...
//   error       {error: {message, type, param, code}}
// Provisional tokens (a step's commits) can still be rewritten by self-correction until block_end.
import type { EngineEvent } from '@seed-diffusion/engine';
import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context';
import { ApiError } from '../errors';
import { generate, GenerationAborted } from '../generation';
import { SseWriter } from '../sse';
import { parseDiffusion } from '../validate';

export function diffusionRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const tok = ctx.model.tokenizer;
  const mask = ctx.model.config.maskTokenId;
  const piece = (id: number): string | null => (id === mask ? null : tok.decode([id]));

  const toWire = (e: EngineEvent): [string, unknown] | null => {
    switch (e.type) {
      case 'block_start':
        return [
          'block_start',
          {
            block: e.block,
            start: e.start,
            canvas: Array.from(e.canvas, piece),
            fixed: Array.from(e.fixed, (f) => f === 1),
          },
        ];
      case 'step':
        return [
          'step',
          {
            block: e.block,
            step: e.step,
            phase: e.phase,
            committed: e.committed.map((c) => ({ index: c.index, token: piece(c.token), confidence: c.confidence })),
            rewritten: e.rewritten.map((c) => ({ index: c.index, token: piece(c.token), previous: piece(c.previous) })),
            masked: e.masked,
            forwards: e.forwards,
          },
        ];
      case 'block_end':
        return [
          'block_end',
          { block: e.block, canvas: Array.from(e.canvas, piece), tokens: e.tokens.length, forwards: e.forwards },
        ];
      default:
        return null;
    }
  };

  app.post('/v1/diffusion/stream', async (req, reply) => {
    const p = parseDiffusion(req.body, ctx.limits);
    ctx.checkModel(p.model);
    const ids = ctx.encode(p.prompt, 'prompt');
    const maxTokens = ctx.maxTokens(ids.length, p.maxTokens);
    const scope = ctx.admit(reply, 1, '/v1/diffusion/stream');
    const sse = new SseWriter(reply);
    const d = p.diffusion;
    try {
      sse.send(
        {
          prompt_tokens: ids.length,
          max_tokens: maxTokens,
          mode: d.mode,
          block_size: d.blockSize,
          threshold: d.threshold,
        },
        'start',
      );
      let last = 0;
      const it = generate(
        ctx.engine,
        tok,
        { prompt: ids, stop: p.stop, sampler: ctx.sampler(p, maxTokens, 0) },
        scope.signal,
        {
          onEvent: (e) => {
            const w = toWire(e);
            if (w) sse.send(w[1], w[0]);
          },
          onBlock: (ms, tokens, first) => {
            ctx.metrics.block(ms, first ? null : ms - last, tokens);
            last = ms;
          },
        },
      );
      for (;;) {
        const r = await it.next();
        if (r.done) {
          const o = r.value;
          const s = o.stats;
          sse.send(
            {
              finish_reason: o.finishReason,
              text: o.text,
              usage: {
                prompt_tokens: ids.length,
                completion_tokens: o.completionTokens,
                total_tokens: ids.length + o.completionTokens,
              },
              stats: {
                forwards: o.forwards,
                tokens_per_forward: o.forwards > 0 ? o.completionTokens / o.forwards : 0,
                tokens_per_second: s?.tokensPerSecond ?? null,
                wall_seconds: s?.wallSeconds ?? null,
                edits: s?.edits ?? null,
                blocks: s?.blocks ?? null,
              },
            },
            'done',
          );
          break;
        }
        sse.send({ delta: r.value }, 'text');
      }
    } catch (e) {
      if (!(e instanceof GenerationAborted && e.reason === 'disconnect')) {
        const err =
          e instanceof ApiError
            ? e
            : e instanceof GenerationAborted
              ? new ApiError(
                  e.reason === 'timeout' ? 504 : 503,
                  `generation aborted: ${e.reason}`,
                  e.reason === 'timeout' ? 'timeout_error' : 'service_unavailable',
                )
              : new ApiError(500, (e as Error).message, 'server_error');
        sse.send(err.body(), 'error');
      }
    } finally {
      scope.release();
      sse.end();
    }
    return reply;
  });
}
