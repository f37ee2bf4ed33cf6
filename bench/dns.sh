#!/usr/bin/env bash
# DNS throughput and latency of georoute with the demo configuration and the bundled DB-IP
# database, under dnsperf, ECS queries spread over 2,048 client /24s on four continents.
#
#   bench/dns.sh [--duration 15] [--runs 3] [--profile] [--no-results]
#
# Steps (progress on stderr; figures appended to bench/RESULTS.md unless --no-results):
#  1. apt-get install dnsperf when missing; compile georoute (tsc, the project's
#     tsconfig.build.json) into bench/out/dns/build; start it with a scratch DATA_DIR under
#     bench/out/dns/, HTTP and DNS on free ports, CONFIG_FILE and GEOIP_DB unset (demo + bundled).
#  2. Pick 512 /24s per continent (NA, EU, AS, SA) that the bundled database places there
#     (bench/lib/pick-subnets.mjs) and ask the explain API (GET /v1/route, admin token) where each
#     is and what app/cdn.example.com answer there: the expected answers.
#  3. dnsperf query files in dnsperf's binary format (-B), one ECS option per query:
#     - spread: 2,048 subnets x {app, cdn}.example.com x {A, AAAA}, shuffled (8,192 queries);
#       dnsperf loops over it, so after the first pass every answer comes from the answer cache;
#     - miss:   700,000 distinct random /24s, app.example.com A: every query is an answer-cache
#       and locator-cache miss (locate + decide + encode);
#     - no-ECS: app/cdn A without EDNS (client = the socket address).
#  4. Warm-up (5 s, not recorded), then --runs rounds of spread, miss and no-ECS runs of
#     --duration seconds each (dnsperf -c 1 -q 100, the same settings as bench/compare.sh);
#     during the first spread run 500 answers are checked against the explain API.
#  5. Latency at half of the measured spread maximum: dnsperf -Q <half> -v, percentiles from
#     dnsperf's per-query latencies.
#  6. --profile: one more spread run on a fresh georoute with V8's CPU profiler running for exactly
#     that run (bench/lib/profile-hook.cjs, SIGWINCH); summary in bench/out/dns/profile.txt.
# Medians of the runs go to bench/RESULTS.md with the machine, date, commit and command.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/common.sh
source "$REPO/bench/lib/common.sh"

DURATION=15
RUNS=3
PROFILE=0
WRITE_RESULTS=1
COMMAND="bench/dns.sh $*"
while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --profile) PROFILE=1; shift ;;
    --no-results) WRITE_RESULTS=0; shift ;;
    *) die "unknown option $1 (see the header of $0)" ;;
  esac
done
DNSPERF_LOAD=${DNSPERF_LOAD:--c 1 -q 100}

OUT=$REPO/bench/out/dns
install_traps
rm -rf "$OUT"
mkdir -p "$OUT"

need_apt dnsperf dnsperf
build_georoute "$REPO" "$OUT/build"
start_georoute "$OUT/build" "$OUT/georoute"
TOKEN_FILE=$GR_TOKEN_FILE

# ---- 2. subnets on four continents, checked with the explain API -----------------------------
log "picking client /24s on four continents from the bundled DB-IP database"
node "$REPO/bench/lib/pick-subnets.mjs" --continents NA,EU,AS,SA --per-continent 512 >"$OUT/subnets.tsv"
log "asking the explain API about each subnet"
node "$REPO/bench/lib/verify-subnets.mjs" --http "$GR_HTTP" --token-file "$TOKEN_FILE" --subnets "$OUT/subnets.tsv" \
  --names app.example.com,cdn.example.com --types A,AAAA >"$OUT/expected.jsonl" 2>"$OUT/verify.json" ||
  die "explain API check failed: $(cat "$OUT/verify.json")"
VERIFY=$(tail -1 "$OUT/verify.json")
log "explain API: $VERIFY"

# ---- 3. query files --------------------------------------------------------------------------
log "writing dnsperf query files"
node "$REPO/bench/lib/make-queries.mjs" --out "$OUT/spread.bin" --subnets "$OUT/subnets.tsv" \
  --queries app.example.com:A,cdn.example.com:A,app.example.com:AAAA,cdn.example.com:AAAA >"$OUT/spread.count"
node "$REPO/bench/lib/make-queries.mjs" --out "$OUT/miss.bin" --random-subnets 700000 --seed 99 \
  --queries app.example.com:A >"$OUT/miss.count"
node "$REPO/bench/lib/make-queries.mjs" --out "$OUT/noecs.bin" --no-ecs yes \
  --queries app.example.com:A,cdn.example.com:A >"$OUT/noecs.count"

