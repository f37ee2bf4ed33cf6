#!/usr/bin/env bash
# Anycast BGP simulation benchmark: builds with the repo's TypeScript, then runs the compiled
# benchmark with the garbage collector exposed. Prints a Markdown section for bench/RESULTS.md.
# Usage: bench/anycast.sh [--ases 75000] [--seed 20240601] [--runs 5]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! npx tsc -p tsconfig.build.json; then
  # A type error elsewhere in the project must not block this benchmark: build only its own
  # import graph (same compiler options) into the same place.
  echo "anycast.sh: project build failed; building bench/anycast.bench.ts and its imports only" >&2
  npx tsc --outDir dist --rootDir . --module commonjs --target ES2022 --strict --skipLibCheck \
    --esModuleInterop --resolveJsonModule --sourceMap --types node bench/anycast.bench.ts
fi
exec node --expose-gc dist/bench/anycast.bench.js "$@"
