// /v1/completions and /v1/chat/completions: OpenAI's request and response shapes, with SSE
// streaming of committed text as blocks finish (one chunk per block and choice), n > 1 decoded
// side by side in the engine's batch, stop strings, usage, and errors in OpenAI's shape.
import { randomUUID } from 'node:crypto';

import type { FastifyInstance, FastifyReply } from 'fastify';

import type { RequestScope, ServerContext } from '../context';
import { ApiError } from '../errors';
import { generate, GenerationAborted, type FinishReason, type GenerationOutcome } from '../generation';
import { SseWriter } from '../sse';
import { parseChat, parseCompletion, type SamplingParams } from '../validate';

interface Choice {
  index: number;
  prompt: number[];
  /** Text put before the completion (echo). */
  prefix: string;
}

interface Job {
  kind: 'completion' | 'chat';
  params: SamplingParams;
  choices: Choice[];
  maxTokens: number[];
  stops: string[];
}

function usage(prompts: number, completions: number) {
  return { prompt_tokens: prompts, completion_tokens: completions, total_tokens: prompts + completions };
}

/** Our extra field beside OpenAI's: what diffusion decoding did. */
function diffusionSummary(job: Job, outs: GenerationOutcome[]) {
  const forwards = outs.reduce((a, o) => a + o.forwards, 0);
  const tokens = outs.reduce((a, o) => a + o.completionTokens, 0);
  return {
    mode: job.params.diffusion.mode,
    block_size: job.params.diffusion.blockSize,
    forwards,
    tokens_per_forward: forwards > 0 ? tokens / forwards : 0,
  };
}

function abortError(e: GenerationAborted, ctx: ServerContext): ApiError {
  if (e.reason === 'timeout') {
    return new ApiError(
      504,
      `the generation exceeded this server's request timeout of ${ctx.options.requestTimeoutMs} ms`,
      'timeout_error',
      null,
      'timeout',
    );
  }
  return new ApiError(
    503,
    'the server is shutting down; the request was cancelled',
    'service_unavailable',
    null,
    'shutting_down',
  );
}

async function runJob(ctx: ServerContext, reply: FastifyReply, job: Job, route: string): Promise<unknown> {
  const scope = ctx.admit(reply, job.choices.length, route);
  const id = `${job.kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID().replace(/-/g, '')}`;
  const created = Math.floor(Date.now() / 1000);
  const model = ctx.options.modelName;
  const promptTokens = job.choices.reduce((a, c) => a + c.prompt.length, 0);
  try {
    if (job.params.stream) return await streamJob(ctx, reply, scope, job, { id, created, model, promptTokens });
    const outs = await Promise.all(
      job.choices.map(async (c) => {
        const it = generate(ctx.engine, ctx.model.tokenizer, spec(ctx, job, c), scope.signal, hooks(ctx));
        for (;;) {
          const r = await it.next();
          if (r.done) return r.value;
        }
      }),
    ).catch((e) => {
      scope.abort('shutdown'); // a failed choice stops its siblings
      throw e instanceof GenerationAborted ? abortError(e, ctx) : e;
    });
    const completionTokens = outs.reduce((a, o) => a + o.completionTokens, 0);
    const base = { id, created, model, system_fingerprint: null };
    const diffusion = diffusionSummary(job, outs);
    if (job.kind === 'chat') {
      return {
        ...base,
        object: 'chat.completion',
        choices: outs.map((o, i) => ({
          index: i,
          message: { role: 'assistant', content: o.text, refusal: null },
          logprobs: null,
          finish_reason: o.finishReason,
        })),
        usage: usage(promptTokens, completionTokens),
        diffusion,
      };
    }
    return {
      ...base,
      object: 'text_completion',
      choices: outs.map((o, i) => ({
        index: i,
        text: job.choices[i].prefix + o.text,
        logprobs: null,
        finish_reason: o.finishReason,
      })),
      usage: usage(promptTokens, completionTokens),
      diffusion,
    };
  } finally {
    scope.release();
  }
}

function spec(ctx: ServerContext, job: Job, c: Choice) {
  return { prompt: c.prompt, stop: job.stops, sampler: ctx.sampler(job.params, job.maxTokens[c.index], c.index) };
}

