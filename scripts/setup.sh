#!/usr/bin/env bash
# Sets up a fresh clone: Debian toolchain for the native + WASM builds (when missing and root),
# the pinned pnpm (tools/bootstrap, from the npm registry), the workspace's dependencies from
# the lockfile, and the build of every package (addon, WASM module, TypeScript).
# Each phase is named with the elapsed time; while one runs silently, a line names it again at
# least every 25 s, and the native build shows its own [n/N] steps (full log: build-setup.log).
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

t0=$(date +%s)
state="$(mktemp -d)"
elapsed() {
  local s=$(($(date +%s) - t0))
  printf '%d:%02d' $((s / 60)) $((s % 60))
}
say() {
  echo "[setup $(elapsed)] $*"
  touch "$state/last"
}
phase() {
  echo "$*" >"$state/phase"
  say "$*"
}
# the heartbeat: names the running phase when nothing was printed for 25 s
(
  while sleep 5; do
    [ -f "$state/last" ] || continue
    if [ $(($(date +%s) - $(stat -c %Y "$state/last"))) -ge 25 ]; then
      say "... still: $(cat "$state/phase" 2>/dev/null)"
    fi
  done
) &
heartbeat=$!
trap 'kill $heartbeat 2>/dev/null; rm -rf "$state"' EXIT

apt_pkgs=(cmake ninja-build g++ clang lld clang-format wasi-libc libc++-14-dev-wasm32 libc++abi-14-dev-wasm32
  libclang-rt-14-dev-wasm32)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    phase "Debian packages: apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "missing Debian packages (run as root or install them): ${missing[*]}" >&2
    exit 1
  fi
fi

phase "pinned pnpm from tools/bootstrap (npm ci)"
npm ci --prefix tools/bootstrap --no-audit --no-fund --loglevel=error
export PATH="$PWD/tools/bootstrap/node_modules/.bin:$PATH"
say "pnpm $(pnpm --version)"

phase "workspace dependencies (pnpm install --frozen-lockfile)"
pnpm install --frozen-lockfile

# CUDA: compiled where a GPU driver answers (SD_CUDA=AUTO), or with SD_CUDA=ON (CI).
if [ "${SD_CUDA:-AUTO}" = OFF ]; then
  cuda="CUDA off (SD_CUDA=OFF)"
elif ! command -v nvcc >/dev/null && [ ! -x /usr/local/cuda/bin/nvcc ]; then
  cuda="CUDA off (no nvcc)"
elif [ "${SD_CUDA:-AUTO}" = ON ]; then
  cuda="CUDA on (SD_CUDA=ON: sm_80/sm_90 kernels, about 2.5 min more on 2 cores)"
elif nvidia-smi -L 2>/dev/null | grep -q GPU || ls /proc/driver/nvidia/gpus/* >/dev/null 2>&1; then
  cuda="CUDA on (a GPU driver answers: about 2.5 min more on 2 cores)"
else
  cuda="CUDA off (nvcc found but no GPU driver answers; SD_CUDA=ON compiles it anyway)"
fi
phase "build: native addon ($cuda), WASM module, TypeScript packages"
log="build-setup.log"
set +e
# new-only: cached tasks print nothing; the native build's steps and results are shown, the rest
# goes to the log (printed in full when the build fails)
pnpm exec turbo run build --output-logs=new-only 2>&1 | tee "$log" |
  grep --line-buffered -E 'cache miss|\[[0-9]+/[0-9]+\]|sd_native: CUDA|wrote dist|Tasks:|Cached:|ERR|rror' |
  while IFS= read -r line; do say "$line"; done
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" != 0 ]; then
  tail -60 "$log"
  say "build FAILED (full log: $log)"
  exit "$rc"
fi
say "set up in $(elapsed)"
