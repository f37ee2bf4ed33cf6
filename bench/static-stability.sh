#!/usr/bin/env bash
# Static stability, 60-second version: runs test/static-stability.e2e-spec.ts unchanged with
# STATIC_STABILITY_SECONDS (default 60) against the embedded database and, when DATABASE_URL is
# set or a PostgreSQL answers on 127.0.0.1:5432, against PostgreSQL (a throwaway database made and
# dropped with psql; PGUSER, default postgres). The test asserts its counts but does not print
# them, so a Jest setup file (written to a temporary directory) records every numeric or boolean
# value passed to expect() with its source line; the figures are printed as Markdown for bench/RESULTS.md.
# Jest's configured 60 s test timeout is too short for a 60 s outage: --testTimeout is raised.
# Usage: [STATIC_STABILITY_SECONDS=60] [DATABASE_URL=postgres://...] bench/static-stability.sh
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_OUTAGE="${STATIC_STABILITY_SECONDS:-60}"
SPEC=test/static-stability.e2e-spec.ts
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

cat > "$TMP/record-expect.js" <<'JS'
// Wraps the global expect: numeric and boolean actual values are appended to $SS_RECORD with the spec line.
const fs = require('node:fs');
const out = process.env.SS_RECORD;
const original = global.expect;
function specLine() {
  for (const l of (new Error().stack || '').split('\n')) {
    const m = /static-stability\.e2e-spec\.ts:(\d+):\d+/.exec(l);
    if (m) return Number(m[1]);
  }
  return 0;
}
global.expect = new Proxy(original, {
  apply(target, thisArg, args) {
    const matchers = Reflect.apply(target, thisArg, args);
    const actual = args[0];
    if (typeof actual !== 'number' && typeof actual !== 'boolean') return matchers;
    const line = specLine();
    const test = original.getState().currentTestName;
    return new Proxy(matchers, {
      get(m, prop) {
        const v = m[prop];
        if (typeof v !== 'function') return v;
        return (...margs) => {
          fs.appendFileSync(out, JSON.stringify({ test, line, matcher: String(prop), actual, expected: margs[0] }) + '\n');
          return v.apply(m, margs);
        };
      },
    });
  },
});
JS

run() { # $1 = label; the environment carries DATABASE_URL or not
  local label="$1" record="$TMP/$1.jsonl" json="$TMP/$1.json"
  : > "$record"
  echo "static-stability.sh: $label, STATIC_STABILITY_SECONDS=$SECONDS_OUTAGE" >&2
  local t0=$SECONDS
  SS_RECORD="$record" STATIC_STABILITY_SECONDS="$SECONDS_OUTAGE" npx jest --runInBand --testTimeout $(( (SECONDS_OUTAGE + 90) * 1000 )) \
    --setupFilesAfterEnv "$TMP/record-expect.js" --json --outputFile "$json" "$SPEC" >"$TMP/$label.log" 2>&1
  local rc=$?
  node - "$label" "$record" "$json" "$SPEC" "$rc" "$(( SECONDS - t0 ))" <<'JS'
const fs = require('node:fs');
const [label, recordFile, jsonFile, spec, rc, wall] = process.argv.slice(2);
const src = fs.readFileSync(spec, 'utf8').split('\n');
const rows = fs.readFileSync(recordFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
let results = [];
try { results = JSON.parse(fs.readFileSync(jsonFile, 'utf8')).testResults[0].assertionResults; } catch {}
console.log(`\n#### ${label}\n`);
console.log(`Jest exit ${rc}, ${wall} s wall clock; ${results.map((r) => `"${r.title}": **${r.status}** (${(r.duration / 1000).toFixed(1)} s)`).join('; ')}\n`);
console.log('| assertion (spec line) | calls | actual | expected |');
console.log('|---|---|---|---|');
const groups = new Map();
for (const r of rows) {
  const key = `${r.line}|${r.matcher}|${JSON.stringify(r.expected)}`;
  const g = groups.get(key) ?? { ...r, calls: 0, values: [] };
  g.calls++;
  g.values.push(r.actual);
  groups.set(key, g);
}
for (const g of groups.values()) {
  const text = (src[g.line - 1] ?? '').trim().replace(/\|/g, '\\|');
  const numeric = g.values.every((v) => typeof v === 'number');
  const lo = Math.min(...g.values), hi = Math.max(...g.values);
  const actual = !numeric ? [...new Set(g.values.map(String))].join(', ') : lo === hi ? String(lo) : `${lo}-${hi}`;
  console.log(`| \`${text}\` (${g.line}) | ${g.calls} | ${actual} | ${g.matcher} ${JSON.stringify(g.expected)} |`);
}
for (const r of results) if (r.status !== 'passed') console.log(`\nFailure in "${r.title}":\n\n\`\`\`\n${(r.failureMessages || []).join('\n').slice(0, 3000)}\n\`\`\``);
JS
  return $rc
}

status=0
echo "### Static stability, ${SECONDS_OUTAGE} s outage ($(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%d), $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo
echo '```sh'
echo "bench/static-stability.sh   # = STATIC_STABILITY_SECONDS=$SECONDS_OUTAGE npx jest --runInBand --testTimeout $(( (SECONDS_OUTAGE + 90) * 1000 )) $SPEC, embedded then PostgreSQL"
echo '```'
( unset DATABASE_URL; run "embedded database (PGlite)" ) || status=1

if [ -n "${DATABASE_URL:-}" ]; then
  run "PostgreSQL (DATABASE_URL)" || status=1
elif command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
  PGUSER="${PGUSER:-postgres}"
  DB="georoute_ss_$(date +%s)_$$"
  if psql -h 127.0.0.1 -p 5432 -U "$PGUSER" -d postgres -qc "CREATE DATABASE $DB" >/dev/null; then
    version="$(psql -h 127.0.0.1 -p 5432 -U "$PGUSER" -d "$DB" -Atc 'SHOW server_version')"
    DATABASE_URL="postgres://$PGUSER@127.0.0.1:5432/$DB" run "PostgreSQL $version (127.0.0.1:5432, throwaway database $DB)" || status=1
    psql -h 127.0.0.1 -p 5432 -U "$PGUSER" -d postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null || echo "static-stability.sh: could not drop $DB" >&2
  else
    echo "static-stability.sh: cannot create a database on 127.0.0.1:5432 as $PGUSER; PostgreSQL run skipped" >&2
  fi
else
  echo
  echo "(No DATABASE_URL and no PostgreSQL on 127.0.0.1:5432: PostgreSQL run skipped.)"
fi
exit $status
