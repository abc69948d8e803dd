// Backend selection: explicit requests, automatic choice, and clear failures.
import { loadBackend, resetBackend } from '../lib';

afterEach(() => resetBackend());

test('auto picks a backend and says why', () => {
  const { backend, report } = loadBackend('auto');
  expect(['cpu', 'wasm', 'cuda']).toContain(backend.name);
  expect(report.chosen).toBe(backend.name);
  expect(report.reason).toMatch(/^auto: /);
  expect(report.cpu.cores).toBeGreaterThan(0);
});

test('SD_BACKEND=wasm runs the WebAssembly module', () => {
  const { backend, report } = loadBackend('wasm');
  expect(backend.name).toBe('wasm');
  expect(backend.buildInfo).toMatch(/wasm32/);
  expect(report.reason).toMatch(/SD_BACKEND=wasm/);
});

test('SD_BACKEND=cuda without a usable GPU fails with a clear message, not a crash', () => {
  let info: ReturnType<typeof loadBackend> | Error;
  try {
    info = loadBackend('cuda');
  } catch (e) {
    info = e as Error;
  }
  if (info instanceof Error) {
    expect(info.message).toMatch(/^SD_BACKEND=cuda cannot be used: /);
  } else {
    // A GPU machine with the CUDA backend built: it must really be CUDA.
    expect(info.backend.name).toBe('cuda');
  }
});

test('an unknown backend name is refused', () => {
  expect(() => loadBackend('tpu')).toThrow(/SD_BACKEND=tpu: unknown backend; use cuda, cpu, wasm or auto/);
});

test('with the addon absent, auto falls back to WASM', () => {
  // A child process with the addon hidden (SD_NO_ADDON=1), as a user without a compiler.
  const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `process.env.SD_BACKEND='auto';const n=require(${JSON.stringify(require.resolve('../dist'))});console.log(JSON.stringify(n.loadBackend().report))`,
    ],
    { env: { ...process.env, SD_NO_ADDON: '1' }, encoding: 'utf8' },
  );
  const report = JSON.parse(out);
  expect(report.chosen).toBe('wasm');
  expect(report.reason).toMatch(/WASM fallback because the native addon did not load \(disabled by SD_NO_ADDON=1\)/);
});
