#!/usr/bin/env bash
# Prepares .device/ for the one-call CUDA device check (bench/cuda/README.md):
#   .device/node.xz          this machine's Node, packed by shared/tools/device-node.sh
#   .device/device-check.js  bench/cuda/device-check.ts bundled with esbuild (no node_modules there)
#   .device/sd_native.node   the addon built with CUDA in native/build-cuda (static cudart)
#   .device/lib/libgomp.so.1 the OpenMP runtime the CPU kernels link (in case the image lacks it)
# Build the addon first: cd native && SD_CUDA=ON ./node_modules/.bin/cmake-js build --parallel 1 --out build-cuda
# (SD_CUDA=ON: the default compiles CUDA only where a GPU driver answers, which this machine has not)
set -euo pipefail
top=$(git rev-parse --show-toplevel)
cd "$top"
addon=native/build-cuda/Release/sd_native.node
[[ -f $addon ]] || { echo "prepare: $addon is missing; build it first (see the header of this script)" >&2; exit 1; }
node -e "const a=require('./$addon'); if(!a.cuda_info().compiled||!a.cuda) {console.error('prepare: $addon was built without CUDA'); process.exit(1)}"
bash "${SD_DEVICE_NODE_SH:-../shared/tools/device-node.sh}" >/dev/null
node_modules/.bin/esbuild bench/cuda/device-check.ts --bundle --platform=node --target=node20 \
  --outfile=.device/device-check.js --log-level=warning
cp "$addon" .device/sd_native.node
mkdir -p .device/lib
cp "$(gcc -print-file-name=libgomp.so.1)" .device/lib/libgomp.so.1
python3 -m py_compile bench/cuda/torch_ref.py bench/cuda/torch_step.py
du -sh .device
echo "prepare: ready; run the command in bench/cuda/README.md with carry [\".device\"]"
