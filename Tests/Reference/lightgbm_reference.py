#!/usr/bin/env python3
"""A strong tree ranker on Tandem's own gold table, for comparison with the trainer's held-out NDCG@10.

    tandem etl --env dev --input .build/bench-etl/input-33000-42 --export-gold /tmp/gold.jsonl
    pip install lightgbm==4.7.0 numpy
    python3 Tests/Reference/lightgbm_reference.py /tmp/gold.jsonl [TREES]

Trains LightGBM's lambdarank (200 trees by default, learning rate 0.1, 31 leaves) and reports NDCG@10 over the
test (held-out) queries of docs/data-contract.md, "Train/validation/test split" (FNV-1a 32 of the normalised
query % 5 == 0); it has no early stopping, so it trains on every other query, validation bucket included. NDCG
as in docs/data-contract.md, "Ranking metrics" (gain 2^label - 1, log2 discount, queries whose labels are all
0 left out).
A test helper only: the product never runs Python.
"""
import json
import sys

import lightgbm as lgb
import numpy as np


def fnv1a32(text):
    h = 0x811C9DC5
    for b in text.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def group_sizes(indices, queries):
    sizes, previous = [], None
    for i in indices:
        if queries[i] != previous:
            sizes.append(0)
            previous = queries[i]
        sizes[-1] += 1
    return sizes


def ndcg_at_10(labels, scores):
    order = np.argsort(-scores, kind="stable")[:10]
    gains = 2.0 ** labels - 1
    dcg = sum(gains[order[i]] / np.log2(i + 2) for i in range(len(order)))
    ideal = np.sort(gains)[::-1][:10]
    idcg = sum(ideal[i] / np.log2(i + 2) for i in range(len(ideal)))
    return dcg / idcg if idcg > 0 else None


def main():
    rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
    trees = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    x = np.array([r["features"] for r in rows], dtype=np.float32)
    y = np.array([r["label"] for r in rows])
    queries = [r["query"] for r in rows]
    held = np.array([fnv1a32(q) % 5 == 0 for q in queries])
    train, test = np.where(~held)[0], np.where(held)[0]
    model = lgb.LGBMRanker(objective="lambdarank", n_estimators=trees, learning_rate=0.1, num_leaves=31, verbose=-1)
    model.fit(x[train], y[train], group=group_sizes(train, queries))
    scores = model.predict(x[test])
    values, start = [], 0
    for n in group_sizes(test, queries):
        v = ndcg_at_10(y[test[start:start + n]], scores[start:start + n])
        start += n
        if v is not None:
            values.append(v)
    print(f"lightgbm lambdarank ({trees} trees): held-out NDCG@10 {np.mean(values):.4f} over {len(values)} queries")


if __name__ == "__main__":
    main()
