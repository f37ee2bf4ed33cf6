#!/usr/bin/env bash
# georoute against gdnsd and PowerDNS doing the same geo job, in one run (ratios from one run hold
# on a shared machine; absolute figures drift). The job and the peers' templates:
# ../shared/anchors/README.md (shared/ beside the repository; SHARED_DIR overrides).
#
#   bench/compare.sh [--duration 15] [--runs 3] [--workers 2] [--no-results]
#
# 1. apt-get install dnsperf, gdnsd, pdns-server and pdns-backend-geoip when missing; compile
#    georoute into bench/out/compare/build.
# 2. Start, on free ports of 127.0.0.1: gdnsd and PowerDNS from the templates (zone example.test,
#    app.example.test TTL 30, the nearest of five regions, ECS on, MaxMind's GeoIP2-City-Test.mmdb);
#    georoute with GEOIP_DB = that database and CONFIG_FILE = bench/lib/georoute-example-test.yaml,
#    with DNS_WORKERS = --workers (UDP answered by that many worker processes; 0 = one process),
#    and, when --workers > 0, a second georoute as one process (DNS_WORKERS=0) for comparison.
# 3. Answers: the README's subnets (and both sides of 149.101.100.0/24, of which only /28 has
#    data) asked of all three; then every subnet of the load asked of all three; georoute's answers
#    also compared with its explain API.
# 4. dnsperf, binary query files (-B) with one ECS option per query: ~2,100 queries over 1,300
#    client subnets (every network the test database places, as /24s or single addresses, plus
#    1,024 /24s it does not know); the servers take turns within each round:
#    - UDP with ECS, --runs x --duration s each (-c 1 -q 100); during georoute's first run 300
#      answers are checked against the explain API;
#    - UDP without ECS (no EDNS: client = 127.0.0.1, unknown -> us-east);
#    - TCP, 100 connections, 10 queries in flight on each (-m tcp -c 100 -q 1000, pipelined);
#    - latency at half of georoute's own UDP/ECS maximum (-Q, -v): percentiles from dnsperf's
#      per-query latencies, georoute x --runs, gdnsd once at the same rate;
#    - the one-process georoute in the UDP/ECS rounds (does the second process pay?).
# 5. georoute once more with its defaults (demo configuration, bundled DB-IP city database): the
#    spread load of bench/dns.sh for one run, VmRSS sampled every 0.5 s, answers checked against
#    the explain API under load; then the same with DNS_WORKERS = --workers (RSS of all processes).
# Everything is stopped by PID on exit. Medians and ratios go to bench/RESULTS.md.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/common.sh
source "$REPO/bench/lib/common.sh"

DURATION=15
RUNS=3
WORKERS=2
WRITE_RESULTS=1
COMMAND="bench/compare.sh $*"
while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --no-results) WRITE_RESULTS=0; shift ;;
    *) die "unknown option $1 (see the header of $0)" ;;
  esac
done
LOAD="-c 1 -q 100"
TCP_LOAD="-m tcp -c 100 -q 1000"

SHARED=${SHARED_DIR:-$(dirname "$REPO")/shared}
ANCHORS=$SHARED/anchors
TEST_DB=$SHARED/fixtures/geoip/GeoIP2-City-Test.mmdb
[ -f "$ANCHORS/README.md" ] || die "no $ANCHORS/README.md (shared/ must sit beside the repository, or set SHARED_DIR)"
[ -f "$TEST_DB" ] || die "no $TEST_DB"

OUT=$REPO/bench/out/compare
install_traps
rm -rf "$OUT"
mkdir -p "$OUT"

