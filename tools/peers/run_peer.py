"""Times one peer runtime on one model, in its own process (so its peak RSS is its own):
load (create the session/network and run the first inference), then median and min latency, and what its
kernels were built for: OpenVINO's per-node primitive types (they name the ISA, e.g. brgconv_avx2_1x1_f32, and show
whether ONEDNN_MAX_CPU_ISA took effect); ONNX Runtime (MLAS) and ncnn choose from CPUID and say nothing, so only
their version and, for ncnn, the features it detected.

    python tools/peers/run_peer.py ort|ort-int8|openvino|ncnn MODEL_DIR NAME THREADS RUNS  ->  one JSON line"""
import collections
import json
import re
import sys
import time

import numpy as np


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
    return 0.0


def openvino_isa(compiled):
    """'avx2 x49, avx512 x2, ...': the ISA named in each executed node's primitive type (unnamed ones left out)."""
    count = collections.Counter()
    for op in compiled.get_runtime_model().get_ops():
        info = op.get_rt_info()
        if "primitiveType" in info:
            m = re.search(r"(amx|avx512|avx2|avx|sse4\w*|mlas|ref)", info["primitiveType"].astype(str))
            if m:
                count[m.group(1)] += 1
    return ", ".join(f"{k} x{v}" for k, v in count.most_common())


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
        isa = f"MLAS {ort.__version__}: chosen from CPUID"
    elif runtime == "openvino":
        import openvino as ov
        core = ov.Core()
        compiled = core.compile_model(f"{model_dir}/{name}.onnx", "CPU",
                                      {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY",
                                       "INFERENCE_PRECISION_HINT": "f32"})
        req = compiled.create_infer_request()
        run = lambda: req.infer({0: x})  # noqa: E731
        isa = openvino_isa(compiled)
    elif runtime == "ncnn":
        import ncnn
        net = ncnn.Net()
        net.opt.num_threads = threads
        net.opt.use_fp16_storage = False  # fp32 arithmetic, as the fp32 peers
        net.opt.use_fp16_arithmetic = False
        net.load_param(f"{model_dir}/{name}.ncnn.param")
        net.load_model(f"{model_dir}/{name}.ncnn.bin")
        mat = ncnn.Mat(x[0])
        isa = f"ncnn {ncnn.__version__}: avx2 {'yes' if ncnn.cpu_support_x86_avx2() else 'no'}, chosen from CPUID"

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
                      "min_ms": times[0], "load_ms": load_ms, "peak_rss_mb": peak_rss_mb(), "isa": isa}))


if __name__ == "__main__":
    main()