# Answer-cache counters from /metrics (public), to show hits and misses per run.
cache_counts() {
  curl -sf "$GR_HTTP/metrics" | awk '/^georoute_dns_answer_cache_total\{result="hit"\}/{h=$2} /^georoute_dns_answer_cache_total\{result="miss"\}/{m=$2} END{printf "%d %d\n", h, m}'
}

# run_case NAME FILE [EXTRA DNSPERF ARGS] : one measured run; prints the stats line + hit ratio.
run_case() {
  local name=$1 file=$2
  shift 2
  wait_quiet
  local before after
  before=$(cache_counts)
  # shellcheck disable=SC2086
  run_dnsperf "$OUT/$name.out" "$GR_PID" -B -d "$file" -s 127.0.0.1 -p "$GR_DNS" -l "$DURATION" $DNSPERF_LOAD "$@" >/dev/null
  after=$(cache_counts)
  local hits=$(($(echo "$after" | cut -d' ' -f1) - $(echo "$before" | cut -d' ' -f1)))
  local misses=$(($(echo "$after" | cut -d' ' -f2) - $(echo "$before" | cut -d' ' -f2)))
  echo "$(cat "$OUT/$name.out.stats") cache_hits=$hits cache_misses=$misses" >"$OUT/$name.out.stats"
  log "$name: $(cat "$OUT/$name.out.stats")"
}

# ---- 4. runs ---------------------------------------------------------------------------------
log "warm-up: 5 s of the spread file (fills the answer cache; not recorded)"
dnsperf -B -d "$OUT/spread.bin" -s 127.0.0.1 -p "$GR_DNS" -l 5 -c 1 -q 100 >"$OUT/warmup.out" 2>&1

for i in $(seq 1 "$RUNS"); do
  if [ "$i" -eq 1 ]; then
    # Answers checked against the explain API while the load runs.
    node "$REPO/bench/lib/check-answers.mjs" --server "127.0.0.1:$GR_DNS" --expected "$OUT/expected.jsonl" \
      --sample 500 --label "under spread load" >"$OUT/check-under-load.json" 2>&1 &
    CHECK_PID=$!
    BENCH_PIDS+=("$CHECK_PID")
  fi
  run_case "spread-$i" "$OUT/spread.bin"
  [ "$i" -eq 1 ] && { wait "$CHECK_PID" || true; log "answers under load: $(cat "$OUT/check-under-load.json")"; }
  run_case "miss-$i" "$OUT/miss.bin"
  run_case "noecs-$i" "$OUT/noecs.bin"
done

# ---- 5. latency at half of the maximum -------------------------------------------------------
values() { local k=$1 f; shift; for f in "$@"; do stat_of "$f" "$k"; done; }
SPREAD_STATS=()
for i in $(seq 1 "$RUNS"); do SPREAD_STATS+=("$OUT/spread-$i.out.stats"); done
SPREAD_QPS=$(median $(values qps "${SPREAD_STATS[@]}"))
HALF=$(awk -v q="$SPREAD_QPS" 'BEGIN{printf "%d", q / 2}')
log "latency at half of the spread maximum: dnsperf -Q $HALF -v"
wait_quiet
run_dnsperf "$OUT/half.out" "$GR_PID" -B -d "$OUT/spread.bin" -s 127.0.0.1 -p "$GR_DNS" -l "$DURATION" -c 1 -q 100 -Q "$HALF" -v >/dev/null
HALF_PCT=$(latency_percentiles "$OUT/half.out")
log "half rate: $(cat "$OUT/half.out.stats") $HALF_PCT"
RSS_KB=$(rss_kb "$GR_PID")

# ---- 6. profile (optional) -------------------------------------------------------------------
PROFILE_TEXT=""
if [ "$PROFILE" -eq 1 ]; then
  log "profiling: a second georoute with --cpu-prof under the spread load"
  stop_pid "$GR_PID"
  NODE_ARGS="-r $REPO/bench/lib/profile-hook.cjs" start_georoute "$OUT/build" "$OUT/georoute-prof" CPU_PROFILE_OUT="$OUT/spread.cpuprofile"
  dnsperf -B -d "$OUT/spread.bin" -s 127.0.0.1 -p "$GR_DNS" -l 5 -c 1 -q 100 >/dev/null 2>&1
  kill -WINCH "$GR_PID" # start profiling: exactly the load run below
  run_dnsperf "$OUT/profile-run.out" "$GR_PID" -B -d "$OUT/spread.bin" -s 127.0.0.1 -p "$GR_DNS" -l "$DURATION" -c 1 -q 100 >/dev/null
  kill -WINCH "$GR_PID" # stop and write
  for _ in $(seq 1 100); do [ -s "$OUT/spread.cpuprofile" ] && break; sleep 0.2; done
  stop_pid "$GR_PID"
  node "$REPO/bench/lib/profile-summary.mjs" "$OUT/spread.cpuprofile" --busy yes --top 25 >"$OUT/profile.txt" 2>&1 || true
  echo "profiled run: $(cat "$OUT/profile-run.out.stats")" >>"$OUT/profile.txt"
  PROFILE_TEXT=$(cat "$OUT/profile.txt")