# ---- 1. tools and build ----------------------------------------------------------------------
need_apt dnsperf dnsperf
need_apt dig bind9-dnsutils
need_apt gdnsd gdnsd
need_apt pdns_server pdns-server pdns-backend-geoip
ls /usr/lib/*/pdns/libgeoipbackend.so >/dev/null 2>&1 || {
  log "installing pdns-backend-geoip (apt)"
  apt-get install -y pdns-backend-geoip >/dev/null
}
build_georoute "$REPO" "$OUT/build"



# ---- 2. the three servers --------------------------------------------------------------------
GD_PORT=$(free_port)
PD_PORT=$(free_port)

G=$OUT/gdnsd
mkdir -p "$G/conf/zones" "$G/conf/geoip" "$G/run/run" "$G/run/state"
cp "$TEST_DB" "$G/conf/geoip/"
# @GEOIP_DB@: gdnsd reads geoip2_db relative to the config directory's geoip/.
sed -e "s#@RUN_DIR@#$G/run#g" -e "s#@GEOIP_DB@#$(basename "$TEST_DB")#g" -e "s#127\.0\.0\.1:5301#127.0.0.1:$GD_PORT#" \
  "$ANCHORS/gdnsd/config.in" >"$G/conf/config"
cp "$ANCHORS/gdnsd/zones/example.test" "$G/conf/zones/"
# gdnsd 3 runs in the foreground; the README's -f is obsolete (3.8 warns and ignores it).
start_bg "$G/gdnsd.log" gdnsd -c "$G/conf" start
GD_PID=$BG_PID
wait_dns "$GD_PORT" "$GD_PID" gdnsd
log "gdnsd pid $GD_PID on 127.0.0.1:$GD_PORT ($(gdnsd -c "$G/conf" checkconf 2>&1 | grep -o 'gdnsd version [0-9.]*' | head -1 || true))"

P=$OUT/pdns
mkdir -p "$P/conf" "$P/run"
cp "$TEST_DB" "$P/conf/"
sed -e "s#@RUN_DIR@#$P/run#g" -e "s#@CONF_DIR@#$P/conf#g" -e "s#@GEOIP_DB@#$P/conf/$(basename "$TEST_DB")#g" \
  -e "s#127\.0\.0\.1:5302#127.0.0.1:$PD_PORT#" "$ANCHORS/pdns/pdns.conf.in" >"$P/conf/pdns.conf"
sed -e "s#@CONF_DIR@#$P/conf#g" -e "s#@RUN_DIR@#$P/run#g" "$ANCHORS/pdns/named.conf.in" >"$P/run/named.conf"
cp "$ANCHORS/pdns/example.test.zone" "$ANCHORS/pdns/geo-zones.yaml" "$P/conf/"
start_bg "$P/pdns.log" pdns_server --config-dir="$P/conf"
PD_PID=$BG_PID
wait_dns "$PD_PORT" "$PD_PID" pdns
log "PowerDNS pid $PD_PID on 127.0.0.1:$PD_PORT"


if [ "$WORKERS" -gt 0 ]; then
  start_georoute "$OUT/build" "$OUT/georoute-1" GEOIP_DB="$TEST_DB" CONFIG_FILE="$REPO/bench/lib/georoute-example-test.yaml" DNS_WORKERS=0
  GR1_PORT=$GR_DNS
  GR1_MAIN=$GR_PID
fi
start_georoute "$OUT/build" "$OUT/georoute" GEOIP_DB="$TEST_DB" CONFIG_FILE="$REPO/bench/lib/georoute-example-test.yaml" DNS_WORKERS="$WORKERS"
GR_PORT=$GR_DNS
GR_MAIN=$GR_PID
GR_PIDS=$(worker_pids "$GR_MAIN")
log "georoute DNS_WORKERS=$WORKERS: processes $GR_PIDS"

SERVERS="georoute=127.0.0.1:$GR_PORT,gdnsd=127.0.0.1:$GD_PORT,pdns=127.0.0.1:$PD_PORT"

# ---- 3. answers ------------------------------------------------------------------------------
# The README's table, plus 149.101.100.0/28 (the part of the /24 with data) and a /28 beside it.
cat >"$OUT/anchors.txt" <<'EOF'
2.2.3.0/24
81.2.69.160/27
149.101.100.0/24
149.101.100.0/28
149.101.100.16/28
216.160.83.56/29
89.160.20.128/25
175.16.199.0/24
none
EOF
declare -A EXPECTED=(
  [2.2.3.0/24]=10.0.0.3 [81.2.69.160/27]=10.0.0.3 [149.101.100.0/24]=10.0.0.1 [149.101.100.0/28]=10.0.0.1
  [149.101.100.16/28]=10.0.0.1 [216.160.83.56/29]=10.0.0.2 [89.160.20.128/25]=10.0.0.4 [175.16.199.0/24]=10.0.0.5 [none]=10.0.0.1
)
node "$REPO/bench/lib/check-answers.mjs" --servers "$SERVERS" --subnets "$OUT/anchors.txt" \
  --names app.example.test:A --detail "$OUT/anchors.tsv" >"$OUT/anchors.json" || true
log "README subnets: $(cat "$OUT/anchors.json")"

node "$REPO/bench/lib/compare-subnets.mjs" "$TEST_DB" --unknown 1024 --located-repeat 4 >"$OUT/subnets.tsv" 2>"$OUT/subnets.log"
SUBNET_NOTE=$(cat "$OUT/subnets.log")
node "$REPO/bench/lib/check-answers.mjs" --servers "$SERVERS" --subnets "$OUT/subnets.tsv" \
  --names app.example.test:A --detail "$OUT/cross-check.tsv" >"$OUT/cross-check.json" || true
log "all load subnets, three servers: $(cut -c1-300 "$OUT/cross-check.json")"

sort -u "$OUT/subnets.tsv" >"$OUT/subnets-unique.tsv"
node "$REPO/bench/lib/verify-subnets.mjs" --http "$GR_HTTP" --token-file "$GR_TOKEN_FILE" --subnets "$OUT/subnets-unique.tsv" \
  --names app.example.test --types A --allow-unlocated yes >"$OUT/expected.jsonl" 2>"$OUT/verify.json" ||
  die "explain API failed: $(cat "$OUT/verify.json")"
node "$REPO/bench/lib/check-answers.mjs" --server "127.0.0.1:$GR_PORT" --expected "$OUT/expected.jsonl" \
  --label "idle, every load subnet" >"$OUT/explain-idle.json" || true
log "georoute vs its explain API: $(cat "$OUT/explain-idle.json" | cut -c1-300)"

# ---- 4. load ---------------------------------------------------------------------------------
node "$REPO/bench/lib/make-queries.mjs" --out "$OUT/ecs.bin" --subnets "$OUT/subnets.tsv" --queries app.example.test:A >"$OUT/ecs.count"
node "$REPO/bench/lib/make-queries.mjs" --out "$OUT/noecs.bin" --no-ecs yes --queries app.example.test:A >/dev/null

declare -A PORT_OF=([georoute]=$GR_PORT [gdnsd]=$GD_PORT [pdns]=$PD_PORT)
UDP_SERVERS="georoute gdnsd pdns"

declare -A PID_OF=([georoute]=$GR_PIDS [gdnsd]=$GD_PID [pdns]=$PD_PID)
if [ "$WORKERS" -gt 0 ]; then
  PORT_OF[georoute1]=$GR1_PORT
  PID_OF[georoute1]=$GR1_MAIN
  UDP_SERVERS="georoute georoute1 gdnsd pdns"
fi

# measure NAME LABEL FILE [DNSPERF ARGS] : one run against server NAME into $OUT/LABEL.out(.stats).
measure() {
  local name=$1 label=$2 file=$3
  shift 3
  wait_quiet
  # shellcheck disable=SC2086
  run_dnsperf "$OUT/$label.out" "${PID_OF[$name]}" -B -d "$file" -s 127.0.0.1 -p "${PORT_OF[$name]}" -l "$DURATION" "$@" >/dev/null
  log "$label: $(cat "$OUT/$label.out.stats")"
}

log "warm-up: 3 s of the ECS file per server (not recorded)"
for s in $UDP_SERVERS; do
  # shellcheck disable=SC2086
  dnsperf -B -d "$OUT/ecs.bin" -s 127.0.0.1 -p "${PORT_OF[$s]}" -l 3 $LOAD >"$OUT/warmup-$s.out" 2>&1
done

for i in $(seq 1 "$RUNS"); do
  for s in $UDP_SERVERS; do
    if [ "$s" = georoute ] && [ "$i" -eq 1 ]; then
      node "$REPO/bench/lib/check-answers.mjs" --server "127.0.0.1:$GR_PORT" --expected "$OUT/expected.jsonl" \
        --sample 300 --label "under load" >"$OUT/explain-load.json" 2>&1 &
      CHECK_PID=$!
      BENCH_PIDS+=("$CHECK_PID")
    fi
    # shellcheck disable=SC2086
    measure "$s" "udp-ecs-$s-$i" "$OUT/ecs.bin" $LOAD
    if [ "$s" = georoute ] && [ "$i" -eq 1 ]; then
      wait "$CHECK_PID" || true
      log "georoute under load vs explain API: $(cut -c1-300 "$OUT/explain-load.json")"
    fi
  done
done
for i in $(seq 1 "$RUNS"); do
  for s in georoute gdnsd pdns; do
    # shellcheck disable=SC2086
    measure "$s" "udp-noecs-$s-$i" "$OUT/noecs.bin" $LOAD
  done
done
for i in $(seq 1 "$RUNS"); do
  for s in georoute gdnsd pdns; do
    # shellcheck disable=SC2086
    measure "$s" "tcp-$s-$i" "$OUT/ecs.bin" $TCP_LOAD
  done
done

values() { local k=$1 f; shift; for f in "$@"; do stat_of "$f" "$k"; done; }
files_of() { local prefix=$1 i; for i in $(seq 1 "$RUNS"); do echo "$OUT/$prefix-$i.out.stats"; done; }
med() { median $(values "$1" $(files_of "$2")); }

GR_MAX=$(med qps udp-ecs-georoute)
HALF=$(awk -v q="$GR_MAX" 'BEGIN{printf "%d", q / 2}')
log "latency at half of georoute's UDP/ECS maximum: -Q $HALF"
for i in $(seq 1 "$RUNS"); do
  # shellcheck disable=SC2086
  measure georoute "half-georoute-$i" "$OUT/ecs.bin" $LOAD -Q "$HALF" -v
  latency_percentiles "$OUT/half-georoute-$i.out" >"$OUT/half-georoute-$i.pct" 2>>"$OUT/half-georoute-$i.pct"
done
# shellcheck disable=SC2086
measure gdnsd "half-gdnsd-1" "$OUT/ecs.bin" $LOAD -Q "$HALF" -v
latency_percentiles "$OUT/half-gdnsd-1.out" >"$OUT/half-gdnsd-1.pct" 2>>"$OUT/half-gdnsd-1.pct"

# ---- 5. georoute with its defaults: RSS with the bundled city database ------------------------
GR_TEST_RSS=$(rss_kb "$GR_PIDS")
stop_pid "$GR_MAIN"
if [ "$WORKERS" -gt 0 ]; then
  GR1_TEST_RSS=$(rss_kb "$GR1_MAIN")
  stop_pid "$GR1_MAIN"
fi
stop_pid "$GD_PID"
stop_pid "$PD_PID"
start_georoute "$OUT/build" "$OUT/georoute-default"
node "$REPO/bench/lib/pick-subnets.mjs" --continents NA,EU,AS,SA --per-continent 256 >"$OUT/default-subnets.tsv"
node "$REPO/bench/lib/verify-subnets.mjs" --http "$GR_HTTP" --token-file "$GR_TOKEN_FILE" --subnets "$OUT/default-subnets.tsv" \
  --names app.example.com,cdn.example.com --types A >"$OUT/default-expected.jsonl" 2>"$OUT/default-verify.json" ||
  die "explain API failed: $(cat "$OUT/default-verify.json")"
node "$REPO/bench/lib/make-queries.mjs" --out "$OUT/default.bin" --subnets "$OUT/default-subnets.tsv" \
  --queries app.example.com:A,cdn.example.com:A,app.example.com:AAAA,cdn.example.com:AAAA >/dev/null
PID_OF[default]=$GR_PID
PORT_OF[default]=$GR_DNS
RSS_IDLE=$(rss_kb "$GR_PID")
node "$REPO/bench/lib/check-answers.mjs" --server "127.0.0.1:$GR_DNS" --expected "$OUT/default-expected.jsonl" \
  --sample 300 --label "default DB, under load" >"$OUT/default-explain-load.json" 2>&1 &
CHECK_PID=$!
BENCH_PIDS+=("$CHECK_PID")
# shellcheck disable=SC2086
measure default "default-1" "$OUT/default.bin" $LOAD
wait "$CHECK_PID" || true
RSS_MAX=$(stat_of "$OUT/default-1.out.stats" rss_max_kb)
stop_pid "$GR_PID"
if [ "$WORKERS" -gt 0 ]; then
  start_georoute "$OUT/build" "$OUT/georoute-default-workers" DNS_WORKERS="$WORKERS"
  PID_OF[defaultw]=$(worker_pids "$GR_PID")
  PORT_OF[defaultw]=$GR_DNS
  # shellcheck disable=SC2086
  measure defaultw "default-workers-1" "$OUT/default.bin" $LOAD
  RSS_W_MAX=$(stat_of "$OUT/default-workers-1.out.stats" rss_max_kb)
  RSS_W_EACH=$(for p in ${PID_OF[defaultw]//,/ }; do rss_kb "$p"; done | paste -sd/)
  stop_pid "$GR_PID"
fi

# ---- results ---------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
yes_no() { if awk "BEGIN{exit !($1)}"; then echo "**met**"; else echo "**not met**"; fi; }
pct_of() { awk -v k="$2" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$1"; }
med_pct() { local k=$1 i v=(); for i in $(seq 1 "$RUNS"); do v+=("$(pct_of "$OUT/half-georoute-$i.pct" "$k")"); done; median "${v[@]}"; }
lost_sum() { values lost $(files_of "$1") | awk '{s += $1} END {print s + 0}'; }

UDP_GR=$(med qps udp-ecs-georoute)
UDP_GD=$(med qps udp-ecs-gdnsd)
UDP_PD=$(med qps udp-ecs-pdns)
NOECS_GR=$(med qps udp-noecs-georoute)
NOECS_GD=$(med qps udp-noecs-gdnsd)
NOECS_PD=$(med qps udp-noecs-pdns)
TCP_GR=$(med qps tcp-georoute)
TCP_GD=$(med qps tcp-gdnsd)
TCP_PD=$(med qps tcp-pdns)
HALF_MEAN=$(med avg_ms half-georoute)
HALF_P99=$(med_pct p99)
LOST_GR=$(($(lost_sum udp-ecs-georoute) + $(lost_sum udp-noecs-georoute) + $(lost_sum tcp-georoute) + $(lost_sum half-georoute)))

server_row() { # LABEL PREFIX
  local prefix=$2
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$(med qps "$prefix")" "$(values qps $(files_of "$prefix") | paste -sd/)" \
    "$(values lost $(files_of "$prefix") | paste -sd/)" "$(med avg_ms "$prefix")" "$(med server_cpu "$prefix")" \
    "$(med others_cpu "$prefix")" "$(awk -v q="$(med qps "$prefix")" -v c="$(med server_cpu "$prefix")" 'BEGIN{printf "%d", (c > 0 ? q / c : 0)}')"
}

REPORT=$OUT/report.md
{
  echo
  echo "## bench/compare.sh — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- Machine: $(machine_line)"
  echo "- Commit: $(commit_line "$REPO"); command: \`$COMMAND\`; dnsperf $LOAD (UDP), $TCP_LOAD (TCP); ${DURATION} s x $RUNS per case, servers taking turns within each round; medians."
  echo "- Peers: $(gdnsd -c "$G/conf" checkconf 2>&1 | grep -o 'gdnsd version [0-9.]*' | head -1 || echo gdnsd), $(pdns_server --version 2>&1 | grep -o 'PowerDNS Authoritative Server [0-9.]*' | head -1) (bind backend + LUA record, geoip backend for latlon()), from ../shared/anchors; georoute with DNS_WORKERS=$WORKERS (one main process + $WORKERS UDP workers; CPU and RSS are of all of them), GEOIP_DB = GeoIP2-City-Test.mmdb, bench/lib/georoute-example-test.yaml."
  echo "- Query set: $(cut -f1 "$OUT/ecs.count") queries per pass, one ECS option each (dnsperf -B); $SUBNET_NOTE (located: every network of the test database, as /24s when /24 or wider, else each address /32)."
  echo
  echo "Answers for the README's subnets (app.example.test A; the README expects the 'expected' column):"
  echo
  echo "| ECS | expected | georoute | gdnsd | PowerDNS |"
  echo "|---|---|---|---|---|"
  tail -n +2 "$OUT/anchors.tsv" | while IFS=$'\t' read -r ecs _name _type a b c; do
    echo "| $ecs | ${EXPECTED[$ecs]:-?} | $a | $b | $c |"
  done
  echo
  echo "- All three on every subnet of the load ($(grep -o '"questions":[0-9]*' "$OUT/cross-check.json" | cut -d: -f2) subnets): $(cut -c1-600 "$OUT/cross-check.json")"
  echo "- georoute vs its explain API: idle, every load subnet: $(cut -c1-200 "$OUT/explain-idle.json"); under load (sample): $(cut -c1-200 "$OUT/explain-load.json")"
  echo
  echo "| server, UDP with ECS | queries/s (median) | runs | lost | avg latency ms | server CPU (cores) | other processes' CPU | queries per server CPU-second |"
  echo "|---|---|---|---|---|---|---|---|"
  server_row "georoute (DNS_WORKERS=$WORKERS)" udp-ecs-georoute
  [ "$WORKERS" -gt 0 ] && server_row "georoute, one process (DNS_WORKERS=0)" udp-ecs-georoute1
  server_row gdnsd udp-ecs-gdnsd
  server_row PowerDNS udp-ecs-pdns
  echo
  echo "| server, UDP without ECS | queries/s (median) | runs | lost | avg latency ms | server CPU (cores) | other processes' CPU | queries per server CPU-second |"
  echo "|---|---|---|---|---|---|---|---|"
  server_row georoute udp-noecs-georoute
  server_row gdnsd udp-noecs-gdnsd
  server_row PowerDNS udp-noecs-pdns
  echo
  echo "| server, TCP (100 connections, pipelined) | queries/s (median) | runs | lost | avg latency ms | server CPU (cores) | other processes' CPU | queries per server CPU-second |"
  echo "|---|---|---|---|---|---|---|---|"
  server_row georoute tcp-georoute
  server_row gdnsd tcp-gdnsd
  server_row PowerDNS tcp-pdns
  echo
  echo "Ratios (medians of this run): UDP with ECS georoute/gdnsd **$(ratio "$UDP_GR" "$UDP_GD")**, georoute/PowerDNS **$(ratio "$UDP_GR" "$UDP_PD")**; without ECS $(ratio "$NOECS_GR" "$NOECS_GD") and $(ratio "$NOECS_GR" "$NOECS_PD"); TCP $(ratio "$TCP_GR" "$TCP_GD") and $(ratio "$TCP_GR" "$TCP_PD")."
  [ "$WORKERS" -gt 0 ] && echo "One process (DNS_WORKERS=0): $(ratio "$(med qps udp-ecs-georoute1)" "$UDP_GD") x gdnsd; DNS_WORKERS=$WORKERS is $(ratio "$UDP_GR" "$(med qps udp-ecs-georoute1)") x the one process. RSS with the test database: $GR_TEST_RSS kB for all $((WORKERS + 1)) processes, ${GR1_TEST_RSS} kB for the one process."
  echo
  echo "Latency at half of georoute's UDP/ECS maximum (dnsperf -Q $HALF -v; percentiles from dnsperf's per-query latencies, ms):"
  echo
  echo "| server | run | achieved q/s | lost | mean (dnsperf) | p50 | p90 | p99 | p99.9 | max |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for f in $(for i in $(seq 1 "$RUNS"); do echo "half-georoute-$i"; done) half-gdnsd-1; do
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "${f%-*}" "${f##*-}" "$(stat_of "$OUT/$f.out.stats" qps)" \
      "$(stat_of "$OUT/$f.out.stats" lost)" "$(stat_of "$OUT/$f.out.stats" avg_ms)" "$(pct_of "$OUT/$f.pct" p50)" \
      "$(pct_of "$OUT/$f.pct" p90)" "$(pct_of "$OUT/$f.pct" p99)" "$(pct_of "$OUT/$f.pct" p999)" "$(pct_of "$OUT/$f.pct" max)"
  done
  echo
  echo "georoute with its defaults (demo configuration, bundled DB-IP city database; 1,024 /24s on four continents x app/cdn x A/AAAA): $(cut -d' ' -f1-6 "$OUT/default-1.out.stats"); VmRSS $RSS_IDLE kB before the load, max $RSS_MAX kB during it (sampled every 0.5 s); Answers under load vs the explain API: $(cut -c1-200 "$OUT/default-explain-load.json")"
  echo
  [ "$WORKERS" -gt 0 ] && echo "georoute with the bundled database and DNS_WORKERS=$WORKERS, same load: $(cut -d' ' -f1-6 "$OUT/default-workers-1.out.stats"); VmRSS of all processes max $RSS_W_MAX kB (main/workers after the load: $RSS_W_EACH kB; every worker maps the same database files, whose shared pages VmRSS counts in each process)."
  echo
  echo "Targets (issue B), this run:"
  echo
  echo "- UDP with ECS >= 0.5 x gdnsd: $(ratio "$UDP_GR" "$UDP_GD") — $(yes_no "$(ratio "$UDP_GR" "$UDP_GD") >= 0.5")"
  echo "- UDP with ECS >= 20 x PowerDNS: $(ratio "$UDP_GR" "$UDP_PD") — $(yes_no "$(ratio "$UDP_GR" "$UDP_PD") >= 20")"
  echo "- nothing lost (georoute, every run above): $LOST_GR lost — $(yes_no "$LOST_GR == 0")"
  echo "- at half of the maximum, mean <= 1 ms and p99 <= 5 ms: mean $HALF_MEAN ms, p99 $HALF_P99 ms (medians of $RUNS) — $(yes_no "$HALF_MEAN <= 1 && $HALF_P99 <= 5")"
  echo "- TCP, 100 connections pipelined, >= 10,000 q/s: $TCP_GR — $(yes_no "$TCP_GR >= 10000")"
  echo "- RSS <= 400 MB with the bundled city database: one process (DNS_WORKERS=0) max $RSS_MAX kB — $(yes_no "$RSS_MAX <= 409600")$([ "$WORKERS" -gt 0 ] && echo "; DNS_WORKERS=$WORKERS, all processes together max $RSS_W_MAX kB — $(yes_no "$RSS_W_MAX <= 409600")")"
  echo "- answers correct under load: see the explain API checks above."
} >"$REPORT"
cat "$REPORT" >&2
if [ "$WRITE_RESULTS" -eq 1 ]; then
  cat "$REPORT" >>"$REPO/bench/RESULTS.md"
  log "appended to bench/RESULTS.md"
fi
