// Install step of @seed-diffusion/native, the node-llama-cpp way: use the prebuilt addon of the
// platform package (@seed-diffusion/native-<os>-<arch>, an optional dependency the package
// manager installs only where its os/cpu/libc fit); else build from source with cmake-js where a
// compiler and cmake exist; else leave it: the WebAssembly module in dist/ is the last resort.
// It never fails the install; `seed-diffusion info` says which one runs and why.
// SD_NATIVE_BUILD=always builds from source even with a prebuilt; =never never builds.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(path.join(root, 'package.json'));
const say = (m) => console.log(`[@seed-diffusion/native] ${m}`);

// In the repository's workspace the build is turbo's (scripts/setup.sh); nothing to do here.
if (existsSync(path.join(root, '..', 'pnpm-workspace.yaml'))) process.exit(0);

const loads = (file) =>
  existsSync(file) &&
  spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)}).build_info()`], { stdio: 'ignore' }).status ===
    0;

const mode = process.env.SD_NATIVE_BUILD ?? 'auto';
const local = path.join(root, 'build', 'Release', 'sd_native.node');
if (mode !== 'always' && loads(local)) {
  say(`using the addon built from source at ${local}`);
  process.exit(0);
}
const platformPkg = `@seed-diffusion/native-${process.platform}-${process.arch}`;
if (mode !== 'always') {
  try {
    const { addonPath } = require(platformPkg);
    if (loads(addonPath)) {
      say(`using the prebuilt addon of ${platformPkg}`);
      process.exit(0);
    }
    say(`${platformPkg} is installed but its addon does not load here; trying a build from source`);
  } catch {
    say(`no prebuilt addon for ${process.platform}-${process.arch} (${platformPkg} not installed)`);
  }
}
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const tools = ['cmake', 'c++'].filter((t) => !has(t));
if (mode === 'never' || tools.length) {
  say(
    (mode === 'never'
      ? 'SD_NATIVE_BUILD=never: no build from source'
      : `no ${tools.join(' or ')} here: no build from source`) +
      '; the WebAssembly module will be used (slower; `seed-diffusion info` shows the choice)',
  );
  process.exit(0);
}
say('building the addon from source with cmake-js (a few minutes; SD_CUDA=ON|OFF chooses CUDA)');
try {
  execFileSync(process.execPath, [require.resolve('cmake-js/bin/cmake-js'), 'build', '--out', 'build'], {
    cwd: root,
    stdio: 'inherit',
  });
  say('built from source');
} catch (e) {
  say(`the build from source failed (${e.message.split('\n')[0]}); the WebAssembly module will be used`);
}
