#!/usr/bin/env bash
# The packages as a user outside the repository gets them (run after scripts/setup.sh):
#  1. `pnpm pack` of every publishable package; each tarball must hold README.md and LICENSE;
#  2. a consumer in a clean folder, with the compilers hidden (PATH holds node, npm and basic
#     tools only: no cc, c++, cmake, make, ninja, nvcc), installs the CLI from the tarballs with npm:
#     the prebuilt platform package is chosen, nothing is compiled, `info` says so, `generate` works
#     with the default model, and deep imports are closed by the exports maps;
#  3. a second consumer without optional dependencies and without the models package: the addon
#     falls back to WebAssembly (`info` says so) and `generate` gives the clear message naming --model.
# npm fetches the third-party dependencies from the registry. Exits non-zero on the first failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$root/tools/bootstrap/node_modules/.bin:$PATH"
work="$(mktemp -d /tmp/sd-consumer-XXXXXX)"
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT
t0=$(date +%s)
say() { echo "[packages $(($(date +%s) - t0)) s] $*"; }
fail() {
  echo "[packages] FAILED: $*" >&2
  exit 1
}

say "pnpm pack of every package into $work/tarballs"
mkdir -p "$work/tarballs"
dirs=(native platforms/native-linux-x64 models/seed-diffusion-tiny packages/tokenizer packages/corruption
  packages/model packages/sampler packages/engine packages/serving packages/eval packages/tasks packages/cli)
for d in "${dirs[@]}"; do
  (cd "$root/$d" && pnpm pack --pack-destination "$work/tarballs" >/dev/null)
done
for t in "$work"/tarballs/*.tgz; do
  list="$(tar -tzf "$t")"
  for f in package/README.md package/LICENSE package/package.json; do
    grep -qx "$f" <<<"$list" || fail "$(basename "$t") has no ${f#package/}"
  done
  say "$(basename "$t"): README.md, LICENSE ($(wc -l <<<"$list") files, $(du -k "$t" | cut -f1) KiB)"
done

# PATH for the consumer: node, npm and the basic tools, no compiler
bin="$work/bin"
mkdir -p "$bin"
for t in node sh bash env cat ls mkdir rm cp mv ln tar gzip uname dirname basename grep sed head tail sort wc tr \
  true false id chmod touch readlink realpath find xargs python3; do
  p="$(command -v "$t" || true)"
  [ -n "$p" ] && ln -sf "$p" "$bin/$t"
done
ln -sf "$(readlink -f "$(command -v npm)")" "$bin/npm"
for c in cc c++ gcc g++ clang clang++ cmake make ninja nvcc; do
  if PATH="$bin" command -v "$c" >/dev/null 2>&1; then fail "$c is visible to the consumer"; fi
done
say "compilers hidden: cc, c++, gcc, g++, clang, cmake, make, ninja, nvcc are not on the consumer's PATH"
cpath="$bin"
tarballs=("$work"/tarballs/*.tgz)

consumer() {
  local dir="$1"
  shift
  mkdir -p "$dir"
  (cd "$dir" && PATH="$cpath" HOME="$work/home" npm init -y >/dev/null &&
    PATH="$cpath" HOME="$work/home" npm install --no-audit --no-fund --loglevel=error --foreground-scripts "$@" 2>&1) |
    tee "$dir.install.log" | grep -E '^\[@seed-diffusion/native\]|ERR' || true
}

say "consumer 1: npm install of the CLI and its packages (tarballs) with the compilers hidden"
consumer "$work/consumer" "${tarballs[@]}"
sd="$work/consumer/node_modules/.bin/seed-diffusion"
[ -x "$sd" ] || fail "the seed-diffusion binary was not installed (log: $work/consumer.install.log)"
[ ! -e "$work/consumer/node_modules/@seed-diffusion/native/build" ] || fail "the addon was built from source"
info="$(cd "$work/consumer" && PATH="$cpath" "$sd" info)"
echo "$info" | sed 's/^/    /'
grep -q 'prebuilt (@seed-diffusion/native-linux-x64)' <<<"$info" || fail "info does not name the prebuilt addon"
out="$(cd "$work/consumer" && PATH="$cpath" "$sd" generate 'def add(a, b):' --max-new-tokens 16 2>"$work/gen.err")" ||
  fail "generate failed: $(cat "$work/gen.err")"
say "generate with the default model: $(printf %q "$out" | head -c 120)"
say "  stats: $(tail -1 "$work/gen.err")"
deep="$(cd "$work/consumer" && PATH="$cpath" node -e "require('@seed-diffusion/model/dist/model')" 2>&1 || true)"
grep -q ERR_PACKAGE_PATH_NOT_EXPORTED <<<"$deep" || fail "a deep import is not closed: $deep"
say "deep imports are closed (require('@seed-diffusion/model/dist/model') -> ERR_PACKAGE_PATH_NOT_EXPORTED)"

say "consumer 2: without optional dependencies (no prebuilt) and without the models package, compilers hidden"
rest=()
for t in "${tarballs[@]}"; do
  case "$(basename "$t")" in seed-diffusion-models-tiny-* | seed-diffusion-native-linux-x64-*) ;; *) rest+=("$t") ;; esac
done
# the CLI declares the models package: npm would fetch it from the registry, so it is removed after
consumer "$work/consumer2" --omit=optional "${rest[@]}" "$work"/tarballs/seed-diffusion-models-tiny-*.tgz
rm -rf "$work/consumer2/node_modules/@seed-diffusion/models-tiny" "$work/consumer2/node_modules/@seed-diffusion/native-linux-x64"
sd2="$work/consumer2/node_modules/.bin/seed-diffusion"
info2="$(cd "$work/consumer2" && PATH="$cpath" "$sd2" info)"
grep -q 'auto: WASM fallback' <<<"$info2" || fail "without the prebuilt and a compiler, info does not say WASM: $info2"
say "no prebuilt, no compiler: $(head -1 <<<"$info2")"
set +e
msg="$(cd "$work/consumer2" && PATH="$cpath" "$sd2" generate 'def f():' 2>&1)"
rc=$?
set -e
[ $rc = 1 ] || fail "generate without a model exited $rc: $msg"
grep -q -- '--model DIR' <<<"$msg" || fail "the message does not name --model: $msg"
say "generate without the models package: $msg"
say "all package checks passed"
