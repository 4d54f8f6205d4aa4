# shellcheck shell=bash
# B5: the province's outcomes and evaluation recomputed from B3's candidates (B5 uploads a
# roster first when B3 did not run): assessment forgets its outcomes, follows filing's sealed
# rosters from the start, and answers the year's results and appendix table 1; against the
# same aggregation (declared, approved, completed, passed per certificate, level, year and
# school) as one SQL statement through psql. req/s is recomputations a second, so the ratio is
# the statement's time over XCert's: at most 2x the statement is a ratio of at least 0.5.
# shellcheck source=Benchmarks/scenarios/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"
bench_register B5 "recompute a province's outcomes vs one SQL statement" --products "xcert-load" --main --pg

scenario_B5() {
    services_up
    local dir=$BENCH_WORK/B5
    mkdir -p "$dir"
    if [ ! -f "$BENCH_WORLD/roster.rows" ]; then
        local rows
        rows=$(bench_duration 1000000 100000)
        "$BENCH_BIN/xcert-load" roster --address 127.0.0.1:7302 --token "$BENCH_ORG_TOKEN" --rows "$rows" --certificate ROSTER-BENCH \
            --site "$(head -1 "$BENCH_WORLD/qualified.txt")" --schools "$BENCH_WORLD/qualified.txt" | grep -v '^CELL '
        echo "$rows" >"$BENCH_WORLD/roster.rows"
    fi
    # Assessment, just started, first catches up with the feed: the rebuild starts from there.
    "$BENCH_BIN/xcert-load" rebuild --address 127.0.0.1:7303 --token "$BENCH_ADMIN_TOKEN" --year 2025 >/dev/null
    "$BENCH_BIN/xcert-load" rebuild --address 127.0.0.1:7303 --token "$BENCH_ADMIN_TOKEN" --year 2025 \
        --server-pid "$(bench_pid svc-assessment)" | tee "$dir/xcert.cells" | grep -v '^CELL '
    local start end seconds
    start=$(date +%s%N)
    psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -c "
        SELECT r.certificate_code, r.level, extract(year FROM r.exam_date)::integer AS year, c.school_code,
               count(*) AS declared, count(*) FILTER (WHERE c.approved) AS approved,
               count(*) FILTER (WHERE c.attended) AS completed, count(*) FILTER (WHERE c.passed) AS passed
        FROM filing.rosters r JOIN filing.roster_candidates c ON c.roster_id = r.id
        WHERE r.state = 'sealed' GROUP BY 1, 2, 3, 4"
    end=$(date +%s%N)
    seconds=$(python3 -c "print(($end - $start) / 1e9)")
    local micro
    micro=$(python3 -c "print(($end - $start) / 1e3)")
    peer_cell "psql-aggregate" 1 1 "$seconds" 1 0 "$micro" "$micro" "one GROUP BY over every sealed roster's candidates" \
        | tee "$dir/sql.cells" | sed 's/^CELL /one SQL statement: /'
    python3 "$BENCH_TOOL" fragment --id B5 --name "recompute outcomes of $(cat "$BENCH_WORLD/roster.rows") candidates (recomputations/s)" \
        --description "RebuildOutcomes until every roster is counted again, then ListResults and GetDeclarationTable, vs one SQL aggregation" \
        --xcert "$dir/xcert.cells" --peer "psql-aggregate=$dir/sql.cells" --headline 1x1 \
        --target 'XCert at most 2x the statement=f["ratio"] >= 0.5' \
        --target 'assessment < 150 MiB peak RSS=(f["peak_rss_mib"]["xcert"] or 0) < 150' \
        --note "req/s: recomputations a second (1 / seconds); ratio = the statement's seconds / XCert's" \
        --out "$BENCH_RESULTS/B5.json"
}
