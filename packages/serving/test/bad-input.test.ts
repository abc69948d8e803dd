/* eslint-disable @typescript-eslint/no-explicit-any -- error bodies are checked field by field */
// Bad input: each a clear 4xx in OpenAI's error shape naming the problem, and the server keeps
// serving afterwards — malformed JSON, wrong types, out-of-range and unknown fields, a 10 MB body,
// the wrong content type, and slow-loris clients (headers or body trickled in).
import net from 'node:net';

import type { DiffusionServer } from '../src';
import { MODEL, postJson, testServer } from './helpers';

let server: DiffusionServer;
let url: string;

beforeAll(async () => {
  server = await testServer({ headersTimeoutMs: 1000, bodyTimeoutMs: 2000 });
  url = server.url!;
}, 60_000);
afterAll(() => server?.close());

async function stillServes(): Promise<void> {
  const r = await postJson(`${url}/v1/completions`, { model: MODEL, prompt: 'def f(x):\n', max_tokens: 4 });
  expect(r.status).toBe(200);
  expect(typeof r.json.choices[0].text).toBe('string');
}

function expectError(r: { status: number; json: any }, status: number, param: string | null, message: RegExp): void {
  expect(r.status).toBe(status);
  expect(r.json).toEqual({
    error: { message: expect.any(String), type: expect.any(String), param, code: expect.any(String) },
  });
  expect(r.json.error.message).toMatch(message);
}

test('malformed JSON, a non-object body and an empty body are 400s', async () => {
  expectError(await postJson(`${url}/v1/completions`, '{"model": "x", "prompt": '), 400, null, /malformed JSON/);
  expectError(await postJson(`${url}/v1/chat/completions`, '[1, 2]'), 400, null, /must be a JSON object, got an array/);
  expectError(await postJson(`${url}/v1/completions`, '"just a string"'), 400, null, /must be a JSON object/);
  expectError(await postJson(`${url}/v1/completions`, ''), 400, null, /JSON/);
  // Prototype pollution attempts are refused, not merged.
  expectError(await postJson(`${url}/v1/completions`, '{"__proto__": {"x": 1}, "model": "m"}'), 400, null, /./);
  await stillServes();
});

test('wrong types name their field', async () => {
  const base = { model: MODEL, prompt: 'x' };
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ ...base, max_tokens: '10' }, 'max_tokens', /must be an integer, got "10"/],
    [{ ...base, max_tokens: 2.5 }, 'max_tokens', /must be an integer/],
    [{ ...base, temperature: 'hot' }, 'temperature', /must be a number/],
    [{ ...base, stream: 'yes' }, 'stream', /true or false/],
    [{ ...base, stop: 7 }, 'stop', /string or a list/],
    [{ ...base, stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop', /at most 4/],
    [{ ...base, n: 0 }, 'n', /in \[1, 8\]/],
    [{ ...base, prompt: 42 }, 'prompt', /a string or a non-empty list/],
    [{ ...base, prompt: '' }, 'prompt', /must not be empty/],
    [{ ...base, model: 3 }, 'model', /required/],
    [{ ...base, mode: 'fast' }, 'mode', /cache, nocache, ar, verify/],
    [{ ...base, block_size: 0 }, 'block_size', /in \[1, 256\]/],
    [{ ...base, threshold: 1.5 }, 'threshold', /in \[0, 1\]/],
    [{ ...base, mode: 'ar', block_size: 4 }, 'block_size', /mode 'ar'/],
    [{ ...base, top_p: 0 }, 'top_p', /must be in/],
    [{ ...base, seed: -1 }, 'seed', /integer in/],
  ];
  for (const [body, param, msg] of cases) expectError(await postJson(`${url}/v1/completions`, body), 400, param, msg);
  const chat = { model: MODEL, messages: [{ role: 'user', content: 'hi' }] };
  expectError(
    await postJson(`${url}/v1/chat/completions`, { ...chat, messages: 'hi' }),
    400,
    'messages',
    /non-empty list/,
  );
  expectError(
    await postJson(`${url}/v1/chat/completions`, { ...chat, messages: [{ role: 'wizard', content: 'x' }] }),
    400,
    'messages[0].role',
    /one of/,
  );
  expectError(
    await postJson(`${url}/v1/chat/completions`, { ...chat, messages: [{ role: 'user', content: 5 }] }),
    400,
    'messages[0].content',
    /string or a list/,
  );
  expectError(
    await postJson(`${url}/v1/chat/completions`, {
      ...chat,
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }],
    }),
    400,
    'messages[0].content[0]',
    /only text parts/,
  );
  await stillServes();
});

test('negative, zero and huge max_tokens are 400s', async () => {
  for (const v of [-5, 0]) {
    expectError(
      await postJson(`${url}/v1/completions`, { model: MODEL, prompt: 'x', max_tokens: v }),
      400,
      'max_tokens',
      /integer in \[1, 2048\]/,
    );
  }
  expectError(
    await postJson(`${url}/v1/completions`, { model: MODEL, prompt: 'x', max_tokens: 1e12 }),
    400,
    'max_tokens',
    /integer in/,
  );
  expectError(
    await postJson(`${url}/v1/completions`, { model: MODEL, prompt: 'x', max_tokens: 2048 }),
    400,
    'max_tokens',
    /at most 2047 can be generated/,
  );
  expectError(
    await postJson(`${url}/v1/chat/completions`, {
      model: MODEL,
      messages: [{ role: 'user', content: 'x' }],
      max_completion_tokens: -1,
    }),
    400,
    'max_completion_tokens',
    /integer in/,
  );
  await stillServes();
});

