#!/usr/bin/env python3
"""Per-step summary of a libtorch Chrome trace: ours (scripts/profile/torch_trace.cpp) or
PyTorch's (scripts/profile/pytorch_step_trace.py), so the two compare line by line.

    python3 scripts/profile/trace_ops.py TRACE --marker 'aten::_fused_adamw_'   # ours
    python3 scripts/profile/trace_ops.py TRACE --marker '^step$'                # PyTorch's

Steps are found from a CPU op that starts each step's last phase (a marker): markers less than
--gap ms apart belong to one step, or each --per-step markers in a row. The first --skip steps are left out (`transfer speed` starts
a fresh optimizer for its timed steps, whose first step allocates the moments); the window runs
from the next step's marker to the last one's. Per step: host wall time, CUDA kernels (count, summed time,
time the GPU was busy), CUDA runtime calls (launches, synchronisations, copies: a
synchronisation inside a step stops the host from running ahead), the heaviest kernels, and
the most frequent top-level CPU ops.
"""
import argparse, collections, json, re


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("trace")
    p.add_argument("--marker", required=True, help="regex of the CPU op marking each step")
    p.add_argument("--gap", type=float, default=3.0, help="ms between two steps' markers, at least")
    p.add_argument("--per-step", type=int, default=0,
                   help="markers per step (e.g. 103 fused AdamW calls for MiniLM): group them so, "
                        "not by --gap (a busy CPU spreads one step's markers)")
    p.add_argument("--skip", type=int, default=1, help="steps to leave out at the start")
    p.add_argument("--top", type=int, default=30)
    a = p.parse_args()
    events = [e for e in json.load(open(a.trace))["traceEvents"] if e.get("ph") == "X"]
    by_cat = collections.defaultdict(list)
    for e in events:
        by_cat[e.get("cat", "")].append(e)
    cpu = sorted(by_cat["cpu_op"] + by_cat["user_annotation"], key=lambda e: (e["ts"], -e["dur"]))
    marker = re.compile(a.marker)
    starts, last, seen = [], None, 0
    for e in cpu:
        if marker.search(e["name"]):
            if a.per_step:
                if seen % a.per_step == 0:
                    starts.append(e["ts"])
                seen += 1
            elif last is None or e["ts"] - last > a.gap * 1e3:
                starts.append(e["ts"])
            last = e["ts"]
    if len(starts) < a.skip + 2:
        raise SystemExit(f"{a.trace}: {len(starts)} steps marked by {a.marker!r}; need "
                         f"{a.skip + 2} or more")
    lo, hi, steps = starts[a.skip], starts[-1], len(starts) - a.skip - 1
    inside = lambda e: lo <= e["ts"] < hi
    per = lambda x: x / steps
    print(f"{a.trace}: {steps} steps, host wall {per(hi - lo) / 1e3:.2f} ms/step")

    runtime = [e for e in by_cat["cuda_runtime"] + by_cat["cuda_driver"] if inside(e)]
    launched = {e["args"].get("correlation") for e in runtime}
    kernels = [e for e in by_cat["kernel"] if e["args"].get("correlation") in launched]
    if kernels:
        busy, end = 0.0, None
        for k in sorted(kernels, key=lambda e: e["ts"]):
            s, f = k["ts"], k["ts"] + k["dur"]
            if end is None or s >= end:
                busy += f - s
                end = f
            elif f > end:
                busy += f - end
                end = f
        total = sum(k["dur"] for k in kernels)
        print(f"kernels: {per(len(kernels)):.0f}/step, {per(total) / 1e3:.2f} ms/step summed, "
              f"GPU busy {per(busy) / 1e3:.2f} ms/step")
    for cat in ("gpu_memcpy", "gpu_memset"):
        ops = [e for e in by_cat[cat] if e["args"].get("correlation") in launched]
        if ops:
            kinds = collections.Counter(e["name"] for e in ops)
            print(f"{cat}: " + ", ".join(f"{n} {per(c):.1f}/step" for n, c in kinds.most_common()))
    calls = collections.defaultdict(lambda: [0, 0.0])
    for e in runtime:
        calls[e["name"]][0] += 1
        calls[e["name"]][1] += e["dur"]
    if calls:
        print("CUDA runtime calls per step (count, host ms):")
        for name, (n, t) in sorted(calls.items(), key=lambda kv: -kv[1][1])[:15]:
            print(f"  {per(n):8.1f} {per(t) / 1e3:8.3f}  {name}")
    if kernels:
        time = collections.defaultdict(lambda: [0, 0.0])
        for k in kernels:
            time[k["name"]][0] += 1
            time[k["name"]][1] += k["dur"]
        print(f"heaviest kernels per step (count, ms), of {len(time)} kinds:")
        for name, (n, t) in sorted(time.items(), key=lambda kv: -kv[1][1])[: a.top]:
            print(f"  {per(n):6.1f} {per(t) / 1e3:7.3f}  {name[:110]}")
    stack, top = [], collections.Counter()
    for e in sorted((e for e in by_cat["cpu_op"] if inside(e)),
                    key=lambda e: (e["tid"], e["ts"], -e["dur"])):
        while stack and (stack[-1]["tid"] != e["tid"] or stack[-1]["ts"] + stack[-1]["dur"] <= e["ts"]):
            stack.pop()
        if not stack:
            top[e["name"]] += 1
        stack.append(e)
    print(f"top-level CPU ops: {per(sum(top.values())):.0f}/step; most frequent:")
    for name, n in top.most_common(a.top):
        print(f"  {per(n):7.1f}  {name[:100]}")


if __name__ == "__main__":
    main()
