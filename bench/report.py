#!/usr/bin/env python3
"""Turns one benchmark run (hyperfine JSON exports and rss.tsv in WORK) into a Markdown section
with times, throughput and ratios against the reference tool of each table."""
import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone

MIB = 1 << 20

# file -> (title, bytes moved per run (None: not a throughput table), reference command name)
TABLES = {
    "sftp": [
        ("upload.json", "1 GiB upload", 1024 * MIB, "sftp put"),
        ("download.json", "1 GiB download", 1024 * MIB, "sftp get"),
        ("connect.json", "Connect + authenticate", None, "ssh true"),
        ("small.json", "2,000 files of 4 KiB, recursive upload", 2000 * 4096, "sftp put -r"),
        ("concurrent.json", "5 concurrent 200 MiB uploads", None, None),
    ],
    "reach": [
        ("far-upload.json", "256 MiB upload through a 50 ms round trip (delay proxy)", 256 * MIB, "sftp put"),
        ("far-download.json", "256 MiB download through a 50 ms round trip (delay proxy)", 256 * MIB, "sftp get"),
        ("near-upload.json", "256 MiB upload on loopback", 256 * MIB, "sftp put"),
        ("near-download.json", "256 MiB download on loopback", 256 * MIB, "sftp get"),
        ("small-down.json", "2,000 files of 4 KiB, recursive download", 2000 * 4096, "sftp get -r"),
        ("jump.json", "Connect + authenticate, direct and through one jump host", None, "ferry test (direct)"),
    ],
    "ftp": [
        ("upload.json", "1 GiB upload", 1024 * MIB, "curl -T"),
        ("download.json", "1 GiB download", 1024 * MIB, "curl -o"),
    ],
}


def load(path):
    """A table's results: X.json, then X-slow.json (tools too slow to run more than once)."""
    results = {}
    for part in (path, path[: -len(".json")] + "-slow.json"):
        if not os.path.exists(part):
            continue
        with open(part) as f:
            found = {r["command"]: r for r in json.load(f)["results"]}
        commands = part[: -len(".json")] + ".commands"
        if os.path.exists(commands):
            with open(commands) as f:
                for line in f:
                    label, command = line.rstrip("\n").split("\t", 1)
                    if label in found:
                        found[label]["command_line"] = command
        results.update(found)
    return results


def median(result):
    """The median time: robust to the slow spells of a shared machine, unlike the mean."""
    return result.get("median") or result["mean"]


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cores = os.cpu_count()
    load1 = os.getloadavg()[0]
    return f"{cpu}, {cores} cores, load {load1:.1f} at the start of the report, {platform.release()}"


def concurrent_rows(results):
    one = results.get("ferry put, 1 x 200 MiB")
    five = results.get("ferry put, 5 x 200 MiB")
    if not one or not five:
        return []
    single = 200 * MIB / median(one) / 1e6
    aggregate = 5 * 200 * MIB / median(five) / 1e6
    return [
        "",
        f"Aggregate throughput of 5 concurrent uploads: **{aggregate:.0f} MB/s** against "
        f"{single:.0f} MB/s for one transfer: **{aggregate / single:.2f}x**.",
    ]


def table(title, results, size, reference):
    ref = results.get(reference) if reference else None
    lines = [f"### {title}", ""]
    head = "| command | runs | mean | ± | median | min |"
    rule = "|---|---:|---:|---:|---:|---:|"
    if size:
        head += " throughput |"
        rule += "---:|"
    if reference:
        head += f" vs `{reference}` |"
        rule += "---:|"
    lines += [head, rule]
    for name, r in results.items():
        row = (f"| `{name}` | {len(r['times'])} | {r['mean']:.3f} s | {r['stddev'] or 0:.3f} "
               f"| {median(r):.3f} s | {r['min']:.3f} s |")
        if size:
            row += f" {size / median(r) / 1e6:.0f} MB/s |"
        if ref:
            # Throughput ratio of medians: >1 means faster than the reference.
            row += f" {median(ref) / median(r):.2f}x |"
        elif reference:
            row += " - |"
        lines.append(row)
    lines.append("")
    lines.append("Commands:")
    lines.append("")
    for name, r in results.items():
        lines.append(f"- `{name}`: `{r.get('command_line', name)}`")
    return lines


def main():
    kind, work, script = sys.argv[1], sys.argv[2], sys.argv[3]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"## {kind.upper()} (`bench/{os.path.basename(script)}`)", ""]
    out.append(f"Run {now} at commit `{commit}` on {machine()}. Ratios are throughput ratios "
               "(reference median / command median; the commands ran in interleaved rounds): above 1.00x "
               "is faster than the reference. "
               "Loopback; sources and destinations on a tmpfs (`BENCH_TMPFS=0` for the disk); ferry verifies size and SHA-256 unless noted.")
    out.append("")
    for file, title, size, reference in TABLES[kind]:
        path = os.path.join(work, file)
        if not os.path.exists(path):
            continue
        results = load(path)
        out += table(title, results, size, reference)
        if file == "concurrent.json":
            out += concurrent_rows(results)
        out.append("")
    rss = os.path.join(work, "rss.tsv")
    if os.path.exists(rss):
        out += ["### Peak memory (`/usr/bin/time -v`, maximum resident set size)", "",
                "| command | peak RSS |", "|---|---:|"]
        with open(rss) as f:
            for line in f:
                label, kib = line.rstrip("\n").split("\t")
                out.append(f"| {label} | {int(kib) / 1024:.1f} MiB |")
        out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
