"""Expected latency of .mlrc models on ARM boards, estimated from the kernels' inner loops (docs/ARM.md).

We cannot time a Raspberry Pi or an RK3588 from here, so this reads each model's graph, counts the
multiply-accumulates of every convolution by kernel class (int8 or fp32; GEMM-like or depthwise) and the
elements of every other op, and charges each class the cycles per MAC (or per element) that its NEON inner loop
needs on the core, from the instruction mix of the loop and the throughput of the pipe it saturates:

  class                         A72 (no dotprod)                     A76 (dotprod)
  int8 GEMM / conv              48 SMLAL per 192 MAC, F0 only:        12 SDOT per 192 MAC on 2 pipes, 8 loads
                                0.25 c/MAC                            on 2 load pipes: 6.0 c / 192 = 0.031 c/MAC
  int8 depthwise                4 SMLAL + 6 widen/sub per 16 MAC      same loop, SMLAL on one pipe: 0.25 c/MAC
                                ~0.31 c/MAC
  fp32 GEMM / conv              16 FMLA.4S per 64 MAC: 0.25 c/MAC     2 FMLA pipes: 0.125 c/MAC
  fp32 depthwise                1 FMLA + 2 loads per 4 MAC: 0.5 c/MAC 0.25 c/MAC
  other ops (per element)       LayerNorm 3 c, the rest 1 c           LayerNorm 2 c, the rest 0.6 c

Every class is then divided by an efficiency (0.6 for GEMM-like loops: packing, epilogues, cache misses; 0.5
for depthwise: window bookkeeping per pixel), the same factors that turn the x86 loops' register-only rates
into what `make bench` measures here. Multi-thread estimates assume 3.3x on 4 cores.

That inner-loop model ignores the boards' memory systems, so it is also printed calibrated: scaled so that an
fp32 MobileNetV2-class net lands where ncnn's published Raspberry Pi 4 measurement puts it (mobilenet_v2,
300 M MAC, 61.9 ms on 4 A72 cores at 1.8 GHz, benchmark/README.md of ncnn), using EfficientNet-Lite0 fp32
(385 M MAC, same block structure) as the stand-in: factor = 61.9 * 385 / 300 / (model's fp32 Lite0 4-thread
estimate). The same factor is applied to the A76, which makes its numbers an upper bound.

    python tools/arm_latency_model.py LITE0_FP32.mlrc MODEL.mlrc [MODEL.mlrc ...]"""
import struct
import sys

CORES = {  # name: GHz, cycles per MAC (int8 gemm, int8 dw, fp32 gemm, fp32 dw), cycles per element (LN, other)
    "Cortex-A72 1.8 GHz (Pi 4)": (1.8, (0.25, 0.31, 0.25, 0.5), (3.0, 1.0)),
    "Cortex-A76 2.4 GHz (Pi 5, RK3588)": (2.4, (0.031, 0.25, 0.125, 0.25), (2.0, 0.6)),
}
EFFICIENCY = {"gemm": 0.6, "dw": 0.5}
FOUR_CORE_SPEEDUP = 3.3


def sections(data):
    count, table = struct.unpack_from("<IQ", data, 28)
    out = {}
    for i in range(count):
        tag, _, off, size = struct.unpack_from("<IIQQ", data, table + 24 * i)
        out[struct.pack("<I", tag).decode()] = data[off:off + size]
    return out


def read_graph(data):
    s = sections(data)
    info = s["INFO"]
    n = struct.unpack_from("<I", info, 0)[0]
    c, h, w = struct.unpack_from("<III", info, 4 + n)
    g = s["GRPH"]
    count, output = struct.unpack_from("<II", g, 0)
    pos, nodes = 8, []
    for _ in range(count):
        op, k = struct.unpack_from("<II", g, pos)
        pos += 8
        inputs = list(struct.unpack_from(f"<{k}I", g, pos))
        pos += 4 * k
        k = struct.unpack_from("<I", g, pos)[0]
        pos += 4 + 4 * k
        k = struct.unpack_from("<I", g, pos)[0]
        ints = list(struct.unpack_from(f"<{k}i", g, pos + 4))
        pos += 4 + 4 * k
        k = struct.unpack_from("<I", g, pos)[0]
        pos += 4 + 4 * k
        nodes.append((op, inputs, ints))
    return (h, w, c), nodes


