#!/usr/bin/env bash
# Reproducible builds: the native addon and the WebAssembly module built from fresh clones of
# this commit in two different folders must be byte-identical (users' CI pipelines rebuild and
# compare). Usage:
#   bash scripts/check-reproducible.sh            two fresh clones in /tmp, built and compared
#   bash scripts/check-reproducible.sh --this     this tree's build against one fresh clone
#                                                 (CI: the tree is itself a fresh clone; one extra build)
# The build honours SD_CUDA as setup does (CI sets SD_CUDA=ON so nvcc's output is checked too).
# Exits non-zero, naming the files, when they differ.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$root/tools/bootstrap/node_modules/.bin:$PATH" TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
artifacts=(native/build/Release/sd_native.node native/dist/sd_kernels.wasm)
work="$(mktemp -d /tmp/sd-repro-XXXXXX)"
trap 'rm -rf "$work"' EXIT
t0=$(date +%s)
say() { echo "[repro $(($(date +%s) - t0)) s] $*"; }

# A clone (of the committed HEAD) with its dependencies from the local store, then the addon and
# WASM builds only: the TypeScript outputs are not what this checks.
build_clone() {
  local dir="$1"
  git clone -q --no-hardlinks "$root" "$dir"
  git -C "$dir" checkout -q "$(git -C "$root" rev-parse HEAD)"
  say "$dir: dependencies (offline, from the pnpm store)"
  (cd "$dir" && pnpm install --frozen-lockfile --offline --silent --filter @seed-diffusion/native... >/dev/null)
  say "$dir: native addon (SD_CUDA=${SD_CUDA:-AUTO}) and WASM module"
  (cd "$dir/native" && pnpm run build:addon >"$dir.addon.log" 2>&1 && pnpm run build:wasm >"$dir.wasm.log" 2>&1) ||
    {
      tail -30 "$dir.addon.log" "$dir.wasm.log" 2>/dev/null
      exit 1
    }
}

if [ "${1:-}" = "--this" ]; then
  a="$root"
  if [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
    echo "[repro] --this needs a clean tree (uncommitted changes would make the builds differ)" >&2
    exit 2
  fi
else
  a="$work/a/seed-diffusion"
  mkdir -p "$work/a" && build_clone "$a"
fi
b="$work/second-folder-with-a-longer-name/seed-diffusion"
mkdir -p "$(dirname "$b")" && build_clone "$b"

fail=0
for f in "${artifacts[@]}"; do
  if [ ! -f "$a/$f" ] || [ ! -f "$b/$f" ]; then
    echo "[repro] $f: missing in one of the builds" >&2
    fail=1
    continue
  fi
  ha=$(sha256sum "$a/$f" | cut -d' ' -f1)
  hb=$(sha256sum "$b/$f" | cut -d' ' -f1)
  if [ "$ha" = "$hb" ]; then
    say "$f: identical ($(stat -c %s "$a/$f") bytes, sha256 $ha)"
  else
    n=$(cmp -l "$a/$f" "$b/$f" 2>/dev/null | wc -l || true)
    echo "[repro] $f DIFFERS: $ha vs $hb ($n bytes differ); strings unique to each build:" >&2
    diff <(strings -n 8 "$a/$f" | sort -u) <(strings -n 8 "$b/$f" | sort -u) | head -20 >&2 || true
    fail=1
  fi
done
[ $fail = 0 ] && say "reproducible: ${#artifacts[@]} artifacts byte-identical across two folders"
exit $fail
