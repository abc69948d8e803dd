// `seed-diffusion serve` as a user runs it: the built binary on a free loopback port, answering
// /health and a completion, then exiting cleanly on SIGTERM.
import { spawn } from 'node:child_process';
import path from 'node:path';

const bin = path.join(__dirname, '..', 'dist', 'bin.js');

test('serve listens on loopback, answers, and exits 0 on SIGTERM', async () => {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--threads', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SEED_DIFFUSION_API_KEY: 'k-123' },
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', () => reject(new Error(`serve exited early: ${out}${err}`)));
    });
    expect(out).toContain('API key required');
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const body = JSON.stringify({ model: 'seed-diffusion-tiny', prompt: 'def f(x):\n', max_tokens: 4 });
    const headers = { 'content-type': 'application/json' };
    expect((await fetch(`${url}/v1/completions`, { method: 'POST', headers, body })).status).toBe(401);
    const ok = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { ...headers, authorization: 'Bearer k-123' },
      body,
    });
    expect(ok.status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).toContain('SIGTERM: finishing in-flight requests');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}, 60_000);
