#!/bin/sh
# Rebuilds built/*.wasm from src/*.ts with AssemblyScript 0.28.20 and
# @assemblyscript/wasi-shim 0.1.0 (npm), in the four configurations the
# cases run. The built modules are committed, so the suite needs no
# AssemblyScript toolchain; run this after changing a source:
#   npm install --no-save assemblyscript@0.28.20 @assemblyscript/wasi-shim@0.1.0
#   sh build.sh
set -e
cd "$(dirname "$0")"
config="--config ./node_modules/@assemblyscript/wasi-shim/asconfig.json"
for src in src/*.ts; do
  name=$(basename "$src" .ts)
  npx asc "$src" $config -o "built/$name.wasm"                           # incremental GC (the default), unoptimised
  [ "$name" = fdwrite_empty ] && continue
  npx asc "$src" $config -O3 -o "built/$name.O3.wasm"                    # optimised: heap base folded into constants
  npx asc "$src" $config -O3 --runtime minimal -o "built/$name.O3m.wasm" # TLSF without the incremental GC
  npx asc "$src" $config -O3 --runtime stub -o "built/$name.O3s.wasm"    # bump allocator
done
