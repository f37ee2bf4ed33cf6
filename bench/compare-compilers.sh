#!/usr/bin/env bash
# Does the build compiler (TypeScript 7, the `typescript-7` package) emit the same JavaScript as
# the TypeScript 6 compiler (`typescript`, whose compiler API ESLint uses)? Compiles tsconfig.json
# (src, test, migrations, bench) with each into bench/out/compilers/, times both, and compares
# every emitted .js file token by token (bench/lib/same-tokens.cjs: whitespace and line breaks
# ignored, every token's text compared exactly). Exits 1 when a file differs.
# Usage: bench/compare-compilers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out/compilers
rm -rf "$OUT"
mkdir -p "$OUT"

compile() {
  local name=$1 tsc=$2 t0 t1
  t0=$(date +%s.%N)
  node "$tsc" -p tsconfig.json --outDir "$OUT/$name" --incremental false --tsBuildInfoFile null >"$OUT/$name.log" 2>&1 || {
    cat "$OUT/$name.log" >&2
    echo "compare-compilers: $name reported errors (see above)" >&2
    exit 1
  }
  t1=$(date +%s.%N)
  printf '%s %s: %.2f s\n' "$name" "$(node "$tsc" --version)" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')"
}

compile ts6 node_modules/typescript/bin/tsc
compile ts7 node_modules/typescript-7/bin/tsc
node bench/lib/same-tokens.cjs "$OUT/ts6" "$OUT/ts7"
