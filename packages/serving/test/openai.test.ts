// The official openai client, unchanged, against the server: completions and chat, streaming and
// not, stop strings, n > 1, seeds, API keys and errors in OpenAI's shape.
import OpenAI from 'openai';

import type { DiffusionServer } from '../src';
import { MODEL, testServer } from './helpers';

let server: DiffusionServer;
let client: OpenAI;
const PROMPT = 'def fibonacci(n):\n';
// Small blocks so short completions still arrive as several streamed chunks.
const diffusion = { block_size: 8 } as Record<string, unknown>;

beforeAll(async () => {
  server = await testServer();
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'not-checked', maxRetries: 0 });
}, 60_000);
afterAll(() => server?.close());

test('models.list names the served model with its diffusion defaults', async () => {
  const models = [];
  for await (const m of client.models.list()) models.push(m);
  expect(models.map((m) => m.id)).toEqual([MODEL]);
  expect(models[0]).toMatchObject({ object: 'model', owned_by: 'seed-diffusion', chat_template: 'fallback' });
  const one = await client.models.retrieve(MODEL);
  expect(one.id).toBe(MODEL);
});

test('completions: text, finish reason and usage; streaming gives the same text in block chunks', async () => {
  const r = await client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 24, ...diffusion });
  expect(r.object).toBe('text_completion');
  expect(r.choices).toHaveLength(1);
  const text = r.choices[0].text;
  expect(text.length).toBeGreaterThan(0);
  expect(['length', 'stop']).toContain(r.choices[0].finish_reason);
  expect(r.usage).toMatchObject({ prompt_tokens: server.model.tokenizer.encode(PROMPT).length });
  expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
  if (r.choices[0].finish_reason === 'length') expect(r.usage!.completion_tokens).toBe(24);

  const stream = await client.completions.create({
    model: MODEL,
    prompt: PROMPT,
    max_tokens: 24,
    stream: true,
    ...diffusion,
  });
  const parts: string[] = [];
  let finish: string | null = null;
  for await (const c of stream) {
    expect(c.choices).toHaveLength(1);
    parts.push(c.choices[0].text);
    if (c.choices[0].finish_reason) finish = c.choices[0].finish_reason;
  }
  expect(parts.filter((p) => p.length > 0).length).toBeGreaterThan(1); // several blocks, streamed as they finish
  expect(parts.join('')).toBe(text); // greedy: the same completion
  expect(finish).toBe(r.choices[0].finish_reason);
});

test('chat: the reply as a message; streamed deltas start with the role and add up to it', async () => {
  const messages = [
    { role: 'system' as const, content: 'You write Python.' },
    { role: 'user' as const, content: 'Write a function that adds two numbers.' },
  ];
  const r = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 16, ...diffusion });
  expect(r.object).toBe('chat.completion');
  expect(r.choices[0].message.role).toBe('assistant');
  const content = r.choices[0].message.content ?? '';
  expect(content).not.toContain('\n### '); // the fallback template's turn marker is a stop
  expect(r.usage!.prompt_tokens).toBe(server.model.tokenizer.encode(server.model.chat.render(messages)).length);

  const stream = await client.chat.completions.create({
    model: MODEL,
    messages,
    max_tokens: 16,
    stream: true,
    stream_options: { include_usage: true },
    ...diffusion,
  });
  let text = '';
  let first = true;
  let usage: OpenAI.CompletionUsage | null | undefined = null;
  for await (const c of stream) {
    if (c.usage) usage = c.usage;
    if (c.choices.length === 0) continue;
    if (first) expect(c.choices[0].delta.role).toBe('assistant');
    first = false;
    text += c.choices[0].delta.content ?? '';
  }
  expect(text).toBe(content);
  expect(usage).toEqual(r.usage);
});

