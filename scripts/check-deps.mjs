// Declared dependencies equal used ones: for every workspace package, the bare modules its
// shipped sources import (src/ or lib/, tests excluded) must be exactly its "dependencies"
// (plus optional ones it resolves at run time), and what its tests import must be declared
// somewhere (dependencies, devDependencies, or the workspace root's devDependencies).
// Prints each mismatch and exits 1; CI runs it (.ci/run).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rootPkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const builtin = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function files(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) return n === 'node_modules' || n === 'dist' ? [] : files(p);
    return /\.(ts|mts|cts|js|mjs|cjs)$/.test(n) && !n.endsWith('.d.ts') ? [p] : [];
  });
}

/** Bare module names imported or required by a file ("lodash/get" → "lodash"). */
function imports(file) {
  const src = readFileSync(file, 'utf8');
  const out = new Set();
  const re = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;
  for (const m of src.matchAll(re)) {
    const s = m[1];
    if (s.startsWith('.') || s.startsWith('/') || builtin.has(s) || builtin.has(s.split('/')[0])) continue;
    out.add(s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]);
  }
  return out;
}

const pkgDirs = ['native', ...readdirSync(path.join(root, 'packages')).map((d) => `packages/${d}`)].filter((d) =>
  existsSync(path.join(root, d, 'package.json')),
);
// the benchmarks (bench/, the workspace root's) load comparison libraries through the package
// that declares them as devDependencies
const benchUses = new Set(files(path.join(root, 'bench')).flatMap((f) => [...imports(f)]));
let bad = 0;
for (const d of pkgDirs) {
  const pkg = JSON.parse(readFileSync(path.join(root, d, 'package.json'), 'utf8'));
  const deps = new Set(Object.keys(pkg.dependencies ?? {}));
  const optional = new Set(Object.keys(pkg.optionalDependencies ?? {}));
  const dev = new Set(Object.keys(pkg.devDependencies ?? {}));
  const shipped = new Set();
  for (const f of [...files(path.join(root, d, 'src')), ...files(path.join(root, d, 'lib'))])
    for (const m of imports(f)) if (m !== pkg.name) shipped.add(m);
  // tools a package's own scripts run (build, install) count as used
  for (const f of files(path.join(root, d, 'scripts'))) for (const m of imports(f)) shipped.add(m);
  // a dependency named in a string in shipped code is used (the sandbox resolves lodash and
  // js-md5 for the programs it runs); a C++ addon's sources use node-addon-api through napi.h
  for (const f of files(path.join(root, d, 'src'))) {
    const text = readFileSync(f, 'utf8');
    for (const m of [...deps, ...dev]) if (text.includes(`'${m}'`)) shipped.add(m);
  }
  if (existsSync(path.join(root, d, 'src/addon'))) {
    for (const n of readdirSync(path.join(root, d, 'src/addon')))
      if (readFileSync(path.join(root, d, 'src/addon', n), 'utf8').includes('<napi.h>')) shipped.add('node-addon-api');
  }
  const tested = new Set();
  for (const f of files(path.join(root, d, 'test'))) for (const m of imports(f)) tested.add(m);
  const scriptText = Object.values(pkg.scripts ?? {}).join(' ');
  for (const m of shipped) {
    if (!deps.has(m) && !optional.has(m) && !dev.has(m)) {
      console.log(`${d}: imports ${m} but does not declare it`);
      bad++;
    }
  }
  for (const m of deps) {
    if (!shipped.has(m) && !scriptText.includes(m)) {
      console.log(`${d}: declares dependency ${m} but its sources never import it`);
      bad++;
    }
  }
  for (const m of dev) {
    const bin = m.replace(/^@[^/]+\//, '');
    if (
      !tested.has(m) &&
      !shipped.has(m) &&
      !benchUses.has(m) &&
      !scriptText.includes(bin) &&
      !m.startsWith('@types/')
    ) {
      console.log(`${d}: declares devDependency ${m} but nothing imports or runs it`);
      bad++;
    }
  }
  for (const m of tested) {
    if (!deps.has(m) && !dev.has(m) && !optional.has(m) && !(m in (rootPkg.devDependencies ?? {})) && m !== pkg.name) {
      console.log(`${d}: its tests import ${m}, declared nowhere`);
      bad++;
    }
  }
}
console.log(bad ? `check-deps: ${bad} mismatches` : `check-deps: ${pkgDirs.length} packages, declared = used`);
process.exit(bad ? 1 : 0);
