"""The soak's end: its JSON report and the short table a person reads (bench/soak.py)."""

import json


def pct(values, q):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * q))] * 1000, 1) if values else None


def report(env, fleet, args, minutes_run):
    rec, state, series = env.rec, env.poller.state, env.poller.series
    warm, end = ({r.get("label"): r for r in env.poller.rows}.get(k) for k in ("warm-up", "end"))
    children = fleet.final_counts()
    mismatched = [r for r in children if not r["exact"]]
    v2_guids = [n["mguid"] for n in state.get("node-instances", [])
                if n["hostname"].startswith("soak-v2")]
    out = {"minutes": round(minutes_run, 1), "children": len(children), "v2_children": len(env.v2),
           "resources": {k: {"warm_up": warm[k], "end": end[k], "delta": round(end[k] - warm[k], 2),
                             "growth_pct": round(100 * (end[k] - warm[k]) / warm[k], 2)}
                         for k in ("rss_kib", "fds", "threads", "cpu_s")} if warm and end else None,
           "samples": env.poller.rows,
           "counters": {"aclk_state": state.get("counters", {}),
                        "reconnect_count": state.get("reconnect-count"),
                        # Every family but the per-stream ones and histogram buckets.
                        "metrics": {k: v for k, v in series.items() if "_bucket" not in k and not
                                    k.startswith(("aclkd_stream_samples_total{",
                                                  "aclkd_stream_bytes_total{"))}},
           "latency_ms": {k: {"n": len(v), "p50": pct(v, 0.5), "p99": pct(v, 0.99),
                              "max": pct(v, 1.0)} for k, v in sorted(rec.latency.items())},
           "run": dict(sorted(rec.counts.items())), "broker_kills": env.kills,
           "counts_exact": not mismatched,
           # aclkd's own total minus the v2 children's streams (connected all along) against
           # what the replayed children sent over all their sessions.
           "counts": {"replayed_samples_sent": sum(r["sent"] for r in children),
                      "aclkd_total_minus_v2_streams":
                          int(series.get("aclkd_samples_dropped_total", -1))
                          - sum(env.poller.streams.get(g, 0) for g in v2_guids),
                      "per_child": children},
           "mismatches": mismatched, "dead": env.dead(), "errors": rec.errors, "events": rec.events,
           "bounds": {"rss_growth_pct": args.max_rss_growth, "fds_delta": args.max_fd_growth,
                      "threads_delta": args.max_thread_growth}}
    failures = [f"{len(mismatched)} children's counts not exact"] if mismatched else []
    failures += ["dead: " + ", ".join(out["dead"])] if out["dead"] else []
    failures += [f"{len(rec.errors)} errors"] if rec.errors else []
    r = out["resources"]
    if not r:
        failures.append("no warm-up or end sample")
    for key, kind, bound in (("rss_kib", "growth_pct", args.max_rss_growth),
                             ("fds", "delta", args.max_fd_growth),
                             ("threads", "delta", args.max_thread_growth)):
        if r and r[key][kind] > bound:
            failures.append(f"{key} grew {r[key][kind]} ({kind}), bound {bound}")
    out["failures"], out["pass"] = failures, not failures
    return out


def print_table(out):
    print(f"\n== soak: {out['minutes']} min, {out['children']} replayed + {out['v2_children']} "
          f"v2 children, {out['broker_kills']} broker kills, aclk reconnect-count "
          f"{out['counters']['reconnect_count']} ==")
    print(f"{'':12}{'warm-up':>12}{'end':>12}{'growth':>10}")
    for k, v in (out["resources"] or {}).items():
        print(f"{k:12}{v['warm_up']:>12}{v['end']:>12}{str(v['growth_pct']) + '%':>10}")
    print(f"{'latency (ms)':36}{'n':>6}{'p50':>9}{'p99':>9}{'max':>9}")
    for k, v in out["latency_ms"].items():
        print(f"  {k:34}{v['n']:>6}{v['p50']:>9}{v['p99']:>9}{v['max']:>9}")
    for k, v in out["run"].items():
        print(f"  {k:56}{v:>8}")
    c = out["counts"]
    print(f"counts exact: {'yes' if out['counts_exact'] else 'NO'} for "
          f"{sum(r['exact'] for r in c['per_child'])}/{len(c['per_child'])} children; replayed "
          f"samples sent {c['replayed_samples_sent']}, aclkd's total minus the v2 streams "
          f"{c['aclkd_total_minus_v2_streams']}")
    for line in [f"MISMATCH {json.dumps(r)}" for r in out["mismatches"]] + out["errors"][:30]:
        print("  " + line)
    print("PASS" if out["pass"] else "FAIL: " + "; ".join(out["failures"]))
