// Sums every workspace package's Jest JSON report (.jest-results.json) and prints one plain
// closing line "tests: N passed, N failed, N skipped" (turbo prefixes Jest's own summary lines,
// so they never stand alone). Exits non-zero on a failure, a missing report, or zero tests.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dirs = [
  'native',
  ...readdirSync(path.join(root, 'packages'))
    .map((d) => `packages/${d}`)
    .filter((d) => existsSync(path.join(root, d, 'package.json'))),
];
let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const d of dirs) {
  const f = path.join(root, d, '.jest-results.json');
  if (!existsSync(f)) {
    missing.push(d);
    continue;
  }
  const r = JSON.parse(readFileSync(f, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
  skipped += r.numPendingTests + r.numTodoTests;
  console.log(`${d}: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
}
if (missing.length) console.log(`no Jest report for: ${missing.join(', ')}`);
console.log(`tests: ${passed} passed, ${failed + missing.length} failed, ${skipped} skipped`);
process.exit(failed || missing.length || passed === 0 ? 1 : 0);
