#!/usr/bin/env python3
"""What scripts/bench and its scenarios share to turn measurements into results.

    bench.py fragment ...   one scenario's JSON fragment from its load generators' CELL lines,
                            and its RESULT line (printed)
    bench.py report ...     every fragment into Benchmarks/results/latest.json, and one table

A load generator prints, per cell, `CELL {json}` (see Benchmarks/Sources/BenchSupport): target,
connections, in_flight, rps, p50_us, p99_us, p999_us, client_cores, server_cores,
server_peak_rss_mib, ... A scenario collects those lines in one file per target and calls
`fragment`; see Benchmarks/README.md for the fragment's shape.
"""
import argparse
import json
import os
import subprocess
import sys
import time


def read_cells(path):
    """The CELL lines of a file, by cell name ("<connections>x<in_flight>")."""
    cells = {}
    with open(path) as f:
        for line in f:
            if line.startswith("CELL "):
                cell = json.loads(line[5:])
                cells[f"{cell['connections']}x{cell['in_flight']}"] = cell
    return cells


def cell_order(name):
    connections, in_flight = name.split("x")
    return (int(connections), int(in_flight))


def ratio(a, b):
    if a is None or b is None or not b.get("rps"):
        return None
    return a["rps"] / b["rps"]


def fmt(value, digits=2):
    return "-" if value is None else f"{value:.{digits}f}"


def fragment(args):
    xcert = read_cells(args.xcert)
    peers = []
    for spec in args.peer:
        label, _, path = spec.partition("=")
        peers.append((label, read_cells(path)))
    names = sorted(set(xcert) | {n for _, cells in peers for n in cells}, key=cell_order)
    cells = []
    for name in names:
        for label, peer_cells in peers:
            cells.append({
                "cell": name,
                "peer": label,
                "xcert": xcert.get(name),
                "peer_stats": peer_cells.get(name),
                "ratio": ratio(xcert.get(name), peer_cells.get(name)),
            })

    def peak(cells_by_name):
        values = [c.get("server_peak_rss_mib") for c in cells_by_name.values() if c.get("server_peak_rss_mib")]
        return max(values) if values else None

    servers = {"xcert": {"peak_rss_mib": peak(xcert)}}
    for label, peer_cells in peers:
        servers[label] = {"peak_rss_mib": peak(peer_cells)}

    figures = {}
    words = [f"RESULT {args.id}"]
    headline = args.headline or (names[-1] if names else None)
    first_peer = peers[0] if peers else None
    if first_peer and headline:
        figures["ratio"] = ratio(xcert.get(headline), first_peer[1].get(headline))
        figures["ratio_peer"] = first_peer[0]
        figures["ratio_cell"] = headline
        words.append(f"ratio={fmt(figures['ratio'], 3)}")
    if headline:
        # Each peer's ratio at the headline cell, for targets against a peer other than the first.
        figures["ratio_by_peer"] = {label: ratio(xcert.get(headline), cells_.get(headline)) for label, cells_ in peers}
        for label, value in figures["ratio_by_peer"].items():
            if label != (first_peer[0] if first_peer else None):
                words.append(f"ratio_{label.replace(' ', '_')}={fmt(value, 3)}")
    if args.floor_peer:
        floor_cells = dict(peers)[args.floor_peer]
        shares = {}
        for name in (args.floor_cells.split(",") if args.floor_cells else names):
            shares[name] = ratio(xcert.get(name), floor_cells.get(name))
        known = [v for v in shares.values() if v is not None]
        figures["floor"] = min(known) if known else None
        figures["floor_by_cell"] = shares
        words.append(f"floor={fmt(figures['floor'], 3)}")
        for name, share in shares.items():
            words.append(f"floor_{name}={fmt(share, 3)}")
    if headline and xcert.get(headline):
        figures["xcert_rps"] = xcert[headline]["rps"]
        figures["xcert_p99_ms"] = xcert[headline]["p99_us"] / 1000
        words.append(f"xcert_rps_{headline}={xcert[headline]['rps']:.0f}")
        words.append(f"p99_ms_{headline}={figures['xcert_p99_ms']:.3f}")
        if first_peer and first_peer[1].get(headline):
            words.append(f"{first_peer[0]}_rps_{headline}={first_peer[1][headline]['rps']:.0f}")
        if args.floor_peer and dict(peers)[args.floor_peer].get(headline):
            words.append(f"{args.floor_peer}_rps_{headline}={dict(peers)[args.floor_peer][headline]['rps']:.0f}")
    rss = {label: s["peak_rss_mib"] for label, s in servers.items()}
    figures["peak_rss_mib"] = rss
    words.append("rss_mib=" + ",".join(f"{label}:{fmt(v, 1)}" for label, v in rss.items()))

    targets = []
    for spec in args.target or []:
        # what=expression over figures, e.g. "floor>=0.5"
        what, _, expression = spec.partition("=")
        try:
            met = bool(eval(expression, {}, {"f": figures, "min": min, "max": max}))
        except Exception:
            met = None
        targets.append({"what": what, "check": expression, "met": met})
    if targets:
        words.append("targets=" + ("met" if all(t["met"] for t in targets) else "missed"))
    figures_line = " ".join(words)

    out = {
        "id": args.id,
        "name": args.name,
        "description": args.description or "",
        "quick": os.environ.get("BENCH_QUICK") == "1",
        "cells": cells,
        "servers": servers,
        "figures": figures,
        "targets": targets,
        "result": figures_line,
        "notes": args.note or [],
    }
    with open(args.out, "w") as f:
        json.dump(out, f, indent=2, sort_keys=True)
        f.write("\n")
    print(figures_line)


