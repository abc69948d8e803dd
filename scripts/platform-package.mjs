// Fills a platform package (platforms/native-<os>-<arch>) with the addon built in native/: run
// by the package's prepack, so `pnpm pack` / `pnpm publish` there ships the current build.
// It refuses when the addon is missing or fails to load, and records what was packed
// (build-info.json: the addon's build line, CUDA compiled or not, sha256).
// The release build is `SD_CUDA=ON tools/pnpm --filter @seed-diffusion/native build` on Linux x64
// (CUDA compiled in against the static runtime; the addon still loads without a GPU).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = process.cwd();
const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const want = `${pkg.os[0]}-${pkg.cpu[0]}`;
const here = `${process.platform}-${process.arch}`;
if (want !== here) {
  console.error(`[platform-package] ${pkg.name} is for ${want}; this machine is ${here}: build it there`);
  process.exit(1);
}
const built = path.join(root, 'native', 'build', 'Release', 'sd_native.node');
if (!existsSync(built)) {
  console.error(
    `[platform-package] ${built} is missing: build it first (SD_CUDA=ON tools/pnpm --filter @seed-diffusion/native build)`,
  );
  process.exit(1);
}
const probe = execFileSync(
  process.execPath,
  [
    '-e',
    `const a=require(${JSON.stringify(built)});console.log(JSON.stringify({buildInfo:a.build_info(),cuda:a.cuda_info().compiled}))`,
  ],
  { encoding: 'utf8' },
);
const info = JSON.parse(probe);
const bytes = readFileSync(built);
const sha256 = createHash('sha256').update(bytes).digest('hex');
copyFileSync(built, path.join(pkgDir, 'sd_native.node'));
writeFileSync(
  path.join(pkgDir, 'build-info.json'),
  `${JSON.stringify({ ...info, sha256, bytes: bytes.length, napiVersion: 8 }, null, 2)}\n`,
);
console.log(
  `[platform-package] ${pkg.name}: sd_native.node ${bytes.length} bytes, sha256 ${sha256.slice(0, 16)}…, ${info.buildInfo}, CUDA ${info.cuda ? 'compiled in' : 'not compiled'}`,
);
