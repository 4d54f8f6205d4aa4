# shellcheck shell=bash
# B1: unary RPC, 64-byte message, 1 / 16 / 256 in flight over 1 and 4 connections.
#   XCert     echo-xcert: XCertWire's RPCServer (as the services set it up), /xcert.bench.v1.Echo/Echo
#   peer      echo-grpc: the same method and message on grpc-swift-2 over HTTP/2
#   floor     echo-raw: a SwiftNIO server echoing the same length-prefixed frames
# XCert and the floor get the same load generator (load-frames: pre-encoded request frames,
# pipelined), the gRPC peer grpc-swift-2's own client (load-grpc). The cells run
# interleaved (XCert, gRPC, raw for each cell), the three servers up all along.
# Targets (issue 8): XCert >= 50 % of the floor's throughput at 1x256 and 4x256; p99 < 3 ms
# at 4x256; every server under 150 MiB peak RSS.
bench_register B1 "unary echo: XCertWire vs grpc-swift-2 vs raw NIO" \
    --products "echo-xcert echo-grpc echo-raw load-frames load-grpc"

B1_CELLS=${B1_CELLS:-"1x1 1x16 1x256 4x1 4x16 4x256"}

# b1_measure CELLS_FILE COMMAND...: runs one load generator, shows its summary line and
# appends its CELL line to CELLS_FILE.
b1_measure() {
    local cells=$1 output
    shift
    output=$(timeout 180 "$@") || { echo "$output"; echo "B1: load generator failed: $*" >&2; return 1; }
    grep -v '^CELL ' <<<"$output" || true
    grep '^CELL ' <<<"$output" >>"$cells"
}

scenario_B1() {
    local dir=$BENCH_WORK/B1 warmup seconds
    warmup=$(bench_duration 2 0.5)
    seconds=$(bench_duration 8 2)
    mkdir -p "$dir"
    : >"$dir/xcert.cells"
    : >"$dir/grpc.cells"
    : >"$dir/raw.cells"

    bench_start b1-xcert "$BENCH_BIN/echo-xcert"
    bench_start b1-grpc "$BENCH_BIN/echo-grpc"
    bench_start b1-raw "$BENCH_BIN/echo-raw"
    local xcert_port grpc_port raw_port
    xcert_port=$(bench_wait_listening b1-xcert)
    grpc_port=$(bench_wait_listening b1-grpc)
    raw_port=$(bench_wait_listening b1-raw)
    echo "B1: ${warmup} s warm-up + ${seconds} s per cell and server; XCert and the raw echo get load-frames"
    echo "    (pre-encoded pipelined request frames, answers scanned for their id only, so that the client"
    echo "    is not the bottleneck: its cores are the 'cli' figure), grpc-swift-2 gets its own client."

    local cell connections in_flight
    for cell in $B1_CELLS; do
        connections=${cell%x*}
        in_flight=${cell#*x}
        local common=(--connections "$connections" --in-flight "$in_flight" --seconds "$seconds" --warmup "$warmup")
        b1_measure "$dir/xcert.cells" "$BENCH_BIN/load-frames" --address "127.0.0.1:$xcert_port" --expect response \
            --target xcert --server-pid "$(bench_pid b1-xcert)" "${common[@]}"
        b1_measure "$dir/grpc.cells" "$BENCH_BIN/load-grpc" --address "127.0.0.1:$grpc_port" \
            --target grpc-swift-2 --server-pid "$(bench_pid b1-grpc)" "${common[@]}"
        b1_measure "$dir/raw.cells" "$BENCH_BIN/load-frames" --address "127.0.0.1:$raw_port" --expect echo \
            --target raw-echo --server-pid "$(bench_pid b1-raw)" "${common[@]}"
    done
    bench_stop b1-xcert
    bench_stop b1-grpc
    bench_stop b1-raw

    python3 "$BENCH_TOOL" fragment --id B1 --name "unary echo, 64-byte message" \
        --description "XCertWire RPCServer vs grpc-swift-2 (HTTP/2) vs a raw SwiftNIO frame echo; cells are connections x in flight" \
        --xcert "$dir/xcert.cells" --peer "grpc-swift-2=$dir/grpc.cells" --peer "raw-echo=$dir/raw.cells" \
        --headline 4x256 --floor-peer raw-echo --floor-cells 1x256,4x256 \
        --target 'XCert >= 50 % of the raw echo at 1x256 and 4x256=f["floor"] >= 0.5' \
        --target 'XCert p99 < 3 ms at 4x256=f["xcert_p99_ms"] < 3' \
        --target 'every server < 150 MiB peak RSS=max(v or 0 for v in f["peak_rss_mib"].values()) < 150' \
        --note "ratio: XCert / grpc-swift-2 throughput at 4x256; floor: the lower of XCert / raw echo at 1x256 and 4x256" \
        --note "load-frames warm-up ${warmup} s, ${seconds} s measured per cell" \
        --out "$BENCH_RESULTS/B1.json"
}
