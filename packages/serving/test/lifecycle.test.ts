/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are checked field by field */
// The server around the engine: health and metrics, the bounded queue (429 + Retry-After), client
// disconnects cancelling compute and freeing KV pages, the per-request timeout, graceful shutdown,
// CORS off by default, the diffusion step stream, and chat prompts from a template or the fallback.
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import OpenAI from 'openai';

import { fallbackFormat, loadChatFormat, type DiffusionServer } from '../src';
import { eventually, MODEL, MODEL_DIR, postJson, readEvents, testServer } from './helpers';

let server: DiffusionServer;
let url: string;

beforeAll(async () => {
  server = await testServer({ maxRunning: 2, maxQueue: 1 });
  url = server.url!;
}, 60_000);
afterAll(() => server?.close());

const long = { model: MODEL, prompt: 'class Parser:\n', max_tokens: 1500, block_size: 8 };

/** Nothing decoding, nothing queued, every KV page back in the pool. */
async function idle(s: DiffusionServer): Promise<boolean> {
  const st = await s.engine.stats();
  return st.running === 0 && st.queued === 0 && st.pool.usedPages === 0 && s.context.inFlightSequences === 0;
}

/** Starts a streaming request and resolves once its first chunk arrived. */
async function startStream(base: string, body: object, waitFirst = true) {
  const controller = new AbortController();
  const r = await fetch(`${base}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
    signal: controller.signal,
  });
  expect(r.status).toBe(200);
  const reader = r.body!.getReader();
  if (waitFirst) {
    const first = await reader.read();
    expect(first.done).toBe(false);
  }
  return { controller, reader };
}

test('/health answers without touching the engine; /metrics is Prometheus text with the serving gauges', async () => {
  const h = await fetch(`${url}/health`);
  expect(await h.json()).toMatchObject({ status: 'ok', model: MODEL, requests_in_flight: 0 });
  await postJson(`${url}/v1/completions`, { model: MODEL, prompt: 'def f(x):\n', max_tokens: 8, block_size: 4 });
  const m = await fetch(`${url}/metrics`);
  expect(m.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await m.text();
  for (const name of [
    'sd_queue_depth',
    'sd_active_sequences',
    'sd_tokens_per_second',
    'sd_tokens_per_forward',
    'sd_time_to_first_block_seconds_bucket',
    'sd_block_latency_seconds_count',
    'sd_kv_pages_used',
    'process_resident_memory_bytes',
  ]) {
    expect(text).toContain(`\n${name}`);
  }
  expect(text).toMatch(/sd_requests_total\{route="\/v1\/completions",status="200"\} [1-9]/);
  expect(Number(/\nsd_generated_tokens_total (\d+)/.exec(text)![1])).toBeGreaterThanOrEqual(8);
  expect(Number(/\nsd_tokens_per_forward ([\d.]+)/.exec(text)![1])).toBeGreaterThan(0);
});

test('a full queue answers 429 with Retry-After (RateLimitError in the openai client); disconnects free the pages', async () => {
  // maxRunning 2 + maxQueue 1: three sequences fit, the fourth is refused.
  const streams = [];
  // The third waits in the queue: it has its 200 but no block yet.
  for (let i = 0; i < 3; i++) streams.push(await startStream(url, long, i < 2));
  const r = await postJson(`${url}/v1/completions`, { model: MODEL, prompt: 'x', max_tokens: 4 });
  expect(r.status).toBe(429);
  expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(r.json.error).toMatchObject({ type: 'rate_limit_error', code: 'queue_full' });
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 });
  const e = await client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 4 }).catch((x) => x);
  expect(e).toBeInstanceOf(OpenAI.RateLimitError);
  // n counts: a request of n = 2 does not fit beside three sequences either.
  expect((await postJson(`${url}/v1/completions`, { model: MODEL, prompt: 'x', n: 2, max_tokens: 4 })).status).toBe(
    429,
  );

  const st = await server.engine.stats();
  expect(st.running).toBe(2);
  expect(st.queued).toBe(1);
  expect(st.pool.usedPages).toBeGreaterThan(0);
  for (const s of streams) s.controller.abort();
  expect(await eventually(() => idle(server))).toBe(true);
  // And the server serves again.
  expect((await postJson(`${url}/v1/completions`, { model: MODEL, prompt: 'x', max_tokens: 4 })).status).toBe(200);
});

test('a client leaving a non-streaming request cancels its compute', async () => {
  const controller = new AbortController();
  const p = fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1500, n: 2 }),
    signal: controller.signal,
  }).catch((e) => e);
  expect(await eventually(async () => (await server.engine.stats()).running === 2)).toBe(true);
  controller.abort();
  expect((await p).name).toBe('AbortError');
  expect(await eventually(() => idle(server))).toBe(true);
});

test('the per-request timeout cancels a generation: 504 in OpenAI shape, or an error event when streaming', async () => {
  const quick = await testServer({ engine: server.engine, requestTimeoutMs: 400 });
  try {
    const r = await postJson(`${quick.url}/v1/completions`, long);
    expect(r.status).toBe(504);
    expect(r.json.error).toMatchObject({ type: 'timeout_error', code: 'timeout' });
    const s = await fetch(`${quick.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...long, stream: true }),
    });
    const events = await readEvents(s);
    expect(events.at(-1)!.data.error).toMatchObject({ type: 'timeout_error' });
    expect(await eventually(() => idle(quick))).toBe(true);
  } finally {
    await quick.close();
  }
});

