#!/usr/bin/env python3
"""The scorer's reference: the same MLP in onnxruntime, timed on the same rows (a benchmark helper only).

    pip install onnx onnxruntime numpy
    python3 Tests/Reference/onnx_scorer.py DIR [--threads 1]

DIR is what `tandem-bench train --reference` writes beside the training data: `model.json` ({sizes}),
`params.f32` (the model's flat parameters: per layer its inputs×outputs weights row-major, then its biases),
`mean.f32`, `scale.f32`, and `test.f32` (the test rows' raw features). The graph standardises ((x − mean) ·
scale), then MatMul + Add (+ Relu between layers). It prints one JSON line with batch pairs/s over the test rows
and the p50/p99 latency of 30-row requests, each measured for about two seconds, like `tandem-bench train`.
"""
import json, os, sys, time

def main():
    args = sys.argv[1:]
    folder = args[0]
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else 1
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    import onnxruntime as ort

    sizes = json.load(open(os.path.join(folder, "model.json")))["sizes"]
    params = np.fromfile(os.path.join(folder, "params.f32"), dtype=np.float32)
    mean = np.fromfile(os.path.join(folder, "mean.f32"), dtype=np.float32)
    scale = np.fromfile(os.path.join(folder, "scale.f32"), dtype=np.float32)
    d = sizes[0]
    x = np.fromfile(os.path.join(folder, "test.f32"), dtype=np.float32).reshape(-1, d)

    inits = [numpy_helper.from_array(mean, "mean"), numpy_helper.from_array(scale, "scale")]
    nodes = [helper.make_node("Sub", ["x", "mean"], ["c"]), helper.make_node("Mul", ["c", "scale"], ["h0"])]
    o = 0
    for l in range(1, len(sizes)):
        k, n = sizes[l - 1], sizes[l]
        w = params[o:o + k * n].reshape(k, n); o += k * n
        b = params[o:o + n]; o += n
        inits += [numpy_helper.from_array(w, "w%d" % l), numpy_helper.from_array(b, "b%d" % l)]
        nodes.append(helper.make_node("MatMul", ["h%d" % (l - 1), "w%d" % l], ["m%d" % l]))
        out = "h%d" % l if l < len(sizes) - 1 else "y"
        nodes.append(helper.make_node("Add", ["m%d" % l, "b%d" % l], ["a%d" % l if l < len(sizes) - 1 else out]))
        if l < len(sizes) - 1:
            nodes.append(helper.make_node("Relu", ["a%d" % l], [out]))
    graph = helper.make_graph(
        nodes, "ranker", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, d])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])

    sess.run(None, {"x": x})
    rounds, started = 0, time.perf_counter()
    while time.perf_counter() - started < 2:
        sess.run(None, {"x": x}); rounds += 1
    pairs = rounds * len(x) / (time.perf_counter() - started)
    lat = []
    started = time.perf_counter()
    while time.perf_counter() - started < 2:
        for s in range(0, len(x) - 30, 30):
            req = x[s:s + 30]
            t = time.perf_counter(); sess.run(None, {"x": req}); lat.append((time.perf_counter() - t) * 1e6)
            if time.perf_counter() - started >= 2: break
    lat.sort()
    print(json.dumps({"pairs_per_second": pairs, "p50_micros": lat[len(lat) // 2], "p99_micros": lat[len(lat) * 99 // 100],
                      "threads": threads, "onnxruntime": ort.__version__}))

if __name__ == "__main__":
    main()
