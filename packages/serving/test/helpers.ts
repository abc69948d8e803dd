/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are checked field by field */
// Shared by the serving tests: the embedded model and a server on a free loopback port.
import path from 'node:path';

import { startServer, type DiffusionServer, type ServerOptions } from '../src';

export const MODEL_DIR = path.join(__dirname, '../../../models/seed-diffusion-tiny');
export const MODEL = 'seed-diffusion-tiny';

/**
 * A server on 127.0.0.1 with a free port. One kernel thread: the test machine's cores are shared,
 * and spinning threads that lose their core slow every forward down.
 */
export function testServer(opts: Partial<ServerOptions> = {}): Promise<DiffusionServer> {
  return startServer({ modelDir: MODEL_DIR, port: 0, threads: 1, ...opts });
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any; headers: Headers }> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: r.status, json, headers: r.headers };
}

/** Named server-sent events of a response body. */
export async function readEvents(r: Response): Promise<{ event: string; data: any }[]> {
  const text = await r.text();
  return text
    .split('\n\n')
    .filter((f) => f.trim().length > 0)
    .map((f) => {
      let event = 'message';
      let data = '';
      for (const line of f.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      return { event, data: data === '[DONE]' ? data : JSON.parse(data) };
    });
}

/** Polls until `f` holds or `ms` pass. */
export async function eventually(f: () => Promise<boolean> | boolean, ms = 10_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await f()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return f();
}
