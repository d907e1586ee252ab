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
# binaryen's wasm-opt (npm's, pinned: scripts/setup.sh) on the bound module.
# The features are those rustc's wasm32 target enables (.cargo/config.toml
# adds simd128; the module uses simd, bulk memory, sign-ext and non-trapping
# float-to-int today): wasm-opt refuses a module that uses a feature not
# listed, so a new one fails here, loudly. About 20 s (node runs binaryen's
# own wasm build). -Oz without three of its passes, whose output is
# smaller raw but larger gzipped, which is what the page downloads and the
# budget counts: inlining-optimizing (+30 KB gzipped on its own),
# local-cse and merge-similar-functions (+1.5 to 2 KB each); see BENCHMARKS.md,
# "Issue 21/22: binaryen's wasm-opt on the page's package".
"$WASM_OPT" --enable-simd --enable-bulk-memory --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types \
  --enable-nontrapping-float-to-int --enable-multivalue \
  --strip-debug --strip-producers \
  -Oz --skip-pass=inlining-optimizing --skip-pass=local-cse \
  --skip-pass=merge-similar-functions \
  www/pkg/gossip_bg.wasm -o target/gossip_bg.opt.wasm
mv target/gossip_bg.opt.wasm www/pkg/gossip_bg.wasm
# the glue's JSDoc blocks are copies of src/wasm.rs's doc comments, which
# the page never reads: leaving them out keeps 2.3 KB (gzipped) of the
# package's 300 KB budget for code (see BENCHMARKS.md, "Package size")
perl -0pi -e 's{^[ \t]*/\*\*.*?\*/[ \t]*\n}{}gms' www/pkg/gossip.js
size=$(gzip -9c www/pkg/gossip_bg.wasm | wc -c)
js=$(cat www/pkg/gossip.js | gzip -9 | wc -c)
echo "build-web: www/pkg gzipped: wasm $((size / 1024)) KB + js $((js / 1024)) KB" >&2
