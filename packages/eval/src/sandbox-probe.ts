// What this machine allows for sandboxing, probed once per process: which namespaces can be had,
// which folders to hide, and which interpreters really run inside (measured there, not assumed).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Isolation, MountPlan, READY_LINE, SCRATCH_PATHS, sandboxArgv, withSourceFd } from './sandbox-setup';
import { DEFAULT_LIMITS, Interpreter, Runtime, SandboxCapabilities } from './sandbox-types';
import { SANDBOX_UID_BASE, sandboxUid, userProcessCount } from './sandbox-uid';

/** The command succeeds (tried twice: a probe on a machine under heavy load once failed spuriously). */
function works(cmd: string, args: string[]): boolean {
  for (let attempt = 0; attempt < 2; attempt++)
    if (spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 }).status === 0) return true;
  return false;
}

interface HostPython {
  command: string;
  version: string;
  /** Real paths of sys.prefix and sys.base_prefix (the installation the sandbox must see). */
  prefixes: string[];
}

/** The user's python3 (or SD_EVAL_PYTHON) as the user's environment resolves it (pyenv shims included). */
function hostPython(): HostPython | null {
  const forced = process.env.SD_EVAL_PYTHON;
  const r = spawnSync(
    forced || 'python3',
    [
      '-c',
      'import sys, json; print(json.dumps([sys.executable, sys.version.split()[0], sys.prefix, sys.base_prefix]))',
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
  if (r.status !== 0) return null;
  try {
    const [exe, version, prefix, base] = JSON.parse(r.stdout.trim()) as string[];
    const real = (p: string) => (existsSync(p) ? realpathSync(p) : p);
    return { command: exe, version, prefixes: [...new Set([real(prefix), real(base)])] };
  } catch {
    return null;
  }
}

/** Folders holding the packages JS benchmark tests require (lodash, js-md5), for the child's NODE_PATH. */
function nodePathForTests(): string[] {
  const dirs = new Set<string>();
  for (const pkg of ['lodash', 'js-md5']) {
    try {
      dirs.add(path.dirname(path.dirname(require.resolve(`${pkg}/package.json`))));
    } catch {
      // reported by the JS tests that need it, as a failed require
    }
  }
  return [...dirs];
}

/** The workspace root (the folder with pnpm-workspace.yaml above this package), or null when installed elsewhere. */
function projectRoot(): string | null {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (path.dirname(dir) === dir) return null;
  }
}

/** Folders whose parent is a system place: hide the project itself there, not the parent. */
const SYSTEM_PARENTS = new Set([
  '/',
  '/opt',
  '/srv',
  '/mnt',
  '/home',
  '/usr',
  '/usr/local',
  '/usr/src',
  '/var',
  '/var/lib',
]);
/** Never covered: the system the programs run on. */
const ESSENTIAL = ['/', '/bin', '/sbin', '/lib', '/lib64', '/usr', '/etc', '/proc', '/dev', '/sys', '/run', '/var'];

const within = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/** Drop paths inside another path of the list. */
function outermost(paths: Iterable<string>): string[] {
  const list = [...new Set(paths)].sort((a, b) => a.length - b.length);
  return list.filter((p, i) => !list.slice(0, i).some((q) => within(p, q)));
}

/**
 * The folders a program must not see: /root, /home, the project (its parent too, which holds
 * ../shared and the benchmarks' answers, unless the parent is a system folder), the current folder,
 * and SD_EVAL_HIDE (a ':'-separated list). Scratch places are private anyway; system folders never hidden.
 */
export function hiddenPaths(): string[] {
  const want = ['/root', '/home'];
  const root = projectRoot();
  const addProject = (dir: string) => want.push(SYSTEM_PARENTS.has(path.dirname(dir)) ? dir : path.dirname(dir));
  if (root) addProject(root);
  const cwd = process.cwd();
  if (!root || !within(cwd, root)) addProject(cwd);
  for (const p of (process.env.SD_EVAL_HIDE ?? '').split(':')) if (p) want.push(path.resolve(p));
  const ok = want
    .map((p) => (existsSync(p) ? realpathSync(p) : p))
    .filter((p) => {
      try {
        if (!statSync(p).isDirectory()) return false;
      } catch {
        return false;
      }
      if (ESSENTIAL.some((e) => within(e, p))) return false; // hiding p would hide a system folder
      return !SCRATCH_PATHS.some((s) => within(p, s) || within(s, p));
    });
  return outermost(ok);
}

/**
 * The smallest set of paths to bind back under the hidden folders and under the scratch places (a
 * project cloned under /tmp keeps its JS test packages there, and the private /tmp covers them).
 * The first scratch place stages the binds, so a path under it cannot be given back.
 */
function exposedPaths(candidates: string[], hidden: string[]): string[] {
  const covered = (c: string) => hidden.some((h) => within(c, h)) || SCRATCH_PATHS.slice(1).some((s) => within(c, s));
  return outermost(candidates.filter((c) => existsSync(c) && covered(c)).map((c) => realpathSync(c)));
}

const PROBE: Record<Runtime, string> = {
  python:
    'import sys, json\nprint(json.dumps({"executable": sys.executable, "version": sys.version.split()[0], "prefix": sys.prefix}))\n',
  node: 'console.log(JSON.stringify({ executable: process.execPath, version: process.version }));\n',
};

/** Run a probe program through the full sandbox, synchronously; null (and why) when it did not run. */
function runProbe(
  runtime: Runtime,
  command: string,
  iso: Isolation,
  nodePath: string,
): { seen: Omit<Interpreter, 'command'> | null; why: string } {
  const uid = iso.uidDrop ? sandboxUid(0) : null;
  const inner = runtime === 'python' ? [command, '-I', '-B', 'main.py'] : [command, 'main.js'];
  const file = inner[inner.length - 1];
  const host = iso.mountIsolated ? null : mkdtempSync(path.join(os.tmpdir(), 'sd-eval-probe-'));
  try {
    if (host && uid !== null) spawnSync('chown', [`${uid}:${uid}`, host]);
    const work = host ?? '/tmp/sd-eval-probe';
    const argv = sandboxArgv(inner, iso, DEFAULT_LIMITS, uid, work, file, userProcessCount());
    const r = withSourceFd(PROBE[runtime], (fd) =>
      spawnSync(argv[0], argv.slice(1), {
        stdio: ['ignore', 'pipe', 'pipe', 'ignore', fd],
        encoding: 'utf8',
        timeout: 30_000,
        cwd: host ?? '/',
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: work, LANG: 'C.UTF-8', NODE_PATH: nodePath },
      }),
    );
    const ready = r.stderr?.startsWith(`${READY_LINE}\n`);
    if (r.status !== 0 || !ready)
      return {
        seen: null,
        why: `exit ${r.status ?? r.signal}: ${(r.stderr ?? r.error?.message ?? '').trim().slice(0, 300)}`,
      };
    return { seen: JSON.parse(r.stdout.trim()), why: '' };
  } catch (e) {
    return { seen: null, why: (e as Error).message };
  } finally {
    if (host) rmSync(host, { recursive: true, force: true });
  }
}