fi

# ---- results ---------------------------------------------------------------------------------
row() { # NAME PREFIX : medians of the runs PREFIX-1..N
  local name=$1 prefix=$2 files=() i
  for i in $(seq 1 "$RUNS"); do files+=("$OUT/$prefix-$i.out.stats"); done
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" \
    "$(median $(values qps "${files[@]}"))" "$(values qps "${files[@]}" | paste -sd/)" \
    "$(values lost "${files[@]}" | paste -sd/)" "$(median $(values avg_ms "${files[@]}"))" \
    "$(median $(values server_cpu "${files[@]}"))" "$(median $(values dnsperf_cpu "${files[@]}"))" \
    "$(median $(values others_cpu "${files[@]}"))" \
    "$(median $(values cache_hits "${files[@]}"))/$(median $(values cache_misses "${files[@]}"))" \
    "$(awk -v q="$(median $(values qps "${files[@]}"))" -v c="$(median $(values server_cpu "${files[@]}"))" 'BEGIN{printf "%d", (c > 0 ? q / c : 0)}')"
}

REPORT=$OUT/report.md
{
  echo
  echo "## bench/dns.sh — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- Machine: $(machine_line)"
  echo "- Commit: $(commit_line "$REPO"); command: \`$COMMAND\` (dnsperf $DNSPERF_LOAD, ${DURATION} s x $RUNS, medians)"
  echo "- georoute: demo configuration, bundled DB-IP Lite city database, one process; load generator on the same machine."
  echo "- Subnets: 2,048 /24s, 512 each that the explain API places in $(echo "$VERIFY" | grep -o '"continentsByApi":{[^}]*}' | sed 's/"continentsByApi"://; s/"//g'); continent disagreements with the database pick: $(echo "$VERIFY" | grep -o '"continentDisagreements":[0-9]*' | cut -d: -f2)."
  echo "- Queries (dnsperf -B, one ECS option per query): spread = $(cut -f1 "$OUT/spread.count") queries over $(cut -f2 "$OUT/spread.count") subnets (app/cdn x A/AAAA), looped; miss = $(cut -f1 "$OUT/miss.count") distinct /24s, app A; no-ECS = app/cdn A without EDNS."
  echo
  echo "| run | queries/s (median) | runs | lost | avg latency ms | georoute CPU (cores) | dnsperf CPU | other processes' CPU | cache hits/misses per run | queries per georoute CPU-second |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  row "UDP, ECS spread over 2,048 /24s (cached)" spread
  row "UDP, ECS, every query a new /24 (miss)" miss
  row "UDP, no ECS" noecs
  echo
  echo "- Latency at half of the spread maximum (dnsperf -Q $HALF -v, one ${DURATION} s run): $(cat "$OUT/half.out.stats" | grep -o 'qps=[0-9]*') achieved, $(stat_of "$OUT/half.out.stats" lost) lost, mean $(stat_of "$OUT/half.out.stats" avg_ms) ms; per-query percentiles (ms) $HALF_PCT."
  echo "- Answers checked against the explain API during the first spread run: $(cat "$OUT/check-under-load.json" | cut -c1-400)"
  echo "- georoute RSS (VmRSS, sampled every 0.5 s): max $(values rss_max_kb "${SPREAD_STATS[@]}" | sort -n | tail -1) kB during the spread runs, max $(for i in $(seq 1 "$RUNS"); do stat_of "$OUT/miss-$i.out.stats" rss_max_kb; done | sort -n | tail -1) kB during the miss runs (answer and location caches at their 100,000-entry bounds); $RSS_KB kB at the end."
  echo "- Target (issue A): >= 20,000 queries/s, nothing lost: $(awk -v q="$SPREAD_QPS" 'BEGIN{print (q >= 20000 ? "met" : "NOT met")}') for the spread load ($SPREAD_QPS)."
  if [ -n "$PROFILE_TEXT" ]; then
    echo
    echo "CPU profile of one spread run (V8 CPU profiler, 0.5 ms sampling, non-idle samples; \`bench/lib/profile-summary.mjs\`):"
    echo
    echo '```'
    echo "$PROFILE_TEXT" | head -40
    echo '```'
  fi
} >"$REPORT"
cat "$REPORT" >&2
if [ "$WRITE_RESULTS" -eq 1 ]; then
  cat "$REPORT" >>"$REPO/bench/RESULTS.md"
  log "appended to bench/RESULTS.md"
fi
