#!/usr/bin/env python3
"""Replaces one section of bench/RESULTS.md (between <!-- KIND:start --> and <!-- KIND:end -->)
with a fresh report, keeping the other sections."""
import sys

path, kind, report = sys.argv[1], sys.argv[2], sys.argv[3]
start, end = f"<!-- {kind}:start -->", f"<!-- {kind}:end -->"
try:
    text = open(path).read()
except FileNotFoundError:
    text = "# Benchmark results\n\nProduced by the scripts in `bench/`; each section is replaced when its script runs.\n"
body = open(report).read().strip()
block = f"{start}\n{body}\n{end}"
if start in text and end in text:
    before = text.split(start)[0]
    after = text.split(end, 1)[1]
    text = before + block + after
else:
    text = text.rstrip() + "\n\n" + block + "\n"
open(path, "w").write(text)