def run(command):
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return None


def machine():
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    revision = run(["git", "rev-parse", "HEAD"])
    dirty = run(["git", "status", "--porcelain", "--untracked-files=no"])
    return {
        "nproc": int(run(["nproc"]) or 0),
        "cpu_model": model,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "git_revision": revision,
        "git_dirty": bool(dirty),
        "swift": (run(["swift", "--version"]) or "").splitlines()[0] if run(["swift", "--version"]) else None,
        "kernel": run(["uname", "-r"]),
    }


def report(args):
    fragments = []
    for name in sorted(os.listdir(args.results)):
        if name.endswith(".json"):
            with open(os.path.join(args.results, name)) as f:
                fragments.append(json.load(f))
    order = {sid: i for i, sid in enumerate(args.order.split(","))} if args.order else {}
    fragments.sort(key=lambda s: (order.get(s["id"], len(order)), s["id"]))
    document = {
        "machine": machine(),
        "quick": args.quick,
        "wall_seconds": args.wall,
        "scenarios": {s["id"]: s for s in fragments},
        "failed": args.failed.split(",") if args.failed else [],
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    temporary = args.out + ".tmp"
    with open(temporary, "w") as f:
        json.dump(document, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(temporary, args.out)

    header = ["scenario", "cell", "peer", "XCert req/s", "p50 µs", "p99 µs",
              "peer req/s", "p50 µs", "p99 µs", "ratio", "RSS MiB X/peer", "cores X srv/cli"]
    rows = []
    for s in fragments:
        for c in s["cells"]:
            x, p = c.get("xcert") or {}, c.get("peer_stats") or {}
            rows.append([
                s["id"], c["cell"], c["peer"],
                fmt(x.get("rps"), 0), fmt(x.get("p50_us"), 0), fmt(x.get("p99_us"), 0),
                fmt(p.get("rps"), 0), fmt(p.get("p50_us"), 0), fmt(p.get("p99_us"), 0),
                fmt(c.get("ratio"), 3),
                f"{fmt(x.get('server_peak_rss_mib'), 0)}/{fmt(p.get('server_peak_rss_mib'), 0)}",
                f"{fmt(x.get('server_cores'))}/{fmt(x.get('client_cores'))}",
            ])
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(str(v).rjust(w) if i >= 3 else str(v).ljust(w) for i, (v, w) in enumerate(zip(r, widths)))
    print(line(header))
    print("  ".join("-" * w for w in widths))
    previous = None
    for r in rows:
        if previous is not None and r[0] != previous:
            print()
        previous = r[0]
        print(line(r))
    print()
    for s in fragments:
        print(s["result"])
    for sid in document["failed"]:
        print(f"RESULT {sid} failed")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    f = commands.add_parser("fragment", help="one scenario's fragment and RESULT line")
    f.add_argument("--id", required=True)
    f.add_argument("--name", required=True)
    f.add_argument("--description")
    f.add_argument("--out", required=True, help="the fragment file, e.g. $BENCH_RESULTS/B1.json")
    f.add_argument("--xcert", required=True, help="file with XCert's CELL lines")
    f.add_argument("--peer", action="append", default=[], help="LABEL=FILE with a peer's CELL lines; the first is `ratio`'s")
    f.add_argument("--headline", help="the cell of `ratio` and p99 (default: the last cell)")
    f.add_argument("--floor-peer", help="the peer label whose share XCert's throughput is reported as `floor`")
    f.add_argument("--floor-cells", help="cells the floor is the minimum over (default: all)")
    f.add_argument("--target", action="append", help="WHAT=EXPR over f (figures), e.g. 'floor 50%%=f[\"floor\"]>=0.5'")
    f.add_argument("--note", action="append")
    f.set_defaults(func=fragment)

    r = commands.add_parser("report", help="latest.json and the table")
    r.add_argument("--results", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--order")
    r.add_argument("--quick", action="store_true")
    r.add_argument("--wall", type=float)
    r.add_argument("--failed", default="")
    r.set_defaults(func=report)

    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