test('stop strings end the text before their first occurrence, streaming or not', async () => {
  const full = (await client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 32, ...diffusion }))
    .choices[0].text;
  expect(full.length).toBeGreaterThan(12);
  const stop = full.slice(10, 13);
  const at = full.indexOf(stop);
  const r = await client.completions.create({
    model: MODEL,
    prompt: PROMPT,
    max_tokens: 32,
    stop: [stop, 'never-there'],
    ...diffusion,
  });
  expect(r.choices[0].text).toBe(full.slice(0, at));
  expect(r.choices[0].finish_reason).toBe('stop');

  const stream = await client.completions.create({
    model: MODEL,
    prompt: PROMPT,
    max_tokens: 32,
    stop,
    stream: true,
    ...diffusion,
  });
  let text = '';
  let finish = null;
  for await (const c of stream) {
    text += c.choices[0].text;
    finish = c.choices[0].finish_reason ?? finish;
  }
  expect(text).toBe(full.slice(0, at));
  expect(finish).toBe('stop');
});

test('n > 1: seeded sampled choices, each indexed, reproducible from the seed; streamed per index', async () => {
  const ask = () =>
    client.completions.create({
      model: MODEL,
      prompt: PROMPT,
      max_tokens: 12,
      n: 3,
      temperature: 1,
      seed: 7,
      ...diffusion,
    });
  const a = await ask();
  expect(a.choices.map((c) => c.index)).toEqual([0, 1, 2]);
  const texts = a.choices.map((c) => c.text);
  expect(new Set(texts).size).toBeGreaterThan(1); // seed + index: different samples
  const b = await ask();
  expect(b.choices.map((c) => c.text)).toEqual(texts);

  const stream = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 8,
    n: 2,
    stream: true,
    ...diffusion,
  });
  const byIndex = new Map<number, string>();
  const finished = new Set<number>();
  for await (const c of stream) {
    for (const ch of c.choices) {
      byIndex.set(ch.index, (byIndex.get(ch.index) ?? '') + (ch.delta.content ?? ''));
      if (ch.finish_reason) finished.add(ch.index);
    }
  }
  expect([...finished].sort()).toEqual([0, 1]);
  // Greedy: both choices are the same completion.
  expect(byIndex.get(0)).toBe(byIndex.get(1));
});

test('errors come in OpenAI shape: unknown model 404, over-long prompt and too many tokens 400', async () => {
  const bad = await client.completions.create({ model: 'gpt-4', prompt: 'x', max_tokens: 4 }).catch((e) => e);
  expect(bad).toBeInstanceOf(OpenAI.NotFoundError);
  expect(bad.status).toBe(404);
  expect(bad.code).toBe('model_not_found');
  expect(bad.param).toBe('model');
  expect(bad.message).toContain('gpt-4');

  const long = 'x = 1\n'.repeat(3000);
  const tooLong = await client.completions.create({ model: MODEL, prompt: long, max_tokens: 4 }).catch((e) => e);
  expect(tooLong).toBeInstanceOf(OpenAI.BadRequestError);
  expect(tooLong.code).toBe('context_length_exceeded');
  expect(tooLong.param).toBe('prompt');
  expect(tooLong.message).toMatch(/context is 2048 tokens/);

  const chatLong = await client.chat.completions
    .create({ model: MODEL, messages: [{ role: 'user', content: long }] })
    .catch((e) => e);
  expect(chatLong).toBeInstanceOf(OpenAI.BadRequestError);
  expect(chatLong.code).toBe('context_length_exceeded');

  const many = await client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 100_000 }).catch((e) => e);
  expect(many).toBeInstanceOf(OpenAI.BadRequestError);
  expect(many.param).toBe('max_tokens');

  // A streaming request fails before its stream starts, with the same error.
  const streamed = await client.completions.create({ model: 'nope', prompt: 'x', stream: true }).catch((e) => e);
  expect(streamed).toBeInstanceOf(OpenAI.NotFoundError);
});

test('an API key, when set, is required and checked', async () => {
  const keyed = await testServer({ apiKey: 'sk-test-123', engine: server.engine });
  try {
    const wrong = new OpenAI({ baseURL: `${keyed.url}/v1`, apiKey: 'sk-test-124', maxRetries: 0 });
    const e = await wrong.models.list().catch((x) => x);
    expect(e).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(e.code).toBe('invalid_api_key');
    const right = new OpenAI({ baseURL: `${keyed.url}/v1`, apiKey: 'sk-test-123', maxRetries: 0 });
    const r = await right.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 4 });
    expect(r.choices[0].text.length).toBeGreaterThan(0);
    expect((await fetch(`${keyed.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${keyed.url}/health`)).status).toBe(200);
  } finally {
    await keyed.close();
  }
});
