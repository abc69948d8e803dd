// Sums every workspace package's Jest JSON report (.jest-results.json) and prints, in order:
// each package's counts, the failures (test name and the first lines of the message), the
// skipped tests grouped by their reason (a skipped test names it in its title as
// "[skipped: reason]"), and one closing line "tests: N passed, N failed, N skipped".
// Exits non-zero on a failure, a missing report, or zero tests.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The workspace folders that hold a Jest suite. */
export function testDirs() {
  return [
    'native',
    ...readdirSync(path.join(root, 'packages'))
      .map((d) => `packages/${d}`)
      .filter((d) => existsSync(path.join(root, d, 'package.json'))),
  ];
}

/** The reason a skipped test's title gives ("... [skipped: reason]"). */
export function skipReason(title) {
  const m = /\[skipped: (.*)\]\s*$/.exec(title);
  return m ? m[1] : 'no reason given in the test title';
}

function main() {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const missing = [];
  const failures = [];
  const reasons = new Map();
  for (const d of testDirs()) {
    const f = path.join(root, d, '.jest-results.json');
    if (!existsSync(f)) {
      if (!process.argv.includes('--present-only')) missing.push(d);
      continue;
    }
    const r = JSON.parse(readFileSync(f, 'utf8'));
    const pending = r.numPendingTests + r.numTodoTests;
    passed += r.numPassedTests;
    failed += r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
    skipped += pending;
    console.log(`${d}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${pending} skipped`);
    for (const file of r.testResults ?? []) {
      const rel = path.relative(root, file.name);
      if (file.status === 'failed' && !(file.assertionResults ?? []).some((a) => a.status === 'failed')) {
        failures.push(`${rel}: the suite did not run\n${file.message}`);
      }
      for (const a of file.assertionResults ?? []) {
        if (a.status === 'failed') failures.push(`${rel}: ${a.fullName}\n${(a.failureMessages ?? []).join('\n')}`);
        if (a.status === 'pending' || a.status === 'todo') {
          const why = skipReason(a.title);
          reasons.set(why, [...(reasons.get(why) ?? []), `${rel}: ${a.fullName.replace(/\s*\[skipped: .*\]$/, '')}`]);
        }
      }
    }
  }
  if (failures.length) {
    console.log(`\nfailures (${failures.length}):`);
    for (const f of failures) {
      // Jest may colour its messages; the summary is plain text
      // eslint-disable-next-line no-control-regex
      const lines = f.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
      console.log(`  ✗ ${lines[0]}`);
      // the message and the first frames are enough to start; the full log is in the turbo output above
      const own = lines.slice(1).filter((l) => l.trim() && !/node_modules\/|\(<anonymous>\)|node:internal/.test(l));
      for (const l of own.slice(0, 20)) console.log(`      ${l}`);
    }
  }
  if (reasons.size) {
    console.log(`\nskipped (${skipped}), by reason:`);
    for (const [why, tests] of reasons) {
      console.log(`  - ${why} (${tests.length}):`);
      for (const t of tests) console.log(`      ${t}`);
    }
  }
  if (missing.length) console.log(`\nno Jest report for: ${missing.join(', ')} (the suite did not run; see above)`);
  console.log(`tests: ${passed} passed, ${failed + missing.length} failed, ${skipped} skipped`);
  process.exit(failed || missing.length || passed === 0 ? 1 : 0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
