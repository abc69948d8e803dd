// The README's test command: every package's Jest suite through turbo, then one summary line.
// Old reports are removed first so a package that fails to run cannot count a stale pass.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
for (const d of ['native', ...readdirSync(path.join(root, 'packages')).map((p) => `packages/${p}`)]) {
  const f = path.join(root, d, '.jest-results.json');
  if (existsSync(f)) rmSync(f);
}
const turbo = spawnSync('turbo', ['run', 'test', '--continue', '--concurrency=2', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', ...process.env },
});
const summary = spawnSync(process.execPath, [path.join(root, 'scripts', 'test-summary.mjs')], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(turbo.status || summary.status ? 1 : 0);