function hooks(ctx: ServerContext) {
  let last = 0;
  return {
    onBlock: (ms: number, tokens: number, first: boolean) => {
      ctx.metrics.block(ms, first ? null : ms - last, tokens);
      last = ms;
    },
  };
}

async function streamJob(
  ctx: ServerContext,
  reply: FastifyReply,
  scope: RequestScope,
  job: Job,
  head: { id: string; created: number; model: string; promptTokens: number },
): Promise<FastifyReply> {
  const sse = new SseWriter(reply);
  const object = job.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  const base = { id: head.id, object, created: head.created, model: head.model, system_fingerprint: null };
  const chunk = (index: number, text: string | null, finish: FinishReason | null, first = false) =>
    job.kind === 'chat'
      ? {
          ...base,
          choices: [
            {
              index,
              delta: first ? { role: 'assistant', content: '' } : text === null ? {} : { content: text },
              logprobs: null,
              finish_reason: finish,
            },
          ],
        }
      : { ...base, choices: [{ index, text: text ?? '', logprobs: null, finish_reason: finish }] };
  let completionTokens = 0;
  try {
    await Promise.all(
      job.choices.map(async (c) => {
        if (job.kind === 'chat') sse.send(chunk(c.index, null, null, true));
        else if (c.prefix) sse.send(chunk(c.index, c.prefix, null));
        const it = generate(ctx.engine, ctx.model.tokenizer, spec(ctx, job, c), scope.signal, hooks(ctx));
        for (;;) {
          const r = await it.next();
          if (r.done) {
            completionTokens += r.value.completionTokens;
            sse.send(chunk(c.index, job.kind === 'chat' ? null : '', r.value.finishReason));
            return;
          }
          sse.send(chunk(c.index, r.value, null));
        }
      }),
    );
    if (job.params.includeUsage) sse.send({ ...base, choices: [], usage: usage(head.promptTokens, completionTokens) });
    sse.send('[DONE]');
  } catch (e) {
    scope.abort('shutdown');
    if (!(e instanceof GenerationAborted && e.reason === 'disconnect')) {
      const err =
        e instanceof GenerationAborted
          ? abortError(e, ctx)
          : e instanceof ApiError
            ? e
            : new ApiError(500, (e as Error).message, 'server_error');
      sse.send(err.body());
    }
  } finally {
    sse.end();
  }
  return reply;
}

export function openaiRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/completions', async (req, reply) => {
    const p = parseCompletion(req.body, ctx.limits);
    ctx.checkModel(p.model);
    const choices: Choice[] = [];
    const maxTokens: number[] = [];
    p.prompts.forEach((text, pi) => {
      const param = p.prompts.length > 1 ? `prompt[${pi}]` : 'prompt';
      const ids = ctx.encode(text, param);
      const m = ctx.maxTokens(ids.length, p.maxTokens);
      for (let j = 0; j < p.n; j++) {
        maxTokens.push(m);
        choices.push({ index: choices.length, prompt: ids, prefix: p.echo ? text : '' });
      }
    });
    return runJob(ctx, reply, { kind: 'completion', params: p, choices, maxTokens, stops: p.stop }, '/v1/completions');
  });

  app.post('/v1/chat/completions', async (req, reply) => {
    const p = parseChat(req.body, ctx.limits);
    ctx.checkModel(p.model);
    const text = ctx.model.chat.render(p.messages);
    const ids = ctx.encode(text, 'messages');
    const m = ctx.maxTokens(
      ids.length,
      p.maxTokens,
      (req.body as Record<string, unknown>).max_completion_tokens !== undefined
        ? 'max_completion_tokens'
        : 'max_tokens',
    );
    const choices: Choice[] = Array.from({ length: p.n }, (_, i) => ({ index: i, prompt: ids, prefix: '' }));
    const stops = [...p.stop, ...ctx.model.chat.stops.filter((s) => !p.stop.includes(s))];
    return runJob(
      ctx,
      reply,
      { kind: 'chat', params: p, choices, maxTokens: choices.map(() => m), stops },
      '/v1/chat/completions',
    );
  });
}
