#!/usr/bin/env bash
# Builds the browser lab into www/pkg (wasm-pack, release, --target web).
# www/ is then a static site: python3 -m http.server -d www
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_web
# (.cargo/config.toml turns on simd128 for wasm32)
# (--profile web: see Cargo.toml; it keeps the package within its budget)
# (no TypeScript declarations: the page is plain JavaScript and never loads them)
wasm-pack build --profile web --target web --out-dir www/pkg --no-pack --no-typescript >&2
rm -f www/pkg/.gitignore www/pkg/*.d.ts
# the glue's JSDoc blocks are copies of src/wasm.rs's doc comments, which
# the page never reads: leaving them out keeps 2.3 KB (gzipped) of the
# package's 300 KB budget for code (see BENCHMARKS.md, "Package size")
perl -0pi -e 's{^[ \t]*/\*\*.*?\*/[ \t]*\n}{}gms' www/pkg/gossip.js
size=$(gzip -9c www/pkg/gossip_bg.wasm | wc -c)
js=$(cat www/pkg/gossip.js | gzip -9 | wc -c)
echo "build-web: www/pkg gzipped: wasm $((size / 1024)) KB + js $((js / 1024)) KB" >&2
