#!/usr/bin/env python3
"""The app section of bench/RESULTS.md from bench/app.sh's JSON files."""
import datetime, json, os, subprocess, sys

work, entries, history = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
load = lambda name: json.load(open(os.path.join(work, f"app-{name}.json")))
listing, start, idle = load("listing"), load("start"), load("idle")
repo = os.path.dirname(os.path.abspath(__file__))
commit = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
ok = lambda good: "yes" if good else "**no**"

print("## The app (`bench/app.sh`)\n")
print(f"Run {now} at commit `{commit}` on {cpu}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at the end. "
      "Release build; loopback OpenSSH sshd; the app in `bench/app_bench.rs` is the real `App` "
      f"and engine drawn through crossterm into a sink at {listing['terminal']}, each input followed by a frame "
      "(the event loop coalesces inputs into at most 30 frames a second, so this is the worst case). "
      "A frame's time is the update plus the draw, as wall-clock time and as the CPU time of the "
      "thread that did it (on this shared 2-core machine other work preempts the thread; CPU time "
      "is the frame's own cost).\n")
print(f"### A remote directory of {listing['entries']:,} entries\n")
print("| measure | value | target | met |")
print("|---|---:|---:|---|")
print(f"| first rows on screen (from Enter in the profile picker: connect, list, draw) | {listing['first_rows_ms']:.0f} ms | < 1000 ms | {ok(listing['first_rows_ms'] < 1000)} |")
print(f"| whole listing loaded | {listing['whole_listing_ms']:.0f} ms | | |")
peak = listing['peak_rss_kib'] / 1024
print(f"| peak RSS from opening the directory to the end | {peak:.1f} MiB | ≤ 64 MiB | {ok(peak <= 64)} |")
print(f"| RSS at the end | {listing['rss_kib'] / 1024:.1f} MiB | | |")
print(f"| peak RSS before (unlocking: Argon2 with the default 64 MiB) | {listing['peak_rss_before_kib'] / 1024:.1f} MiB | | |")
print()
print("| frames while | frames | median | p99 | max | max CPU | target | met (wall / CPU) |")
print("|---|---:|---:|---:|---:|---:|---:|---|")
labels = {
    "loading": "the listing arrives in chunks",
    "scroll": "scrolling (`j` ×300, PgDn ×100, `G`, PgUp ×100, `g`)",
    "sort": "sorting (`s s t n n . .`)",
    "filter": "filtering (`/f0042`, Backspace ×5, `7`, Esc)",
    "marks": "marking (`*` on all, PgDn ×50, `s s`, `*`)",
}
for key, label in labels.items():
    f = listing[key]
    wall, cpu = f["wall"], f["cpu"]
    target = "< 16 ms"
    met = f"{ok(wall['max_ms'] < 16)} / {ok(cpu['max_ms'] < 16)}"
    print(f"| {label} | {f['frames']} | {wall['median_ms']:.2f} ms | {wall['p99_ms']:.2f} ms | {wall['max_ms']:.2f} ms | {cpu['max_ms']:.2f} ms | {target} | {met} |")
print()
s = start["wall"]
print(f"### Start and idle (the release binary in an 80×24 pseudo-terminal)\n")
print("| measure | value | target | met |")
print("|---|---:|---:|---|")
print(f"| start to first frame, {history:,} history rows (median of {start['runs']}; max {s['max_ms']:.0f} ms) | {s['median_ms']:.0f} ms | < 150 ms | {ok(s['median_ms'] < 150)} |")
print(f"| CPU while idle with a remote pane open, over {idle['seconds']} s | {idle['cpu_percent']:.2f} % ({idle['cpu_seconds']:.2f} s) | < 1 % | {ok(idle['cpu_percent'] < 1)} |")
print(f"| bytes drawn to the terminal while idle | {idle['bytes_drawn']} | | |")
print()
print("Command: `sudo bench/app.sh` (ENTRIES, HISTORY, IDLE_SECONDS, START_RUNS override the sizes).")
