#!/usr/bin/env python3
"""Summarizes a callgrind profile of a server per request.

    cgsummary.py CALLGRIND_FILE --per 'RPCServerC5admit' [--top 25]
    cgsummary.py CALLGRIND_FILE --requests 51234

Counts how often the function matching --per (a regex over mangled names) was called (or
takes --requests), and prints instructions per request: by category (the library or runtime part each function
belongs to, by self cost), the call counts per request of the runtime operations that tell
where the time goes (task switches, job enqueues, tasks created, mallocs, writes), and the
functions with the largest inclusive cost. Counts are instructions (Ir), not time: kernel
work (syscalls, wake-ups) is not in them.
"""
import argparse
import collections
import re


def parse(path):
    names, objects, object_of = {}, {}, {}
    self_cost = collections.Counter()
    calls = collections.Counter()
    edges = collections.Counter()
    fn = cfn = ob = None
    pending = None
    pattern = re.compile(r"^(ob|fl|fi|fe|fn|cfn|cob|cfi|cfl)=\((\d+)\)(?: (.*))?$")
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            m = pattern.match(line)
            if m:
                kind, index, name = m.groups()
                if kind in ("ob", "cob"):
                    if name:
                        objects[index] = name
                    if kind == "ob":
                        ob = index
                elif kind == "fn":
                    if name:
                        names[index] = name
                    fn = index
                    object_of.setdefault(index, ob)
                elif kind == "cfn":
                    if name:
                        names[index] = name
                    cfn = index
                continue
            if line.startswith("calls="):
                pending = int(line.split("=")[1].split()[0])
                continue
            if line and (line[0].isdigit() or line[0] in "+-*"):
                parts = line.split()
                if len(parts) >= 2:
                    cost = int(parts[1])
                    if pending is not None:
                        calls[cfn] += pending
                        edges[(fn, cfn)] += cost
                        pending = None
                    else:
                        self_cost[fn] += cost
    return names, objects, object_of, self_cost, calls, edges


def category(name, obj):
    if "libswift_Concurrency" in obj:
        return "Swift concurrency runtime (tasks, groups, executors)"
    if "libc.so" in obj and re.search(r"malloc|free|_int_|tcache|calloc|realloc", name):
        return "malloc/free"
    if "libc.so" in obj or "ld-linux" in obj:
        return "libc other (locks, memcpy, TLS, syscall stubs)"
    if "libswiftCore" in obj:
        if re.search(r"retain|release|RefCount|Dealloc|dealloc|allocObject|slowAlloc", name):
            return "Swift ARC + object allocation"
        if re.search(r"Access|TLSContext", name):
            return "Swift exclusivity checks"
        if re.search(r"Cast|Metadata|getCache|ConcurrentMap|onformance|getGeneric|instantiate", name):
            return "Swift dynamic casts + generic metadata"
        if re.search(r"Hasher|hash", name):
            return "hashing (Dictionary/Set)"
        return "Swift stdlib other"
    if re.search(r"7Logging", name):
        return "swift-log"
    if re.search(r"10Prometheus|11CoreMetrics|7Metrics", name):
        return "swift-metrics + Prometheus"
    if re.search(r"13SwiftProtobuf|Xcert_", name):
        return "SwiftProtobuf"
    if re.search(r"9XCertWire", name):
        return "XCertWire"
    if re.search(r"NIOPosix|NIOCore|_NIODataStructures|DequeModule", name):
        return "SwiftNIO"
    if re.search(r"FoundationEssentials|10Foundation", name) or "Foundation" in obj:
        return "Foundation"
    if name.startswith("$ss") or name.startswith("$sS"):
        return "Swift stdlib (specialized)"
    return "other (" + obj.split("/")[-1] + ")"


COUNTERS = [
    ("jobs enqueued on an event loop (task hops)", r"^swift_task_enqueue$"),
    ("jobs run", r"^swift_job_run$"),
    ("swift_task_switch", r"^swift_task_switch$"),
    ("tasks created", r"^swift_task_create$"),
    ("MultiThreadedEventLoopGroup.any()", r"MultiThreadedEventLoopGroupC6anySE"),
    ("NIO scheduleTask (timers)", r"SelectableEventLoopC12scheduleTask2in_7NIOCore9ScheduledVyxGAF10TimeAmountV_xyKctlF$"),
    ("Logger metadata set", r"LoggerV11metadataKey.*cis$"),
    ("malloc", r"^malloc$"),
    ("write(2)", r"^write$"),
    ("writev(2)", r"^writev$"),
    ("read(2)", r"^read$"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--per", help="regex of a function called once per request (counts requests)")
    parser.add_argument("--requests", type=int, help="the number of requests, when no function counts them")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    names, objects, object_of, self_cost, calls, edges = parse(args.file)
    total = sum(self_cost.values())
    if args.per:
        per = [i for i, n in names.items() if re.search(args.per, n)]
        requests = max((calls[i] for i in per), default=0)
        if requests == 0:
            raise SystemExit(f"no call of /{args.per}/ in the profile")
    elif args.requests:
        requests = args.requests
    else:
        raise SystemExit("give --per or --requests")
    print(f"{total:,} instructions, {requests:,} requests: {total / requests:,.0f} instructions per request\n")

    categories = collections.Counter()
    for index, cost in self_cost.items():
        categories[category(names.get(index, "?"), objects.get(object_of.get(index), ""))] += cost
    print("by category (self cost)")
    for name, cost in categories.most_common():
        print(f"  {cost / total * 100:5.1f} %  {cost / requests:8,.0f} /request  {name}")

    print("\ncalls per request")
    for label, pattern in COUNTERS:
        count = sum(calls[i] for i, n in names.items() if re.search(pattern, n))
        print(f"  {count / requests:7.2f}  {label}")

    inclusive = collections.Counter(self_cost)
    for (caller, callee), cost in edges.items():
        if caller != callee:
            inclusive[caller] += cost
    print(f"\nlargest inclusive costs (per request; async functions appear as their partial functions)")
    shown = 0
    for index, cost in inclusive.most_common():
        name = names.get(index, "?")
        if "'" in name or re.search(r"^(0x|\?\?\?)|start_thread|clone|ThreadOps|setupThread|NIOThread|runOneD4Tick|_blockingWaitForWork|swift_job_run|runJobInEstablished|SelectableEventLoopC3run|runSynchronously|EventLoopC7execute|Global", name):
            continue
        print(f"  {cost / requests:8,.0f}  {cost / total * 100:5.1f} %  calls/request {calls[index] / requests:5.2f}  {name[:140]}")
        shown += 1
        if shown >= args.top:
            break


if __name__ == "__main__":
    main()
