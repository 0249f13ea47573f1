#!/usr/bin/env python3
"""Merges hyperfine JSON exports of interleaved rounds (one run of each command per round)
into one export: per command, all its times, with mean, stddev, min and max recomputed.
Prints one summary line per command."""
import json
import statistics
import sys

out, rounds = sys.argv[1], sys.argv[2:]
merged = {}
for path in rounds:
    with open(path) as f:
        for result in json.load(f)["results"]:
            entry = merged.setdefault(result["command"], {"command": result["command"], "times": []})
            entry["times"].extend(result["times"])
results = []
for entry in merged.values():
    times = entry["times"]
    entry.update(
        mean=statistics.fmean(times),
        stddev=statistics.stdev(times) if len(times) > 1 else None,
        median=statistics.median(times),
        min=min(times),
        max=max(times),
    )
    results.append(entry)
    print(f"{entry['command']}: mean {entry['mean']:.3f} s, min {entry['min']:.3f} s, {len(times)} runs")
with open(out, "w") as f:
    json.dump({"results": results}, f)
