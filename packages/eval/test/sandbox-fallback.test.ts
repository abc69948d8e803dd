// A machine without namespaces (a container without CAP_SYS_ADMIN, no util-linux): SD_EVAL_ISOLATION
// caps what the probe tries, so the fallbacks are checked here. What cannot be had is said in the
// notes; completion is still what makes a pass.
process.env.SD_EVAL_ISOLATION = 'none';
const { probeSandbox, runProgram } = require('../src') as typeof import('../src');

afterAll(() => {
  delete process.env.SD_EVAL_ISOLATION;
});

test('without namespaces the notes say what is missing, and an early exit still fails', async () => {
  const caps = probeSandbox();
  expect(caps).toMatchObject({ mountIsolated: false, networkIsolated: false, hidden: [], exposed: [] });
  expect(caps.notes.join('\n')).toMatch(/no private mount namespace \(SD_EVAL_ISOLATION=none\)/);
  expect(caps.notes.join('\n')).toMatch(/WITH network access/);
  // the interpreter recorded is the one that runs, even where a uid cannot reach the user's python
  const r = await runProgram({ runtime: 'python', source: 'import sys\nprint(sys.version.split()[0])\n' });
  expect(r.status).toBe('passed');
  expect(r.stdout.trim()).toBe(caps.python!.version);
  const exit = await runProgram({ runtime: 'python', source: 'import os\nos._exit(0)\n' });
  expect(exit.reason?.kind).toBe('early-exit');
  const js = await runProgram({ runtime: 'node', source: 'process.exit(0)\n' });
  expect(js.reason?.kind).toBe('early-exit');
});

test('a bad SD_EVAL_ISOLATION is named', () => {
  jest.isolateModules(() => {
    process.env.SD_EVAL_ISOLATION = 'most';
    const fresh = require('../src') as typeof import('../src');
    expect(() => fresh.probeSandbox()).toThrow(/SD_EVAL_ISOLATION must be full, net or none, got "most"/);
    process.env.SD_EVAL_ISOLATION = 'none';
  });
});
