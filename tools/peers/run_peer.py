"""Times one peer runtime on one model, in its own process (so its peak RSS is its own):
load (create the session/network and run the first inference), then median and min latency.

    python tools/peers/run_peer.py ort|ort-int8|openvino|ncnn MODEL_DIR NAME THREADS RUNS  ->  one JSON line"""
import json
import sys
import time

import numpy as np


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
    return 0.0


def main():
    runtime, model_dir, name, threads, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    x = (np.arange(3 * 224 * 224, dtype=np.float32).reshape(1, 3, 224, 224) % 1000) / 500 - 1
    t0 = time.perf_counter()
    if runtime.startswith("ort"):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        path = f"{model_dir}/{name}.int8.onnx" if runtime == "ort-int8" else f"{model_dir}/{name}.onnx"
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        run = lambda: sess.run(None, {"input": x})  # noqa: E731
    elif runtime == "openvino":
        import openvino as ov
        core = ov.Core()
        compiled = core.compile_model(f"{model_dir}/{name}.onnx", "CPU",
                                      {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY",
                                       "INFERENCE_PRECISION_HINT": "f32"})
        req = compiled.create_infer_request()
        run = lambda: req.infer({0: x})  # noqa: E731
    elif runtime == "ncnn":
        import ncnn
        net = ncnn.Net()
        net.opt.num_threads = threads
        net.opt.use_fp16_storage = False  # fp32 arithmetic, as the fp32 peers
        net.opt.use_fp16_arithmetic = False
        net.load_param(f"{model_dir}/{name}.ncnn.param")
        net.load_model(f"{model_dir}/{name}.ncnn.bin")
        mat = ncnn.Mat(x[0])

        def run():
            ex = net.create_extractor()
            ex.input("in0", mat)
            return ex.extract("out0")
    else:
        raise SystemExit(f"unknown runtime {runtime}")
    run()
    load_ms = (time.perf_counter() - t0) * 1e3
    times = []
    for _ in range(runs):
        s = time.perf_counter()
        run()
        times.append((time.perf_counter() - s) * 1e3)
    times.sort()
    print(json.dumps({"runtime": runtime, "model": name, "threads": threads, "median_ms": times[len(times) // 2],
                      "min_ms": times[0], "load_ms": load_ms, "peak_rss_mb": peak_rss_mb()}))


if __name__ == "__main__":
    main()
