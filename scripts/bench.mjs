// `pnpm bench <name>` runs bench/<name>.mjs (or every benchmark without a name).
// Benchmarks are separate from tests: they print ratios against an anchor measured in the
// same run and end on one JSON line; results are recorded in BENCHMARKS.md.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'bench');
const all = existsSync(dir)
  ? readdirSync(dir)
      .filter((f) => f.endsWith('.mjs'))
      .map((f) => f.slice(0, -4))
  : [];
const [name, ...rest] = process.argv.slice(2);
if (name && !all.includes(name)) {
  console.error(`unknown benchmark "${name}"; available: ${all.join(', ') || '(none)'}`);
  process.exit(2);
}
let status = 0;
for (const b of name ? [name] : all) {
  console.log(`== bench ${b}`);
  const r = spawnSync(process.execPath, [path.join(dir, `${b}.mjs`), ...rest], { stdio: 'inherit', cwd: root });
  status ||= r.status ?? 1;
}
process.exit(status);