test('graceful shutdown: in-flight requests finish, new ones are refused, and past drainMs the rest are cancelled', async () => {
  const s = await testServer({ engine: server.engine, drainMs: 20_000 });
  const body = { model: MODEL, prompt: 'def f(x):\n', max_tokens: 24, block_size: 8 };
  const expected = (await postJson(`${s.url}/v1/completions`, body)).json.choices[0].text;
  const inflight = postJson(`${s.url}/v1/completions`, body);
  await eventually(() => s.context.inFlightSequences === 1);
  const closed = s.close();
  const refused = await postJson(`${s.url}/v1/completions`, body).catch((e) => ({ status: 0, json: String(e) }));
  expect([0, 503]).toContain(refused.status); // 503 on a kept-alive connection, refused on a new one
  if (refused.status === 503) expect(refused.json.error.code).toBe('shutting_down');
  const health = await fetch(`${s.url}/health`).catch(() => null);
  if (health) expect(health.status).toBe(503); // draining: load balancers stop sending
  const done = await inflight;
  expect(done.status).toBe(200);
  expect(done.json.choices[0].text).toBe(expected);
  await closed;

  const t = await testServer({ engine: server.engine, drainMs: 300 });
  const stream = await startStream(t.url!, long);
  const t0 = Date.now();
  await t.close();
  expect(Date.now() - t0).toBeLessThan(10_000);
  let rest = '';
  for (;;) {
    const c = await stream.reader.read();
    if (c.done) break;
    rest += new TextDecoder().decode(c.value);
  }
  expect(rest).toContain('"code":"shutting_down"');
  expect(await eventually(() => idle(server))).toBe(true);
});

test('CORS is off unless origins are configured', async () => {
  const origin = 'http://evil.example';
  const pre = await fetch(`${url}/v1/completions`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST' },
  });
  expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  const get = await fetch(`${url}/v1/models`, { headers: { origin } });
  expect(get.headers.get('access-control-allow-origin')).toBeNull();

  const allowed = 'http://editor.example';
  const c = await testServer({ engine: server.engine, corsOrigins: [allowed] });
  try {
    const ok = await fetch(`${c.url}/v1/models`, { headers: { origin: allowed } });
    expect(ok.headers.get('access-control-allow-origin')).toBe(allowed);
    const other = await fetch(`${c.url}/v1/models`, { headers: { origin } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const s = await fetch(`${c.url}/v1/completions`, {
      method: 'POST',
      headers: { origin: allowed, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, prompt: 'x', max_tokens: 2, stream: true }),
    });
    expect(s.headers.get('access-control-allow-origin')).toBe(allowed); // hijacked SSE keeps them
    await s.text();
  } finally {
    await c.close();
  }
});

