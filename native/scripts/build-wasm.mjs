// Builds dist/sd_kernels.wasm from the same C++ sources as the addon, with Debian's clang
// (--target=wasm32-wasi, SIMD128) and wasm-ld through CMake. No emscripten, no wasm-pack.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const build = path.join(root, 'build-wasm');
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit', cwd: root });

for (const tool of ['clang', 'wasm-ld']) {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
  } catch {
    console.error(
      `[build-wasm] ${tool} not found. Install Debian's toolchain: apt-get install -y clang lld ` +
        'wasi-libc libc++-14-dev-wasm32 libc++abi-14-dev-wasm32 libclang-rt-14-dev-wasm32',
    );
    process.exit(1);
  }
}
run('cmake', [
  '-S',
  'wasm',
  '-B',
  build,
  '-G',
  'Ninja',
  '-DCMAKE_BUILD_TYPE=Release',
  `-DCMAKE_TOOLCHAIN_FILE=${path.join(root, 'cmake', 'wasm32-wasi-clang.cmake')}`,
]);
run('cmake', ['--build', build]);
mkdirSync(path.join(root, 'dist'), { recursive: true });
copyFileSync(path.join(build, 'sd_kernels.wasm'), path.join(root, 'dist', 'sd_kernels.wasm'));
console.log('[build-wasm] wrote dist/sd_kernels.wasm');
