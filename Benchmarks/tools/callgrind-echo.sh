#!/usr/bin/env bash
# Profiles one B1 echo server with callgrind: starts it under valgrind, warms it up with
# load-frames, zeroes the counters, measures a fixed window, dumps, and summarizes per
# request with cgsummary.py.
#
#   Benchmarks/tools/callgrind-echo.sh [xcert|raw] [CONNECTIONS] [IN_FLIGHT] [SECONDS]
#
# Needs the release products echo-xcert / echo-raw and load-frames. valgrind 3.19 (Debian 12)
# cannot read the DWARF 5 that Swift emits, so the binary is profiled from a copy without
# debug info (symbols stay). Output in $PROFILE_DIR (default: a new folder under /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-xcert}
connections=${2:-1}
in_flight=${3:-256}
seconds=${4:-10}
bin=.build/release
dir=${PROFILE_DIR:-$(mktemp -d /tmp/xcert-callgrind.XXXXXX)}
mkdir -p "$dir"
command -v valgrind >/dev/null || { echo "valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
case $target in
    xcert) server=echo-xcert; expect=response ;;
    raw) server=echo-raw; expect=echo ;;
    *) echo "usage: $0 [xcert|raw] [CONNECTIONS] [IN_FLIGHT] [SECONDS]" >&2; exit 2 ;;
esac
objcopy --strip-debug "$bin/$server" "$dir/$server"
valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out.%p" "$dir/$server" >"$dir/server.out" 2>"$dir/server.err" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
for _ in $(seq 300); do
    port=$(awk '$1 == "LISTENING" { print $2; exit }' "$dir/server.out")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$dir/server.err" >&2; exit 1; }
    sleep 0.1
done
[ -n "$port" ] || { echo "the server did not listen" >&2; exit 1; }
"$bin/load-frames" --address "127.0.0.1:$port" --expect "$expect" --target "$target" --connections "$connections" \
    --in-flight "$in_flight" --seconds 3 --warmup 1 | grep -v '^CELL' >&2
callgrind_control -z "$pid" >/dev/null
"$bin/load-frames" --address "127.0.0.1:$port" --expect "$expect" --target "$target" --connections "$connections" \
    --in-flight "$in_flight" --seconds "$seconds" --warmup 0 >"$dir/load.out"
grep -v '^CELL' "$dir/load.out" >&2
callgrind_control -d "$pid" >/dev/null
# Requests answered between zeroing and dumping: those in the window, plus at most one per
# slot answered after it.
requests=$(sed -n 's/^CELL .*"completed":\([0-9]*\).*/\1/p' "$dir/load.out")
sleep 2
profile=$(ls -t "$dir"/callgrind.out.*.* | head -1)
echo "profile: $profile" >&2
python3 tools/cgsummary.py "$profile" --requests "$requests"
