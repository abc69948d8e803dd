// Hostile programs: "solutions" that try to be scored passed without being right, to leave something
// behind, or to look outside their sandbox. Each must be scored failed, and the host is checked
// afterwards for anything it left.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { BenchTask, probeSandbox, processesOfUid, programFor, runProgram, sandboxUid } from '../src';
import { JS_TASKS, PY_TASKS, TS_TASKS } from './fixtures';

const caps = probeSandbox();
/** `test` where `ok`, else the test declared skipped with `why` in its title (the test summary's convention). */
const testIf = (ok: boolean, why: string) =>
  ok ? test : (name: string, fn: () => Promise<void>) => test.skip(`${name} [skipped: ${why}]`, fn);
const isolatedTest = testIf(
  caps.mountIsolated,
  'no private mount namespace here (not root and no user namespaces, or a container without CAP_SYS_ADMIN)',
);
const netTest = testIf(caps.networkIsolated, 'unshare --net is not available here');

const [SUM] = PY_TASKS; // sum_below(xs, limit)
const tag = () => randomBytes(6).toString('hex');

/** The test program for `body` as the completion of sum_below (the tests follow it). */
const pySolution = (body: string) => programFor('python', SUM.prompt + body, SUM.test, SUM.entryPoint);
const completion = (task: BenchTask, body: string) =>
  programFor(task.language, task.prompt + body, task.test, task.entryPoint);

/** Host processes whose command line contains `token`. */
function hostProcessesWith(token: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(token)) found.push(Number(name));
    } catch {
      // gone
    }
  }
  return found;
}

describe('early exit before the tests end is a failure, whatever the exit code', () => {
  test.each([
    ['sys.exit(0) in the answer', '    import sys\n    sys.exit(0)\n'],
    ['os._exit(0) in the answer', '    import os\n    os._exit(0)\n'],
    ['raise SystemExit in the answer', '    raise SystemExit(0)\n'],
    ['sys.exit(0) at import time', '    return 0\nimport sys\nsys.exit(0)\n'],
    [
      'os.kill of itself with SIGTERM',
      '    import os, signal\n    os.kill(os.getpid(), signal.SIGTERM)\n    os._exit(0)\n',
    ],
    ['os.abort()', '    import os\n    os.abort()\n'],
  ])('python: %s', async (_name, body) => {
    const r = await runProgram(pySolution(body));
    expect(r.status).toBe('failed');
    expect(r.completed).toBe(false);
    expect(['early-exit', 'killed']).toContain(r.reason?.kind);
  });

  test('python: the marker is not in the source, so reading its own file does not help', async () => {
    const body =
      '    import re, sys\n    src = open(__file__).read()\n    m = re.findall(r"sd-eval-done:[0-9a-f]{32}", src)\n' +
      '    print("\\n" + (m[0] if m else "sd-eval-done:" + "0" * 32))\n    sys.stdout.flush()\n    import os\n    os._exit(0)\n';
    const r = await runProgram(pySolution(body));
    expect(r.status).toBe('failed');
    expect(r.reason?.kind).toBe('early-exit');
  });

  test.each([
    ['javascript', JS_TASKS[0], '  process.exit(0);\n}\n'],
    ['javascript (exit code set, then exit)', JS_TASKS[1], '  process.exitCode = 0; process.exit();\n}'],
    ['typescript', TS_TASKS[0], '  process.exit(0);\n  return 0;\n}'],
  ])('%s: process.exit(0)', async (_name, task, body) => {
    const r = await runProgram(completion(task, body));
    expect(r.status).toBe('failed');
    expect(r.reason?.kind).toBe('early-exit');
  });

  test('a right answer still passes, and one test failing after others is an assertion', async () => {
    const ok = await runProgram(pySolution(SUM.canonicalSolution!));
    expect(ok).toMatchObject({ status: 'passed', completed: true, reason: null });
    const wrong = await runProgram(pySolution('    return sum(x for x in xs if x <= limit)\n'));
    expect(wrong.reason?.kind).toBe('assertion');
    const js = await runProgram(completion(JS_TASKS[0], '  return xs;\n}\n'));
    expect(js.reason?.kind).toBe('assertion');
    const crash = await runProgram(pySolution('    return undefined_name\n'));
    expect(crash.reason).toEqual({ kind: 'exception', detail: "NameError: name 'undefined_name' is not defined" });
  });
});

