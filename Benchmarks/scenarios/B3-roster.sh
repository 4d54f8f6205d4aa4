# shellcheck shell=bash
# B3: one exam roster of 1,000,000 rows (100,000 under --quick) uploaded in 5,000-row chunks,
# one at a time (each row checked, its national ID hashed, the chunk's schools asked of the
# registry), then sealed; against psql's \copy of the same rows, as the database keeps them,
# as CSV into a table with the same columns and indexes. Throughput is rows a second.
# shellcheck source=Benchmarks/scenarios/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"
bench_register B3 "1,000,000-row roster vs psql \\copy" --products "xcert-load" --main --pg

scenario_B3() {
    services_up
    local dir=$BENCH_WORK/B3 rows
    rows=$(bench_duration 1000000 100000)
    mkdir -p "$dir"
    "$BENCH_BIN/xcert-load" roster --address 127.0.0.1:7302 --token "$BENCH_ORG_TOKEN" --rows "$rows" \
        --certificate ROSTER-BENCH --site "$(head -1 "$BENCH_WORLD/qualified.txt")" --schools "$BENCH_WORLD/qualified.txt" \
        --server-pid "$(bench_pid svc-filing)" | tee "$dir/xcert.cells" | grep -v '^CELL '
    echo "$rows" >"$BENCH_WORLD/roster.rows"

    local csv=$dir/roster.csv
    "$BENCH_BIN/xcert-load" roster --address - --token - --rows "$rows" --certificate ROSTER-BENCH --site - \
        --schools "$BENCH_WORLD/qualified.txt" --csv-out "$csv"
    psql -X -q -v ON_ERROR_STOP=1 -c "CREATE SCHEMA IF NOT EXISTS bench" -c "DROP TABLE IF EXISTS bench.roster_copy" \
        -c "CREATE TABLE bench.roster_copy (LIKE filing.roster_candidates INCLUDING ALL)" \
        -c "CREATE INDEX ON bench.roster_copy (school_code, roster_id)" -c "CREATE INDEX ON bench.roster_copy (national_id_hmac)"
    local start end
    start=$(date +%s%N)
    psql -X -q -v ON_ERROR_STOP=1 -c "\\copy bench.roster_copy FROM '$csv' WITH (FORMAT csv)"
    end=$(date +%s%N)
    local seconds
    seconds=$(python3 -c "print(($end - $start) / 1e9)")
    peer_cell "psql-copy" 1 1 "$seconds" "$rows" 0 0 0 "rows a second of \\copy, CSV of the stored columns, same indexes" \
        | tee "$dir/copy.cells" | sed 's/^CELL /psql \\copy: /'
    rm -f "$csv"
    python3 "$BENCH_TOOL" fragment --id B3 --name "roster of $rows rows in 5,000-row chunks (rows/s)" \
        --description "CreateRoster, UploadChunk x $((rows / 5000)) one at a time, SealRoster vs psql \\copy of the same rows" \
        --xcert "$dir/xcert.cells" --peer "psql-copy=$dir/copy.cells" --headline 1x1 \
        --target 'XCert >= 0.5 of \copy=f["ratio"] >= 0.5' \
        --target 'filing < 150 MiB peak RSS=(f["peak_rss_mib"]["xcert"] or 0) < 150' \
        --note "req/s are rows a second; XCert's latencies are per 5,000-row chunk" \
        --note "registry (asked for each chunk's schools) peak RSS $(bench_peak_rss_mib "$(bench_pid svc-registry)") MiB" \
        --out "$BENCH_RESULTS/B3.json"
}
