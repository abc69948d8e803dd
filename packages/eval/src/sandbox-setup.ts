// The shell script that turns a fresh set of namespaces into a sandbox, then execs the program.
//
// It runs as root of the new namespaces (real root, or root of a new user namespace when the
// evaluator is unprivileged), as pid 1 of a new PID namespace, before any untrusted code:
// - every world-writable place (/tmp, /var/tmp, /dev/shm, /run/lock) gets its own tmpfs with a size
//   and an inode limit (the file-count limit), so nothing a program writes reaches the host, and all of
//   it vanishes with the mount namespace when the program's last process ends;
// - the project tree, its parent folder (where ../shared and the benchmark answers live), /root and
//   /home are covered by an empty read-only tmpfs; the few paths the program needs from under them
//   (the interpreter's installation, the JS test packages) are bind-mounted back read-only at their
//   own paths, staged first because covering a folder hides its contents from later binds;
// - the program's source arrives on fd 4 (an open file the evaluator has already unlinked, so it reads
//   to its end without waiting on the evaluator) and goes into a fresh working folder in the private
//   /tmp; fd 4 is closed and the program runs with stdin from /dev/null, its
//   capabilities dropped (empty bounding set, no-new-privs) and, as real root, under a per-slot uid.
// Every mount is `mount -n`: libmount would otherwise record options in /run/mount/utab, which root of
// an unprivileged user namespace cannot write (the mount happens, then mount(8) fails).
// Before exec it writes READY_LINE to stderr, so a failed setup is never mistaken for a failed program.

import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { SandboxCapabilities, SandboxLimits } from './sandbox-types';

/** First line of stderr once the sandbox is set up (removed from the program's stderr). */
export const READY_LINE = 'sd-sandbox-ready';

/** Places every user may write to on a Debian host: each gets a private tmpfs. */
export const SCRATCH_PATHS = ['/dev/shm', '/tmp', '/var/tmp', '/run/lock'] as const;

export interface SetupPlan extends MountPlan {
  /** Bytes of each scratch tmpfs. */
  scratchBytes: number;
  /** Inodes (files + folders) of each scratch tmpfs: the file-count limit. */
  scratchInodes: number;
}

/** Which folders a run gets privately, which it cannot see, and what it is given back. */
export interface MountPlan {
  /** Scratch mounts that exist on this host (the first one also stages the re-exposed paths). */
  scratch: string[];
  /** Folders covered by an empty read-only tmpfs. */
  hidden: string[];
  /** Paths under hidden folders that are bind-mounted back, read-only, at the same place. */
  exposed: string[];
}

/** Quote one word for sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The setup script for an isolated run (mount namespace available). `argv` is the program's command. */
export function isolatedScript(
  plan: SetupPlan,
  work: string,
  file: string,
  uid: number | null,
  argv: readonly string[],
): string {
  const lines = ['set -eu', 'umask 022'];
  const tmpfs = (opts: string, name: string, at: string) =>
    `mount -n -t tmpfs -o ${opts},nosuid,nodev ${name} ${shq(at)}`;
  const scratchOpts = `size=${plan.scratchBytes},nr_inodes=${plan.scratchInodes},mode=1777`;
  const [first, ...rest] = plan.scratch;
  if (first === undefined) throw new Error('isolatedScript: no scratch path exists on this host');
  lines.push(tmpfs(scratchOpts, 'sd-scratch', first));
  const stage = `${first}/.sd-stage`;
  if (plan.exposed.length > 0) lines.push(`mkdir ${shq(stage)}`);
  plan.exposed.forEach((p, i) => {
    const at = `${stage}/${i}`;
    lines.push(`mkdir ${shq(at)}`, `mount -n --bind ${shq(p)} ${shq(at)}`);
    lines.push(`mount -n -o remount,bind,ro,nosuid,nodev ${shq(at)}`);
  });
  for (const p of rest) lines.push(tmpfs(scratchOpts, 'sd-scratch', p));
  for (const p of plan.hidden) lines.push(tmpfs('size=1m,nr_inodes=4096,mode=755', 'sd-hidden', p));
  plan.exposed.forEach((p, i) => lines.push(`mkdir -p ${shq(p)}`, `mount -n --move ${shq(`${stage}/${i}`)} ${shq(p)}`));
  for (const p of plan.hidden) lines.push(`mount -n -o remount,bind,ro,nosuid,nodev ${shq(p)}`);
  if (plan.exposed.length > 0) lines.push(`rm -rf ${shq(stage)}`);
  lines.push(`mkdir -m 700 ${shq(work)}`, `cat <&4 > ${shq(`${work}/${file}`)}`);
  if (uid !== null) lines.push(`chown -R ${uid}:${uid} ${shq(work)}`);
  lines.push(`cd ${shq(work)}`, `echo ${READY_LINE} >&2`, `exec ${argv.map(shq).join(' ')} </dev/null 4<&-`);
  return lines.join('\n');
}

