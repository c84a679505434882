#!/usr/bin/env python3
"""The trainer's exact training loop in numpy: the speed reference of `tandem-bench train` (a test helper only).

    python3 Tests/Reference/numpy_listnet.py DIR [--epochs 1] [--threads 1]

DIR is what `tandem-bench train --reference` writes: `x.f32` (the training rows, rows × width float32, raw;
standardised here before the clock starts, as the trainer does before its first step),
`labels.i8`, `groups.i32` (each training query's row count, in row order), `meta.json` ({rows, width, hidden,
batch_queries, seed}). The loop is Tandem's (Sources/TandemLearning/Trainer.swift): MLP width→hidden…→1 with ReLU,
ListNet top-1 loss with targets (2^label − 1)/Σ per query (queries with no relevant item skipped), Adam
(β 0.9/0.999, ε 1e-8), mini-batches of `batch_queries` whole queries in a shuffled order, float32 throughout. It
prints one JSON line: {"examples_per_second", "seconds", "epochs", "threads", "blas"}.

numpy's own OpenBLAS honours OPENBLAS_NUM_THREADS and OPENBLAS_CORETYPE, so it is measured on the same kernel.
"""
import json, os, sys, time

def main():
    args = sys.argv[1:]
    folder = args[0]
    epochs = int(args[args.index("--epochs") + 1]) if "--epochs" in args else 1
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else 1
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import numpy as np

    meta = json.load(open(os.path.join(folder, "meta.json")))
    rows, width = meta["rows"], meta["width"]
    x = np.fromfile(os.path.join(folder, "x.f32"), dtype=np.float32).reshape(rows, width)
    sd = x.std(0, dtype=np.float64); sd[sd <= 1e-12] = 1
    x = ((x - x.mean(0, dtype=np.float64)) / sd).astype(np.float32)
    labels = np.fromfile(os.path.join(folder, "labels.i8"), dtype=np.int8)
    sizes = np.fromfile(os.path.join(folder, "groups.i32"), dtype=np.int32)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    gains = (2.0 ** labels.astype(np.float64) - 1).astype(np.float64)

    layers = [width] + meta["hidden"] + [1]
    rng = np.random.default_rng(meta["seed"])
    weights = [(rng.standard_normal((layers[i], layers[i + 1])) * (1 / (3 * layers[i])) ** 0.5).astype(np.float32)
               for i in range(len(layers) - 1)]
    biases = [np.zeros(layers[i + 1], dtype=np.float32) for i in range(len(layers) - 1)]
    params = weights + biases
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lr, b1, b2, eps = np.float32(0.001), np.float32(0.9), np.float32(0.999), np.float32(1e-8)
    step = 0
    batch = meta["batch_queries"]
    order_rng = np.random.default_rng(meta["seed"] + 1)
    examples = 0
    started = time.perf_counter()
    for epoch in range(epochs):
        order = order_rng.permutation(len(sizes))
        for b in range(0, len(order), batch):
            qs = order[b:b + batch]
            idx = np.concatenate([np.arange(starts[q], starts[q + 1]) for q in qs])
            xb = x[idx]
            lb = gains[idx]
            seg = np.concatenate([[0], np.cumsum(sizes[qs])])[:-1]
            # Forward.
            acts = [xb]
            for l in range(len(weights)):
                z = acts[-1] @ weights[l] + biases[l]
                acts.append(np.maximum(z, 0) if l < len(weights) - 1 else z)
            s = acts[-1][:, 0].astype(np.float64)
            # ListNet top-1 per query.
            top = np.maximum.reduceat(s, seg)
            rep = np.repeat(top, sizes[qs])
            e = np.exp(s - rep)
            z = np.add.reduceat(e, seg)
            tsum = np.add.reduceat(lb, seg)
            counted = tsum > 0
            n = max(1, int(counted.sum()))
            p = e / np.repeat(z, sizes[qs])
            t = lb / np.repeat(np.where(counted, tsum, 1), sizes[qs])
            keep = np.repeat(counted, sizes[qs])
            delta = np.where(keep, (p - t) / n, 0).astype(np.float32)[:, None]
            # Backward.
            grads_w, grads_b = [None] * len(weights), [None] * len(weights)
            for l in reversed(range(len(weights))):
                grads_w[l] = acts[l].T @ delta
                grads_b[l] = delta.sum(0)
                if l > 0:
                    delta = (delta @ weights[l].T) * (acts[l] > 0)
            step += 1
            c1 = 1 / (1 - b1 ** step)
            c2 = 1 / (1 - b2 ** step)
            for i, g in enumerate(grads_w + grads_b):
                m[i] *= b1; m[i] += (1 - b1) * g
                v[i] *= b2; v[i] += (1 - b2) * g * g
                params[i] -= lr * (m[i] * c1) / (np.sqrt(v[i] * c2) + eps)
            examples += len(idx)
    seconds = time.perf_counter() - started
    blas = ""
    try:
        cfg = np.show_config(mode="dicts")
        blas = "%s %s" % (cfg["Build Dependencies"]["blas"]["name"], cfg["Build Dependencies"]["blas"]["version"])
    except Exception:
        pass
    print(json.dumps({"examples_per_second": examples / seconds, "seconds": seconds, "epochs": epochs,
                      "threads": threads, "blas": blas}))

if __name__ == "__main__":
    main()
