// The README's test command: builds what is stale (quietly; a failing build prints its log),
// runs every package's Jest suite through turbo showing only failing packages' logs, prints a
// line as each package finishes and a heartbeat every 30 s, then the summary (failures,
// skipped tests with their reasons, and "tests: N passed, N failed, N skipped").
// Old reports are removed first so a package that fails to run cannot count a stale pass.
// TEST_LOGS=full shows every package's Jest output as it runs.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';

import { testDirs } from './test-summary.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const t0 = Date.now();
const clock = () => {
  const s = Math.round((Date.now() - t0) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};
const say = (m) => console.log(`[test ${clock()}] ${m}`);
const env = { TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', ...process.env };
const logs = process.env.TEST_LOGS === 'full' ? 'full' : 'errors-only';
// turbo options pass through (`tools/pnpm test -- --filter=@seed-diffusion/x`); pnpm may hand on the `--`
const extra = process.argv.slice(2).filter((a) => a !== '--');

function run(args) {
  return new Promise((resolve) => {
    const local = path.join(root, 'node_modules', '.bin', 'turbo');
    const p = spawn(existsSync(local) ? local : 'turbo', args, { cwd: root, stdio: 'inherit', env });
    p.on('close', (code) => resolve(code ?? 1));
    p.on('error', (e) => {
      console.error(`[test] cannot run turbo: ${e.message} (run scripts/setup.sh first)`);
      resolve(1);
    });
  });
}

const dirs = testDirs();
const report = (d) => path.join(root, d, '.jest-results.json');
for (const d of dirs) if (existsSync(report(d))) rmSync(report(d));

say('build (what changed since the last build; cached otherwise)');
const built = await run(['run', 'build', `--output-logs=${logs}`]);
if (built !== 0) say('the build failed (log above); testing what can run');

say(`jest in ${dirs.length} packages, 2 at a time`);
const done = new Set();
let lastLine = Date.now();
const watch = setInterval(() => {
  for (const d of dirs) {
    if (done.has(d) || !existsSync(report(d))) continue;
    try {
      const r = JSON.parse(readFileSync(report(d), 'utf8'));
      done.add(d);
      const secs = r.testResults?.length ? (Math.max(...r.testResults.map((t) => t.endTime)) - r.startTime) / 1000 : 0;
      say(
        `${d}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped` +
          (secs ? ` (${secs.toFixed(0)} s)` : ''),
      );
      lastLine = Date.now();
    } catch {
      // still being written: read it on the next tick
    }
  }
  if (Date.now() - lastLine >= 30000) {
    say(`still running; waiting for ${dirs.filter((d) => !done.has(d)).join(', ')}`);
    lastLine = Date.now();
  }
}, 1000);
const tested = await run(['run', 'test', '--continue', '--concurrency=2', `--output-logs=${logs}`, ...extra]);
clearInterval(watch);

console.log('');
// a filtered run (-- --filter=...) sums the packages it ran; a full run counts a missing report as a failure
const filtered = extra.some((a) => a.startsWith('--filter'));
const summaryArgs = [path.join(root, 'scripts', 'test-summary.mjs'), ...(filtered ? ['--present-only'] : [])];
const summary = spawn(process.execPath, summaryArgs, { cwd: root, stdio: 'inherit' });
summary.on('close', (code) => process.exit(built || tested || code ? 1 : 0));
