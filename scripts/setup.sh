#!/usr/bin/env bash
# Sets up a fresh clone: Debian toolchain for the native + WASM builds (when missing and root),
# the pinned pnpm (tools/bootstrap, from the npm registry), the workspace's dependencies from
# the lockfile, and the build of every package (addon, WASM module, TypeScript).
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

apt_pkgs=(cmake ninja-build g++ clang lld clang-format wasi-libc libc++-14-dev-wasm32 libc++abi-14-dev-wasm32
  libclang-rt-14-dev-wasm32)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "[setup] apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "[setup] missing Debian packages (run as root or install them): ${missing[*]}" >&2
    exit 1
  fi
fi

echo "[setup] pinned pnpm from tools/bootstrap"
npm ci --prefix tools/bootstrap --no-audit --no-fund --loglevel=error
export PATH="$PWD/tools/bootstrap/node_modules/.bin:$PATH"
pnpm --version

echo "[setup] workspace dependencies (frozen lockfile)"
pnpm install --frozen-lockfile

echo "[setup] build: native addon, WASM module, packages"
pnpm exec turbo run build --output-logs=errors-only