let probed: { caps: SandboxCapabilities; iso: Isolation } | undefined;

/** The capabilities and the isolation runs use, probed once per process. */
export function sandboxSetup(): { caps: SandboxCapabilities; iso: Isolation } {
  if (probed) return probed;
  const root = process.getuid?.() === 0;
  const notes: string[] = [];
  const prlimit = works('prlimit', ['--as=1073741824', '--', 'true']);
  if (!prlimit) notes.push('prlimit unavailable: limits set with ulimit through sh');
  const uidDrop =
    root &&
    works('setpriv', [`--reuid=${SANDBOX_UID_BASE}`, `--regid=${SANDBOX_UID_BASE}`, '--clear-groups', '--', 'true']);
  const py = hostPython();
  const nodeDirs = nodePathForTests();
  const nodePath = nodeDirs.join(path.delimiter);
  const hidden = hiddenPaths();
  const exposed = exposedPaths(
    [...(py?.prefixes ?? []), path.dirname(path.dirname(realpathSync(process.execPath))), ...nodeDirs],
    hidden,
  );
  const scratch = SCRATCH_PATHS.filter((p) => existsSync(p));
  const plan: MountPlan = { scratch, hidden, exposed };
  const base = { root, prlimit, uidDrop, plan };
  // the full sandbox first; then network and PID namespaces alone; then nothing
  const tries: Isolation[] = [
    { ...base, networkIsolated: true, mountIsolated: true, userNamespace: !root },
    { ...base, networkIsolated: true, mountIsolated: false, userNamespace: false },
    { ...base, networkIsolated: false, mountIsolated: false, userNamespace: false },
  ];
  // SD_EVAL_ISOLATION=net|none caps what is tried (to check the fallbacks a machine without
  // namespaces would get); the default tries everything
  const cap = process.env.SD_EVAL_ISOLATION;
  if (cap !== undefined && cap !== 'full' && cap !== 'net' && cap !== 'none')
    throw new Error(`SD_EVAL_ISOLATION must be full, net or none, got ${JSON.stringify(cap)}`);
  if (cap === 'net' || cap === 'none') tries.splice(0, cap === 'net' ? 1 : 2);
  let iso = tries[tries.length - 1];
  const probeRuntime: Runtime = py ? 'python' : 'node';
  const probeCommand = py ? py.command : process.execPath;
  const whyNot: string[] = [];
  let first: ReturnType<typeof runProbe> | undefined;
  for (const t of tries) {
    const r = runProbe(probeRuntime, probeCommand, t, nodePath);
    if (r.seen) {
      iso = t;
      first = r;
      break;
    }
    whyNot.push(r.why);
  }
  if (!iso.mountIsolated)
    notes.push(
      `no private mount namespace (${whyNot[0] ?? `SD_EVAL_ISOLATION=${cap}`}): programs see the host's files and can write its /tmp, /var/tmp, /dev/shm`,
    );
  if (!iso.networkIsolated)
    notes.push('unshare --net --pid failed: programs run WITH network access and without a PID namespace');
  if (!uidDrop)
    notes.push(
      root
        ? 'setpriv unavailable: programs run as root, where the process limit is not enforced'
        : "not root: programs run as this user; the process limit counts this user's other processes too",
    );
  let python: Interpreter | null = null;
  if (!py) notes.push('python3 not found: python programs cannot run');
  else {
    // the probe that chose the isolation already ran python there
    const r = first && probeRuntime === 'python' ? first : runProbe('python', py.command, iso, nodePath);
    if (!r.seen) notes.push(`python ${py.command} does not run in the sandbox: ${r.why}`);
    else {
      python = { command: py.command, ...r.seen };
      if (r.seen.version !== py.version)
        notes.push(`python3 outside the sandbox is ${py.version}, inside it ${r.seen.version} runs`);
    }
  }
  const n = runProbe('node', process.execPath, iso, nodePath);
  const node: Interpreter = n.seen
    ? { command: process.execPath, ...n.seen }
    : { command: process.execPath, executable: process.execPath, version: process.version };
  if (!n.seen) notes.push(`node ${process.execPath} does not run in the sandbox: ${n.why}`);
  const caps: SandboxCapabilities = {
    root,
    networkIsolated: iso.networkIsolated,
    mountIsolated: iso.mountIsolated,
    userNamespace: iso.userNamespace,
    uidDrop,
    prlimit,
    hidden: iso.mountIsolated ? hidden : [],
    exposed: iso.mountIsolated ? exposed : [],
    python,
    node,
    nodePath,
    notes,
  };
  probed = { caps, iso };
  return probed;
}

/** What this machine allows, probed once per process. */
export function probeSandbox(): SandboxCapabilities {
  return sandboxSetup().caps;
}