test('the diffusion step stream shows masked, provisional and committed tokens, and the same text as completions', async () => {
  const body = { model: MODEL, prompt: 'def fibonacci(n):\n', max_tokens: 24, block_size: 8, self_correct: true };
  const r = await fetch(`${url}/v1/diffusion/stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events = await readEvents(r);
  const kinds = events.map((e) => e.event);
  expect(kinds[0]).toBe('start');
  expect(kinds.at(-1)).toBe('done');
  const starts = events.filter((e) => e.event === 'block_start');
  expect(starts.length).toBeGreaterThan(1);
  expect(starts[0].data.canvas.some((t: string | null) => t === null)).toBe(true); // masked positions
  const steps = events.filter((e) => e.event === 'step');
  expect(steps.length).toBeGreaterThanOrEqual(starts.length);
  expect(steps.some((s) => s.data.committed.length > 0 && typeof s.data.committed[0].token === 'string')).toBe(true);
  for (const s of steps)
    for (const w of s.data.rewritten)
      expect(w).toEqual({ index: expect.any(Number), token: expect.anything(), previous: expect.anything() });
  const ends = events.filter((e) => e.event === 'block_end');
  expect(ends.length).toBe(starts.length);
  expect(ends[0].data.canvas.every((t: string | null) => t !== null)).toBe(true);
  const text = events
    .filter((e) => e.event === 'text')
    .map((e) => e.data.delta)
    .join('');
  const done = events.at(-1)!.data;
  expect(done.text).toBe(text);
  expect(done.stats.forwards).toBeGreaterThan(0);
  expect(done.stats.tokens_per_forward).toBeGreaterThan(0);
  expect(done.stats.tokens_per_second).toBeGreaterThan(0);

  const { self_correct: _sc, ...plain } = body;
  void _sc;
  const c = await postJson(`${url}/v1/completions`, { ...plain, self_correct: true });
  expect(c.json.choices[0].text).toBe(text);
  // Bad input on the step stream is a plain 400, before any event.
  const bad = await postJson(`${url}/v1/diffusion/stream`, { ...body, n: 2 });
  expect(bad.status).toBe(400);
  expect(bad.json.error.param).toBe('n');
});

test("chat prompts: the documented fallback, or the model folder's own template rendered with jinja", async () => {
  expect(
    fallbackFormat.render([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello' },
      { role: 'user', content: 'Sum?' },
    ]),
  ).toBe('Be brief.\n\n### User:\nHi\n\n### Assistant:\nHello\n\n### User:\nSum?\n\n### Assistant:\n');
  expect(loadChatFormat(MODEL_DIR, {}).kind).toBe('fallback');

  const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-chat-'));
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json'])
    symlinkSync(path.join(MODEL_DIR, f), path.join(dir, f));
  const template =
    '{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}';
  writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: template }));
  const f = loadChatFormat(dir, { eos: '<|endoftext|>' });
  expect(f.kind).toBe('template');
  expect(f.render([{ role: 'user', content: 'Hi' }])).toBe('<|user|>Hi<|endoftext|><|assistant|>');

  const t = await testServer({ modelDir: dir, engine: server.engine, modelName: MODEL });
  try {
    const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const r = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 4,
    });
    expect(r.usage!.prompt_tokens).toBe(t.model.tokenizer.encode('<|user|>Hi<|endoftext|><|assistant|>').length);
    const m = (await (await fetch(`${t.url}/v1/models`)).json()) as any;
    expect(m.data[0].chat_template).toBe('template');
  } finally {
    await t.close();
  }
});
