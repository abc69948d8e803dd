// `pnpm bench <name>` runs bench/<name>.mjs; without a name it lists the benchmarks (each with the
// first sentence of its header comment) instead of running them; `pnpm bench --all` runs them all.
// Benchmarks are separate from tests: they print ratios against an anchor measured in the
// same run and end on one JSON line; results are recorded in BENCHMARKS.md.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'bench');
const all = existsSync(dir)
  ? readdirSync(dir)
      .filter((f) => f.endsWith('.mjs'))
      .map((f) => f.slice(0, -4))
      .sort()
  : [];

/** The first sentence of a benchmark's leading // comment. */
function describe(name) {
  const lines = readFileSync(path.join(dir, `${name}.mjs`), 'utf8').split('\n');
  const text = [];
  for (const l of lines) {
    if (!l.startsWith('//')) break;
    text.push(l.replace(/^\/\/\s?/, '').trim());
  }
  const joined = text.join(' ').replace(/\s+/g, ' ');
  const end = joined.search(/\.(\s|$)/);
  const first = end > 0 ? joined.slice(0, end) : joined;
  return first.length > 110 ? `${first.slice(0, 109)}…` : first;
}

const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--list' || name === '-h' || name === '--help') {
  console.log('usage: tools/pnpm bench <name> [options]   (tools/pnpm bench --all runs every one)\n');
  const w = Math.max(...all.map((b) => b.length));
  for (const b of all) console.log(`  ${b.padEnd(w)}  ${describe(b)}`);
  console.log('\nEach ends on one JSON line; results and the command that made them are in BENCHMARKS.md.');
  process.exit(0);
}
if (name !== '--all' && !all.includes(name)) {
  console.error(`unknown benchmark "${name}"; available: ${all.join(', ') || '(none)'}`);
  process.exit(2);
}
let status = 0;
for (const b of name === '--all' ? all : [name]) {
  console.log(`== bench ${b}`);
  const r = spawnSync(process.execPath, [path.join(dir, `${b}.mjs`), ...rest], { stdio: 'inherit', cwd: root });
  status ||= r.status ?? 1;
}
process.exit(status);
