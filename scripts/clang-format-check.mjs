// Checks (or with --fix, applies) clang-format on the C/C++/CUDA sources of native/.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const files = [];
(function walk(dir) {
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(c|cc|cpp|h|hpp|cu|cuh)$/.test(e)) files.push(p);
  }
})(path.join(root, 'native', 'src'));
files.push(path.join(root, 'native', 'include', 'sd_ops.h'));
files.push(path.join(root, 'native', 'include', 'sd_key_span.h'));
const fix = process.argv.includes('--fix');
const r = spawnSync('clang-format', fix ? ['-i', ...files] : ['--dry-run', '--Werror', ...files], { stdio: 'inherit' });
if (r.error) {
  console.error(`clang-format not found (apt-get install -y clang-format): ${r.error.message}`);
  process.exit(1);
}
if (r.status === 0) console.log(`clang-format: ${files.length} files ${fix ? 'formatted' : 'clean'}`);
process.exit(r.status ?? 1);