describe('nothing of a run survives it, and it cannot see the host', () => {
  isolatedTest('writes to /tmp, /var/tmp, /dev/shm and /run/lock stay private and are gone afterwards', async () => {
    const t = tag();
    const places = ['/tmp', '/var/tmp', '/dev/shm', '/run/lock'].filter((p) => existsSync(p));
    const body =
      `    import os\n    for d in ${JSON.stringify(places)}:\n        p = os.path.join(d, "sd-hostile-${t}")\n` +
      `        open(p, "w").write("left behind")\n        assert os.path.exists(p)\n    return -1\n`;
    const r = await runProgram(pySolution(body));
    expect(r.reason?.kind).toBe('assertion'); // the writes worked inside; the answer is wrong
    for (const d of places) expect(existsSync(path.join(d, `sd-hostile-${t}`))).toBe(false);
    // a second run does not find them either
    const look = await runProgram({
      runtime: 'python',
      source: `import os\nassert not any(os.path.exists(os.path.join(d, "sd-hostile-${t}")) for d in ${JSON.stringify(places)})\n`,
    });
    expect(look.status).toBe('passed');
  });

  isolatedTest('the project tree, its parent and /root are invisible, and cannot be written', async () => {
    const t = tag();
    const secret = path.join(__dirname, `.hostile-secret-${t}`);
    writeFileSync(secret, 'the answers');
    const target = path.join(__dirname, `hostile-wrote-${t}`);
    try {
      const read = await runProgram(pySolution(`    return len(open(${JSON.stringify(secret)}).read())\n`));
      expect(read.status).toBe('failed');
      expect(read.reason?.detail).toMatch(/FileNotFoundError/);
      const write = await runProgram(pySolution(`    open(${JSON.stringify(target)}, "w").write("x")\n    return 0\n`));
      expect(write.status).toBe('failed');
      expect(write.reason?.detail).toMatch(/FileNotFoundError|PermissionError|OSError/);
      expect(existsSync(target)).toBe(false);
      const root = await runProgram(
        pySolution('    import os\n    assert set(os.listdir("/root")) - {".pyenv"}, "/root is empty"\n    return 0\n'),
      );
      expect(root.status).toBe('failed');
      expect(root.stderr).toMatch(/\/root is empty/);
      // the benchmark data beside the project (../shared) is covered with it
      const shared = path.resolve(__dirname, '../../../../shared');
      if (existsSync(shared)) {
        const s = await runProgram(
          pySolution(`    import os\n    return len(os.listdir(${JSON.stringify(shared)}))\n`),
        );
        expect(s.reason?.detail).toMatch(/FileNotFoundError/);
      }
    } finally {
      rmSync(secret, { force: true });
      rmSync(target, { force: true });
    }
  });

  isolatedTest('/proc shows only the sandbox: no host command lines', async () => {
    const body =
      '    import os\n    cmds = [open(f"/proc/{p}/cmdline").read() for p in os.listdir("/proc") if p.isdigit()]\n' +
      `    assert not any("jest" in c for c in cmds), "saw the host"\n` +
      `    assert "main.py" in open("/proc/1/cmdline").read(), "pid 1 is not the program"\n` +
      `    assert not os.path.exists("/proc/${process.pid}/cmdline") or ${process.pid} < 5\n` +
      '    return -1\n';
    const r = await runProgram(pySolution(body));
    expect(r.reason?.kind).toBe('assertion');
    expect(r.stderr).not.toMatch(/saw the host|pid 1 is not the program/);
    expect(r.stderr).toMatch(/assert candidate\(/); // got as far as the tests
  });

  netTest('no network: neither this machine nor the outside', async () => {
    const server = net.createServer((s) => s.end('hello'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const r = await runProgram(
        pySolution(
          `    import socket\n    return len(socket.create_connection(("127.0.0.1", ${port}), timeout=3).recv(5))\n`,
        ),
      );
      expect(r.status).toBe('failed');
      expect(r.reason?.detail).toMatch(/OSError|ConnectionRefusedError|Network is unreachable/);
      const ext = await runProgram(
        pySolution('    import socket\n    socket.create_connection(("1.1.1.1", 80), timeout=3)\n'),
      );
      expect(ext.status).toBe('failed');
    } finally {
      server.close();
    }
  });

  test('unbounded memory is stopped by the memory limit', async () => {
    const t0 = Date.now();
    const r = await runProgram(pySolution('    xs = []\n    while True:\n        xs.append(bytearray(50 * 2**20))\n'), {
      limits: { memoryMb: 256 },
    });
    expect(r.status).toBe('failed');
    expect(r.reason?.detail).toMatch(/MemoryError/);
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  test('fork and double-fork survivors are killed with the run', async () => {
    const t = `${4000 + Math.floor(Math.random() * 1000)}.${Math.floor(Math.random() * 1e6)}`;
    const slot = 5;
    const body =
      '    import os, subprocess\n' +
      `    subprocess.Popen(["sleep", "${t}"], start_new_session=True)\n` +
      '    if os.fork() == 0:\n        if os.fork() == 0:\n            os.setsid()\n' +
      `            os.execvp("sleep", ["sleep", "${t}"])\n        os._exit(0)\n` +
      '    os.wait()\n    return -1\n';
    const r = await runProgram(pySolution(body), { slot });
    expect(r.status).toBe('failed');
    expect(r.reason?.kind).toBe('assertion');
    expect(hostProcessesWith(t)).toEqual([]);
    if (caps.uidDrop) expect(processesOfUid(sandboxUid(slot))).toEqual([]);
  });

  test('a fork bomb is contained and leaves no process behind', async () => {
    const slot = 3;
    const t0 = Date.now();
    const r = await runProgram(
      pySolution(
        '    import os, time\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            time.sleep(0.01)\n',
      ),
      { limits: { timeoutMs: 1500, maxProcs: 32 }, slot },
    );
    expect(r.status === 'timeout' || r.status === 'failed').toBe(true);
    expect(Date.now() - t0).toBeLessThan(8000);
    if (caps.uidDrop) expect(processesOfUid(sandboxUid(slot))).toEqual([]);
    expect((await runProgram({ runtime: 'python', source: 'print(1)\n' }, { slot })).status).toBe('passed');
  });

  isolatedTest('many small files hit the file-count limit, and none are left', async () => {
    const t = tag();
    const body = `    import os\n    os.mkdir("/tmp/many-${t}")\n    for i in range(100000):\n        open(f"/tmp/many-${t}/{i}", "w").close()\n    return 0\n`;
    const t0 = Date.now();
    const r = await runProgram(pySolution(body), { limits: { maxFiles: 500 } });
    expect(r.status).toBe('failed');
    expect(r.reason?.detail).toMatch(/OSError: \[Errno 28\] No space left on device/);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(existsSync(`/tmp/many-${t}`)).toBe(false);
  });

  isolatedTest('a big file is stopped by the size limit', async () => {
    const body = '    open("/tmp/big", "wb").write(b"x" * (80 * 2**20))\n    return 0\n';
    const r = await runProgram(pySolution(body), { limits: { scratchMb: 16 } });
    expect(r.status).toBe('failed');
    expect(r.reason?.kind === 'killed' || /OSError|File too large/.test(r.reason?.detail ?? '')).toBe(true);
  });

  test('kill -1 reaches nothing outside its own run', async () => {
    const slowOk = runProgram(
      { runtime: 'python', source: 'import time\ntime.sleep(1.5)\nprint("alive")\n' },
      { slot: 6, limits: { timeoutMs: 10_000 } },
    );
    await new Promise((r) => setTimeout(r, 300));
    const body =
      '    import os, signal, subprocess\n    subprocess.run("kill -9 -1", shell=True)\n' +
      '    try:\n        os.kill(-1, signal.SIGKILL)\n    except OSError:\n        pass\n    return -1\n';
    const r = await runProgram(pySolution(body), { slot: 7 });
    expect(r.status).toBe('failed');
    const other = await slowOk;
    expect(other.status).toBe('passed');
    expect(other.stdout).toBe('alive\n');
  });
});

describe('an unprivileged evaluator', () => {
  const dist = path.join(__dirname, '..', 'dist', 'index.js');
  const nobody = ['--reuid=65534', '--regid=65534', '--clear-groups'];
  const canRun =
    caps.root &&
    existsSync('/usr/bin/python3') &&
    existsSync(dist) &&
    spawnSync('setpriv', [...nobody, 'test', '-r', dist]).status === 0;
  const why = !caps.root
    ? 'not root: cannot switch to an unprivileged user'
    : !existsSync(dist)
      ? 'the package is not built (dist/)'
      : 'dist/ or /usr/bin/python3 is not readable by uid 65534';
  testIf(canRun, why)('gets the same isolation through a user namespace', async () => {
    const t = tag();
    const script =
      `const e = require(${JSON.stringify(dist)});\n(async () => {\n` +
      '  const caps = e.probeSandbox();\n' +
      `  const left = await e.runProgram({ runtime: 'python', source: 'open("/tmp/sd-unpriv-${t}", "w").write("x")\\nimport os\\nprint(sorted(os.listdir("/proc")).count("1"))\\n' });\n` +
      "  const exit = await e.runProgram({ runtime: 'python', source: 'import sys\\nsys.exit(0)\\n' });\n" +
      '  console.log(JSON.stringify({ caps, left, exit }));\n})();\n';
    const r = spawnSync('setpriv', [...nobody, process.execPath, '-e', script], {
      encoding: 'utf8',
      cwd: '/',
      env: { PATH: '/usr/bin:/bin', HOME: '/', SD_EVAL_PYTHON: '/usr/bin/python3' },
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.caps).toMatchObject({ root: false, mountIsolated: true, userNamespace: true, networkIsolated: true });
    expect(out.left.status).toBe('passed');
    expect(out.exit.reason.kind).toBe('early-exit');
    expect(existsSync(`/tmp/sd-unpriv-${t}`)).toBe(false);
  });
});