/** File descriptor the setup script reads the program's source from. */
export const SOURCE_FD = 4;
/** File descriptor the program's epilogue reads the completion marker from. */
export const MARKER_FD = 3;

/** The script for a run without a mount namespace: the host made `work`; only the source is written. */
export function plainScript(work: string, file: string, argv: readonly string[]): string {
  return [
    'set -eu',
    `cd ${shq(work)}`,
    `cat <&4 > ${shq(file)}`,
    `echo ${READY_LINE} >&2`,
    `exec ${argv.map(shq).join(' ')} </dev/null 4<&-`,
  ].join('\n');
}

/** How this machine sandboxes a run (the parts of the capabilities the command line depends on). */
export interface Isolation extends Pick<
  SandboxCapabilities,
  'root' | 'networkIsolated' | 'mountIsolated' | 'userNamespace' | 'uidDrop' | 'prlimit'
> {
  plan: MountPlan;
}

type Limits = Pick<SandboxLimits, 'memoryMb' | 'maxProcs' | 'timeoutMs' | 'scratchMb' | 'maxOpenFiles' | 'maxFiles'>;

/** The program's own command, wrapped in its limits and (as root) its uid. */
function limitedCommand(
  inner: readonly string[],
  iso: Isolation,
  l: Limits,
  uid: number | null,
  procsOutside: number,
): string[] {
  // without a uid of its own, RLIMIT_NPROC counts all of this user's processes: allow for them
  const nproc = uid !== null ? l.maxProcs : procsOutside + l.maxProcs;
  const cpu = Math.ceil(l.timeoutMs / 1000) + 1;
  let cmd = [...inner];
  const dropCaps = iso.mountIsolated ? ['--inh-caps=-all', '--bounding-set=-all'] : [];
  if (uid !== null)
    cmd = [
      'setpriv',
      `--reuid=${uid}`,
      `--regid=${uid}`,
      '--clear-groups',
      '--no-new-privs',
      ...dropCaps,
      '--',
      ...cmd,
    ];
  else if (iso.mountIsolated) cmd = ['setpriv', '--no-new-privs', ...dropCaps, '--', ...cmd];
  const fsize = l.scratchMb * 1024 * 1024;
  if (iso.prlimit)
    return [
      'prlimit',
      `--as=${l.memoryMb * 1024 * 1024}`,
      `--nproc=${nproc}`,
      `--cpu=${cpu}`,
      `--fsize=${fsize}`,
      `--nofile=${l.maxOpenFiles}`,
      '--core=0',
      '--',
      ...cmd,
    ];
  const ulimits = `ulimit -v ${l.memoryMb * 1024} && ulimit -u ${nproc} && ulimit -t ${cpu} && ulimit -f ${fsize / 512} && ulimit -n ${l.maxOpenFiles} && ulimit -c 0`;
  return ['sh', '-c', `${ulimits} && exec "$@"`, 'sh', ...cmd];
}

/**
 * argv that sets up the sandbox and runs `inner` (the interpreter on `file`, read from stdin into
 * `work`). Isolated: `work` is created in the private /tmp; otherwise it is a host folder the caller made.
 */
export function sandboxArgv(
  inner: readonly string[],
  iso: Isolation,
  limits: Limits,
  uid: number | null,
  work: string,
  file: string,
  procsOutside: number,
): string[] {
  const cmd = limitedCommand(inner, iso, limits, uid, procsOutside);
  if (iso.mountIsolated) {
    const plan = { ...iso.plan, scratchBytes: limits.scratchMb * 1024 * 1024, scratchInodes: limits.maxFiles };
    const ns = ['--mount', '--net', '--pid', '--ipc', '--uts', '--fork', '--mount-proc'];
    return [
      'unshare',
      ...(iso.userNamespace ? ['--user', '--map-root-user'] : []),
      ...ns,
      '--',
      'sh',
      '-c',
      isolatedScript(plan, work, file, uid, cmd),
    ];
  }
  const script = plainScript(work, file, cmd);
  if (iso.networkIsolated)
    return ['unshare', ...(iso.root ? [] : ['--map-root-user']), '--net', '--pid', '--fork', '--', 'sh', '-c', script];
  return ['sh', '-c', script];
}

/**
 * Calls `f` with read-only descriptors of files holding each of `contents` (in order), then closes
 * them. The files are in a fresh 0700 folder that is removed before `f` returns: a spawned child keeps
 * its inherited descriptors, and nothing is left on the host however the run ends.
 */
export function withFiles<T>(contents: readonly string[], f: (fds: number[]) => T): T {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-eval-io-'));
  const fds: number[] = [];
  try {
    contents.forEach((c, i) => {
      const file = path.join(dir, String(i));
      writeFileSync(file, c, { mode: 0o600 });
      fds.push(openSync(file, 'r'));
    });
    rmSync(dir, { recursive: true, force: true });
    return f(fds);
  } finally {
    for (const fd of fds) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** withFiles for one source text. */
export function withSourceFd<T>(source: string, f: (fd: number) => T): T {
  return withFiles([source], ([fd]) => f(fd));
}
