#!/usr/bin/env bash
# The large-registry benchmark of the routing tables: 10,000 services, each on its own random 6
# of 20 regions, against one georoute process with its defaults (embedded database, bundled
# DB-IP city database, DNS_WORKERS=0). Measures (bench/lib/scale.mjs): the time to apply every
# service in one config/apply document, a signed webhook's time to the first changed DNS answer
# (p50/p99 over --webhooks changes, after one more that is reported apart: the process's first,
# on cold code), a PATCH of one service's time to the first changed answer, and RSS (also once the
# table filler has built every table: `rssMb.filled`).
#
#   bench/scale.sh [--services 10000] [--regions 20] [--webhooks 100] [--patches 20] [--documents 1] [--no-results]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/common.sh
source "$REPO/bench/lib/common.sh"

PASS=()
WRITE_RESULTS=1
COMMAND="bench/scale.sh $*"
while [ $# -gt 0 ]; do
  case $1 in
    --services | --regions | --webhooks | --patches | --documents) PASS+=("$1" "$2"); shift 2 ;;
    --no-results) WRITE_RESULTS=0; shift ;;
    *) die "unknown option $1 (see the header of $0)" ;;
  esac
done
OUT=$REPO/bench/out/scale
install_traps
rm -rf "$OUT"
mkdir -p "$OUT"
build_georoute "$REPO" "$OUT/build"
SECRET="whsec_$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
start_georoute "$OUT/build" "$OUT/georoute" CONFIG_FILE=none WEBHOOK_SECRET="$SECRET"
node "$REPO/bench/lib/scale.mjs" --http "$GR_HTTP" --dns "$GR_DNS" --token "$(cat "$GR_TOKEN_FILE")" --secret "$SECRET" --pid "$GR_PID" --log "$OUT/georoute/georoute.log" "${PASS[@]}" >"$OUT/scale.json"
RESULT=$(cat "$OUT/scale.json")
log "result: $RESULT"
if [ "$WRITE_RESULTS" -eq 1 ]; then
  {
    echo
    echo "## Routing tables: a large registry ($(date -u +%Y-%m-%d))"
    echo
    echo "Machine: $(machine_line). Commit: $(commit_line "$REPO"). Command: \`$COMMAND\`."
    echo "One georoute process, defaults (embedded database, bundled DB-IP city database). Times in ms, RSS in MB:"
    echo
    echo "\`$RESULT\`"
  } >>"$REPO/bench/RESULTS.md"
  log "appended to bench/RESULTS.md"
fi