test('unknown fields and unsupported OpenAI features are 400s naming them', async () => {
  expectError(
    await postJson(`${url}/v1/completions`, { model: MODEL, prompt: 'x', max_tokenz: 5 }),
    400,
    'max_tokenz',
    /unknown field "max_tokenz"/,
  );
  expectError(
    await postJson(`${url}/v1/chat/completions`, {
      model: MODEL,
      messages: [{ role: 'user', content: 'x', mood: 'happy' }],
    }),
    400,
    'messages[0].mood',
    /unknown field/,
  );
  expectError(
    await postJson(`${url}/v1/completions`, { model: MODEL, prompt: 'x', logprobs: 5 }),
    400,
    'logprobs',
    /not supported/,
  );
  expectError(
    await postJson(`${url}/v1/chat/completions`, {
      model: MODEL,
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function' }],
    }),
    400,
    'tools',
    /not supported/,
  );
  expectError(
    await postJson(`${url}/v1/completions`, { model: MODEL, prompt: 'x', presence_penalty: 1 }),
    400,
    'presence_penalty',
    /not supported/,
  );
  // Accepted at their no-op values.
  const ok = await postJson(`${url}/v1/completions`, {
    model: MODEL,
    prompt: 'x',
    max_tokens: 2,
    presence_penalty: 0,
    user: 'u1',
    logprobs: null,
  });
  expect(ok.status).toBe(200);
});

test('a 10 MB body is refused with 413 and the wrong content type with 415', async () => {
  const huge = JSON.stringify({ model: MODEL, prompt: 'x'.repeat(10 * 1024 * 1024) });
  const r = await postJson(`${url}/v1/completions`, huge).catch((e) => ({ status: -1, json: String(e) }));
  // The server answers 413 as soon as the limit is passed; a client still sending may see the socket close instead.
  if (r.status !== -1) expectError(r as { status: number; json: any }, 413, null, /too large/);
  else expect(r.json).toMatch(/other side closed|ECONNRESET|EPIPE|fetch failed/);
  const t = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: 'hello',
  });
  expect(t.status).toBe(415);
  expect(((await t.json()) as any).error.code).toBe('unsupported_media_type');
  await stillServes();
});

test('a 10 MB body over a raw socket gets 413 before it is all sent', async () => {
  const got = await new Promise<string>((resolve, reject) => {
    const u = new URL(url);
    const s = net.connect(Number(u.port), u.hostname);
    let data = '';
    s.on('data', (d) => (data += d.toString()));
    s.on('error', () => resolve(data));
    s.on('close', () => resolve(data));
    s.on('connect', () => {
      s.write(
        `POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`,
      );
      s.write(`{"model":"${MODEL}","prompt":"${'x'.repeat(2 * 1024 * 1024)}`);
    });
    setTimeout(() => reject(new Error(`no answer to a 10 MB body; got ${data.slice(0, 100)}`)), 10_000).unref();
  });
  expect(got).toMatch(/^HTTP\/1\.1 413/);
  expect(got).toContain('body_too_large');
});

/** Opens a raw connection that sends `first`, then one byte of `rest` every `everyMs`; resolves with what the server said. */
function slowClient(first: string, rest: string, everyMs: number): Promise<{ data: string; ms: number }> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const t0 = Date.now();
    const s = net.connect(Number(u.port), u.hostname);
    let data = '';
    let i = 0;
    const timer = setInterval(() => {
      if (i < rest.length && !s.destroyed) s.write(rest[i++]);
    }, everyMs);
    s.on('connect', () => s.write(first));
    s.on('data', (d) => (data += d.toString()));
    const done = () => {
      clearInterval(timer);
      resolve({ data, ms: Date.now() - t0 });
    };
    s.on('close', done);
    s.on('error', done);
  });
}

test('slow-loris clients get 408 and do not stop others being served', async () => {
  const headers = slowClient('POST /v1/completions HTTP/1.1\r\nHost: x\r\n', `X-Slow: ${'a'.repeat(200)}\r\n\r\n`, 100);
  const body = `{"model":"${MODEL}","prompt":"${'y'.repeat(200)}"}`;
  const slowBody = slowClient(
    `POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    body,
    100,
  );
  // Meanwhile a normal client is served.
  const t0 = Date.now();
  const h = await fetch(`${url}/health`);
  expect(h.status).toBe(200);
  expect(Date.now() - t0).toBeLessThan(1000);
  const [a, b] = await Promise.all([headers, slowBody]);
  expect(a.data).toMatch(/^HTTP\/1\.1 408/);
  expect(a.ms).toBeLessThan(5000); // headersTimeout 1 s (+ the check interval)
  expect(b.data).toMatch(/^HTTP\/1\.1 408/);
  expect(b.ms).toBeLessThan(6000); // bodyTimeout 2 s
  await stillServes();
});

test('unknown routes are 404s in the same shape', async () => {
  const r = await fetch(`${url}/v1/embeddings`, {
    method: 'POST',
    body: '{}',
    headers: { 'content-type': 'application/json' },
  });
  expect(r.status).toBe(404);
  expect(((await r.json()) as any).error.type).toBe('not_found_error');
});
