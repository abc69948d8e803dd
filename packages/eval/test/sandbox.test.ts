import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

import { probeSandbox, sandboxUid, processesOfUid, runProgram } from '../src';

const caps = probeSandbox();
const py = (source: string) => ({ runtime: 'python' as const, source });

test('the sandbox reports what it could set up', () => {
  // on the development machine (root, util-linux) everything is available; elsewhere notes say what is not
  if (!caps.networkIsolated || !caps.uidDrop || !caps.mountIsolated)
    console.warn(`sandbox notes: ${caps.notes.join('; ')}`);
  expect(caps.python).toBeTruthy();
  expect(caps.networkIsolated || caps.notes.some((n) => /network/.test(n))).toBe(true);
  expect(caps.mountIsolated || caps.notes.some((n) => /mount namespace/.test(n))).toBe(true);
  if (caps.mountIsolated) expect(caps.hidden).toContain('/root');
});

test('the interpreter recorded is the one that runs the programs', async () => {
  const r = await runProgram(py('import sys\nprint(sys.executable, sys.version.split()[0], sys.prefix)\n'));
  expect(r.stdout.trim()).toBe(`${caps.python!.executable} ${caps.python!.version} ${caps.python!.prefix}`);
  // the user's python3 (pyenv shims included) is the one measured, not a system fallback
  const host = spawnSync(process.env.SD_EVAL_PYTHON || 'python3', ['-c', 'import sys; print(sys.version.split()[0])'], {
    encoding: 'utf8',
  });
  expect(caps.python!.version).toBe(host.stdout.trim());
  const js = await runProgram({ runtime: 'node', source: 'console.log(process.version)\n' });
  expect(js.stdout.trim()).toBe(caps.node.version);
});

test('a correct program passes and a wrong one fails', async () => {
  const ok = await runProgram(py('assert sum(range(5)) == 10\nprint("fine")\n'));
  expect(ok.status).toBe('passed');
  expect(ok.stdout).toBe('fine\n');
  const bad = await runProgram(py('assert sum(range(5)) == 11\n'));
  expect(bad.status).toBe('failed');
  expect(bad.stderr).toMatch(/AssertionError/);
  expect(bad.reason).toEqual({ kind: 'assertion', detail: 'AssertionError' });
});

test('an infinite loop is killed at its time limit and counts as a failure', async () => {
  const t0 = Date.now();
  const r = await runProgram(py('while True:\n    pass\n'), { limits: { timeoutMs: 1000 } });
  expect(r.status).toBe('timeout');
  expect(r.reason?.kind).toBe('timeout');
  expect(Date.now() - t0).toBeLessThan(4000);
});

test('a program allocating without bound is stopped by its memory limit', async () => {
  const t0 = Date.now();
  const r = await runProgram(py('xs = []\nwhile True:\n    xs.append(bytearray(50 * 1024 * 1024))\n'), {
    limits: { timeoutMs: 10_000, memoryMb: 256 },
  });
  expect(r.status).toBe('failed');
  expect(r.stderr).toMatch(/MemoryError/);
  expect(Date.now() - t0).toBeLessThan(5000);
  const js = await runProgram(
    { runtime: 'node', source: 'const a = []; for (;;) a.push(new Array(1e6).fill(1.5));\n' },
    { limits: { timeoutMs: 20_000, memoryMb: 256 } },
  );
  expect(js.status).toBe('failed');
});

// Leftovers are found by the sandbox's own uid, which it only has as root: elsewhere the test is
// declared skipped with that reason instead of passing without checking.
const uidTest = caps.uidDrop
  ? test
  : (name: string, fn: () => Promise<void>) =>
      test.skip(`${name} [skipped: not root: the sandbox cannot run programs under their own uid]`, fn);
uidTest('a background process left behind is killed when the program ends', async () => {
  const slot = 4;
  const r = await runProgram(
    py('import subprocess\nsubprocess.Popen(["sleep", "30"], start_new_session=True)\nprint("left")\n'),
    {
      slot,
    },
  );
  expect(r.status).toBe('passed');
  expect(processesOfUid(sandboxUid(slot))).toEqual([]);
});

test('scratch directory is fresh, removed afterwards, and the environment is minimal', async () => {
  process.env.SD_EVAL_TEST_SECRET = 'do-not-leak';
  const r = await runProgram(
    py(
      'import os, json\nprint(json.dumps({"cwd": os.getcwd(), "files": os.listdir("."), "env": sorted(os.environ)}))\n',
    ),
  );
  delete process.env.SD_EVAL_TEST_SECRET;
  expect(r.status).toBe('passed');
  const seen = JSON.parse(r.stdout);
  expect(seen.files).toEqual(['main.py']);
  expect(existsSync(seen.cwd)).toBe(false);
  expect(seen.env).not.toContain('SD_EVAL_TEST_SECRET');
  expect(seen.env).toContain('PATH');
});

test('output is captured up to the cap, and the run still counts as completed', async () => {
  const r = await runProgram(py('import sys\nsys.stdout.write("x" * 1000000)\n'), { limits: { maxOutputBytes: 1000 } });
  expect(r.status).toBe('passed');
  expect(r.completed).toBe(true);
  expect(r.stdout.length).toBe(1000);
  expect(r.truncated).toBe(true);
});

test('bad limits give a clear error', async () => {
  await expect(runProgram(py('pass'), { limits: { timeoutMs: 0 } })).rejects.toThrow(/timeoutMs/);
  await expect(runProgram({ runtime: 'ruby' as never, source: '' })).rejects.toThrow(/program.runtime/);
  await expect(runProgram(py('pass'), { limits: { maxFiles: 0 } })).rejects.toThrow(/maxFiles/);
});

test('a blocked event loop does not turn a finished program into a timeout', async () => {
  const p = runProgram({ runtime: 'python', source: 'print(1)\n' }, { limits: { timeoutMs: 1000 } });
  const t0 = Date.now();
  // the generator's forwards block the loop like this
  let spins = 0;
  while (Date.now() - t0 < 2500) spins++;
  expect(spins).toBeGreaterThan(0);
  const r = await p;
  expect(r.status).toBe('passed');
});
