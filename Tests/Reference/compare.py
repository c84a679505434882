#!/usr/bin/env python3
"""Compares Tandem's ETL output (OUT: report.json from --json, silver exports, gold.jsonl) with the
reference's (REF). Silver must be identical; gold features must agree to float32 precision."""
import json, sys

ref, out = sys.argv[1], sys.argv[2]
failures = 0

def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f]

report = json.load(open(f"{out}/report.json"))["quarantine"]
expected = json.load(open(f"{ref}/report.json"))
if report != expected:
    print("quarantine report differs:\n tandem    ", report, "\n reference ", expected); failures += 1
else:
    print("quarantine report identical")
import os
names = ["silver_judgments.jsonl", "silver_videos.jsonl"]
if os.path.exists(f"{ref}/silver_video_history.jsonl"):  # the references with point-in-time history write it
    names.append("silver_video_history.jsonl")
for name in names:
    a, b = load(f"{ref}/{name}"), load(f"{out}/{name}")
    if a != b:
        diff = next(((x, y) for x, y in zip(a, b) if x != y), (len(a), len(b)))
        print(f"{name} differs: {diff}"); failures += 1
    else:
        print(f"{name} identical ({len(a)} rows)")
a, b = load(f"{ref}/gold.jsonl"), load(f"{out}/gold.jsonl")
if len(a) != len(b):
    print(f"gold rows differ: {len(a)} vs {len(b)}"); failures += 1
bad = 0
for x, y in zip(a, b):
    if (x["query"], x["video_url"], x["label"]) != (y["query"], y["video_url"], y["label"]) or len(y["features"]) != 56:
        bad += 1; continue
    for i, (p, q) in enumerate(zip(x["features"], y["features"])):
        if abs(p - q) > 1e-5 * max(1.0, abs(p)):
            bad += 1
            if bad < 5: print(f"feature {i} of {x['query']!r} {x['video_url']}: reference {p}, tandem {q}")
print(f"gold: {len(b)} rows, {bad} differ")
failures += bad > 0
sys.exit(1 if failures else 0)
