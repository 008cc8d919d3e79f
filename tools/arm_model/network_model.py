#!/usr/bin/env python3
"""Per-network latency estimate on the Raspberry Pi 4 (Cortex-A72, 1.8 GHz) and the Pi 5 (Cortex-A76, 2.4 GHz),
built from the cycle model of the real kernels (cycle_model.py): every convolution of a .mlrc graph is run once
at its own shape under qemu, with the kernel a session picks on that core, and its instructions scheduled on
llvm-mca's model of the core. It is a model: loads are L1 hits (no memory system), and it knows nothing of a
board's clocks under load or its thermal limits.

    tools/arm_model/network_model.py [--compiler clang|gcc] [--jobs N] MODEL.mlrc [MODEL.mlrc ...]

What is modelled and what is assumed:
  - convolutions (int8 and fp32: pointwise GEMMs, general and grouped convolutions as their GEMMs, depthwise and
    strips) are traced; a large layer runs a slice (at most 48 GEMM rows x 64 columns and about 1 M MAC, 2 output
    rows of a depthwise map) and its cycles are scaled to the whole, which the kernels' uniform cost per row and
    per column block makes exact up to the edges (a narrower last block, an fp32 GEMM's packing per call);
  - the im2col gather of general convolutions is charged a quarter of an element's cost per value gathered;
  - every other op (adds, pools, quantize, LayerNorm, squeeze-and-excitation, concat) is charged per element:
    1 cycle on the A72, 0.6 on the A76 (3 and 2 for LayerNorm);
  - 4 threads: the 1-thread estimate divided by 3.3 (the convolutions split evenly over rows or channels).
"""
import argparse
import os
import struct
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cycle_model as cm  # noqa: E402

CORES = [  # label, (core tuple of cycle_model), GHz, int8 GEMM row, per-element cycles (other, LayerNorm)
    ("Pi 4 (Cortex-A72 1.8 GHz)", cm.A72, 1.8, "q8_gemm_2x8c4_neon", (1.0, 3.0)),
    ("Pi 5 (Cortex-A76 2.4 GHz)", cm.A76, 2.4, "q8_gemm_4x16c4_dotprod", (0.6, 2.0)),
]
GEMM_ROWS, GEMM_COLS, GEMM_MACS, DW_ROWS, FOUR_THREADS = 48, 64, 1 << 20, 2, 3.3
# Published anchors, 4 threads on a Raspberry Pi 4: XNNPACK's README (MobileNetV2 int8 17 ms, fp32 46 ms;
# MobileNetV1 int8 24 ms, fp32 77 ms); ncnn's benchmark/README.md (mobilenet_v2 fp32 61.9 ms). MobileNetV2 is
# 300 M MAC, MobileNetV1 569 M MAC.
XNNPACK_PI4_MOBILENET_V2_INT8_PS_PER_MAC = 17e9 / 300e6


def sections(data):
    count, table = struct.unpack_from("<IQ", data, 28)
    out = {}
    for i in range(count):
        tag, _, off, size = struct.unpack_from("<IIQQ", data, table + 24 * i)
        out[struct.pack("<I", tag).decode()] = data[off:off + size]
    return out


def read_graph(data):
    """(input shape (h, w, c), nodes as (op, inputs, integer fields))."""
    s = sections(data)
    info = s["INFO"]
    n = struct.unpack_from("<I", info, 0)[0]
    c, h, w = struct.unpack_from("<III", info, 4 + n)
    g = s["GRPH"]
    count, _ = struct.unpack_from("<II", g, 0)
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


