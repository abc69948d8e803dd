// The CLI as a user runs it: a child process of the built binary.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';

const bin = path.join(__dirname, '..', 'dist', 'bin.js');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

test('info --json reports the chosen backend and why', () => {
  const report = JSON.parse(execFileSync(process.execPath, [bin, 'info', '--json'], { encoding: 'utf8' }));
  expect(['cpu', 'wasm', 'cuda']).toContain(report.chosen);
  expect(report.reason.length).toBeGreaterThan(10);
  expect(report.cpu.cores).toBeGreaterThan(0);
  // where the addon came from: in the repository, the build from source (SD_NO_ADDON hides it)
  if (process.env.SD_NO_ADDON === '1') expect(report.addon.loaded).toBe(false);
  else expect(report.addon.source).toMatch(/^(built from source|prebuilt \(@seed-diffusion\/native-|SD_NATIVE_PATH)/);
});

test('info prints one line per part', () => {
  const r = run('info');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^backend: +(cpu|wasm|cuda)/m);
  expect(r.stdout).toMatch(/^cuda: +compiled (yes|no)/m);
});

test('selfcheck passes on every backend', () => {
  const r = run('selfcheck', '--size', '64');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/matmul parity max rel err .* ok/);
});

test('SD_BACKEND=cuda on a machine without a GPU exits with a clear message', () => {
  const r = spawnSync(process.execPath, [bin, 'info'], {
    encoding: 'utf8',
    env: { ...process.env, SD_BACKEND: 'cuda' },
  });
  if (r.status === 0) {
    expect(r.stdout).toMatch(/^backend: +cuda/m);
  } else {
    expect(r.stderr).toMatch(/^seed-diffusion: SD_BACKEND=cuda cannot be used: /);
  }
});

test('an unknown command is a usage error', () => {
  const r = run('frobnicate');
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
});