def costs(path):
    """MACs per class and elements of other ops (LayerNorm separately)."""
    with open(path, "rb") as f:
        shape, nodes = read_graph(f.read())
    shapes = [shape]
    acc = {"q8_gemm": 0, "q8_dw": 0, "f32_gemm": 0, "f32_dw": 0, "ln": 0, "other": 0}
    for op, inputs, ints in nodes:
        h, w, c = shapes[inputs[0]]
        if op in (1, 2, 6, 7, 13, 14):
            kh, kw, sh, sw, pt, pl, pb, pr = ints[:8]
            oh, ow = (h + pt + pb - kh) // sh + 1, (w + pl + pr - kw) // sw + 1
            oc = ints[9] if op in (1, 13) else c
            out = (oh, ow, oc)
            if op in (1, 13):
                acc["q8_gemm" if op == 13 else "f32_gemm"] += oh * ow * oc * kh * kw * (c // ints[8])
            elif op in (2, 14):
                acc["q8_dw" if op == 14 else "f32_dw"] += oh * ow * c * kh * kw
            else:
                acc["other"] += oh * ow * c * kh * kw
        elif op == 5:
            out = (h, w, sum(shapes[v][2] for v in inputs))
            acc["other"] += h * w * out[2]
        elif op == 8:
            out = (1, 1, c)
            acc["other"] += h * w * c
        else:
            out = (h, w, c)
            acc["ln" if op == 3 else "other"] += h * w * c
        shapes.append(out)
    return acc


def estimate(acc, core):
    ghz, (q8g, q8d, f32g, f32d), (ln, other) = CORES[core]
    cycles = (acc["q8_gemm"] * q8g + acc["f32_gemm"] * f32g) / EFFICIENCY["gemm"] \
        + (acc["q8_dw"] * q8d + acc["f32_dw"] * f32d) / EFFICIENCY["dw"] + acc["ln"] * ln + acc["other"] * other
    return cycles / (ghz * 1e6)


NCNN_PI4_MOBILENET_V2_MS, NCNN_MOBILENET_V2_MMAC = 61.9, 300.0


def calibration(lite0_fp32_path):
    a72 = next(iter(CORES))
    lite0 = costs(lite0_fp32_path)
    macs = (lite0["f32_gemm"] + lite0["f32_dw"]) / 1e6
    return NCNN_PI4_MOBILENET_V2_MS * macs / NCNN_MOBILENET_V2_MMAC / (estimate(lite0, a72) / FOUR_CORE_SPEEDUP)


def main(args):
    lite0_fp32, paths = args[0], args[1:]
    factor = calibration(lite0_fp32)
    print(f"calibration factor {factor:.2f} (from {lite0_fp32})")
    print("| model | int8 / fp32 M MAC | " + " | ".join(f"{c}: 1 thread / 4 threads, ms (calibrated)" for c in CORES) + " |")
    print("|---|---|" + "---|" * len(CORES))
    for p in paths:
        acc = costs(p)
        int8, fp32 = acc["q8_gemm"] + acc["q8_dw"], acc["f32_gemm"] + acc["f32_dw"]
        cells = []
        for core in CORES:
            ms = estimate(acc, core)
            cells.append(f"{ms:.0f} / {ms / FOUR_CORE_SPEEDUP:.0f} ({ms * factor:.0f} / {ms * factor / FOUR_CORE_SPEEDUP:.0f})")
        print(f"| {p.rsplit('/', 1)[-1]} | {int8 / 1e6:.0f} / {fp32 / 1e6:.0f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
