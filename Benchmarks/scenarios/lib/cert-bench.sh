# shellcheck shell=bash
# cert_bench_scenario ID SUBCOMMAND NAME DESCRIPTION: runs `cert-bench SUBCOMMAND` over a
# year's credentials (50,000; 10,000 under --quick) and writes the fragment of ID: XCert's
# cells (targets xcert-…) against raw Ed25519's (ed25519-…) over the same bytes, the target
# being XCert at least half the raw rate on one task. B6 and B7 are this with sign and verify.
cert_bench_scenario() {
    local id=$1 subcommand=$2 name=$3 description=$4
    local dir=$BENCH_WORK/$id candidates
    candidates=$(bench_duration 50000 10000)
    mkdir -p "$dir"
    "$BENCH_BIN/cert-bench" "$subcommand" --candidates "$candidates" | tee "$dir/out" | grep -v '^CELL '
    grep '^CELL .*"target":"xcert-' "$dir/out" >"$dir/xcert.cells"
    grep '^CELL .*"target":"ed25519-' "$dir/out" >"$dir/raw.cells"
    python3 "$BENCH_TOOL" fragment --id "$id" --name "$name, $candidates credentials" --description "$description" \
        --xcert "$dir/xcert.cells" --peer "ed25519-raw=$dir/raw.cells" --headline 1x1 \
        --target 'XCert at least half the raw Ed25519 rate on one task=f["ratio"] >= 0.5' \
        --note "cells: tasks x 1; req/s = credentials a second" \
        --out "$BENCH_RESULTS/$id.json"
}