def layers(path):
    """The graph as work items: ("call", kind, args, scale, macs) for traced kernels, ("elements", n, is_ln)."""
    with open(path, "rb") as f:
        shape, nodes = read_graph(f.read())
    shapes, work = [shape], []
    for op, inputs, ints in nodes:
        h, w, c = shapes[inputs[0]]
        out = (h, w, c)
        if op in (1, 2, 6, 7, 13, 14):
            kh, kw, sh, sw, pt, pl, pb, pr = ints[:8]
            oh, ow = (h + pt + pb - kh) // sh + 1, (w + pl + pr - kw) // sw + 1
            out = (oh, ow, ints[9] if op in (1, 13) else c)
            q8 = op in (13, 14)
            if op in (1, 13):
                groups, oc = ints[8], ints[9]
                pointwise = kh == kw == sh == sw == 1 and pt == pl == pb == pr == 0 and groups == 1
                k = kh * kw * (c // groups)
                if groups == 1 and not pointwise and q8:
                    k = (k + 3) // 4 * 4  # im2col rows padded to whole quads
                m, n = oh * ow, oc // groups
                cols = min(n, GEMM_COLS)
                rows = min(m, GEMM_ROWS)
                while rows > 8 and rows * cols * k > GEMM_MACS:
                    rows -= 8
                work.append(("call", "gemm" if q8 else "f32gemm", (rows, cols, k), groups * m / rows * n / cols,
                             m * n * k * groups))
                if not pointwise:
                    work.append(("elements", 0.25 * m * k * groups, False))
            elif op in (2, 14):
                rows = min(oh, DW_ROWS)
                work.append(("call", "dwconv" if q8 else "f32dwconv", (h, w, c, kh, kw, sh, pt, pl, pb, pr, rows),
                             oh / rows, oh * ow * c * kh * kw))
            else:
                work.append(("elements", oh * ow * c * kh * kw, False))
        elif op == 5:
            out = (h, w, sum(shapes[v][2] for v in inputs))
            work.append(("elements", h * w * out[2], False))
        elif op == 8:
            out = (1, 1, c)
            work.append(("elements", h * w * c, False))
        elif op == 16:
            out = (h, w, ints[1])
            work.append(("elements", h * w * ints[1], False))
        else:
            work.append(("elements", h * w * c, op == 3))
        shapes.append(out)
    return work


def row_for(kind, core):
    if kind == "gemm":
        return core[3]
    return {"f32gemm": "f32_gemm_8x8_neon", "dwconv": "q8_dwconv_16c2_neon", "f32dwconv": "f32_dwconv_4c_neon"}[kind]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+")
    ap.add_argument("--compiler", choices=["clang", "gcc"], default="clang")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()
    work_dir = tempfile.mkdtemp(prefix="mlrc-arm-net-")
    exe = cm.build(work_dir, a.compiler, None)
    text = cm.disassembly(exe)
    nets = {p: layers(p) for p in a.models}
    calls = sorted({(core[0], item[1], item[2]) for items in nets.values() for item in items if item[0] == "call"
                    for core in CORES})
    by_label = {core[0]: core for core in CORES}

    def model(key):
        label, kind, args = key
        core = by_label[label]
        insns = cm.trace(exe, core[1][3], [kind, row_for(kind, core)] + list(args), text)
        return key, cm.cycles(insns, core[1][1])

    with ThreadPoolExecutor(max(1, a.jobs)) as pool:
        cycles = dict(pool.map(model, calls))
    header = "| model | int8 / fp32 M MAC |"
    for label, *_ in CORES:
        header += f" {label}: 1 / 4 threads, ms |"
    print(header + " Pi 4, 4 threads: ps per MAC |")
    print("|---|---|" + "---|" * len(CORES) + "---|")
    estimates, parts = {}, []
    for path, items in nets.items():
        int8 = sum(i[4] for i in items if i[0] == "call" and i[1] in ("gemm", "dwconv"))
        fp32 = sum(i[4] for i in items if i[0] == "call" and i[1] in ("f32gemm", "f32dwconv"))
        cells = []
        for label, core, ghz, _, (other, ln) in CORES:
            total, share = 0.0, {}
            for item in items:
                kind = item[1] if item[0] == "call" else "other ops"
                c = cycles[(label, item[1], item[2])] * item[3] if item[0] == "call" else item[1] * (ln if item[2] else other)
                total += c
                share[kind] = share.get(kind, 0.0) + c
            parts.append(f"{os.path.basename(path)} on the {label.split(' (')[0]}: " +
                         ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in sorted(share.items(), key=lambda kv: -kv[1])))
            ms = total / (ghz * 1e6)
            estimates[(path, label)] = ms
            cells.append(f"{ms:.1f} / {ms / FOUR_THREADS:.1f}")
        pi4 = estimates[(path, CORES[0][0])] / FOUR_THREADS
        ps = pi4 * 1e9 / max(int8 + fp32, 1)
        print(f"| {os.path.basename(path)} | {int8 / 1e6:.0f} / {fp32 / 1e6:.0f} | " + " | ".join(cells) +
              f" | {ps:.1f} |")
    print("\nWhere the time goes (gemm: int8 GEMMs and convolutions, dwconv: int8 depthwise, f32*: fp32):")
    for line in parts:
        print("  " + line)
    print(f"\nXNNPACK's published Raspberry Pi 4 MobileNetV2 int8 (17 ms, 4 threads, 300 M MAC): "
          f"{XNNPACK_PI4_MOBILENET_V2_INT8_PS_PER_MAC:.1f} ps per MAC (a measurement on the board; these are a model)")
    for path in a.models:  # int8 against fp32 where both files of a net are given (NAME.mlrc, NAME.int8.mlrc)
        if path.endswith(".int8.mlrc") and path.replace(".int8.mlrc", ".mlrc") in nets:
            fp32 = path.replace(".int8.mlrc", ".mlrc")
            ratios = [estimates[(fp32, c[0])] / estimates[(path, c[0])] for c in CORES]
            print(f"{os.path.basename(path)}: int8 is " +
                  ", ".join(f"{r:.2f}x faster than fp32 on the {c[0]}" for r, c in zip(ratios, CORES)))


if __name__ == "__main__":
    main()
