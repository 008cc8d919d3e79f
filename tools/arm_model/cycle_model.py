#!/usr/bin/env python3
"""Cycles of one real kernel call on the Cortex-A72 and Cortex-A76 pipeline models.

No board is needed: the AArch64 kernels are compiled as a board would compile them, one call at a layer's shape
runs under qemu-aarch64, the instructions it executed between two marker calls are kept in order (every loop
iteration, the output stage, the calls into libc), and llvm-mca 19 schedules that stream on its pipeline models:
`-mcpu=cortex-a72` (LLVM models the A72 with its Cortex-A57 model) and `-mcpu=neoverse-n1` (the A76's sibling core,
the same pipeline; LLVM 19 has no A76 model of its own). Loads are modelled as L1 hits; memory is not modelled.

    tools/arm_model/cycle_model.py [--compiler clang|gcc] [--xnnpack DIR] [--only SUBSTRING]

prints MAC/cycle for every kernel call of the table below, and with --xnnpack (a checkout of XNNPACK's sources)
the same for the XNNPACK kernels its configuration picks for those cores, and the ratio. Needs
gcc-aarch64-linux-gnu, qemu-user and llvm-19 (the Makefile's `arm-model` target installs them).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KERNELS = os.path.join(ROOT, "Sources", "CMLRCKernels")
HERE = os.path.dirname(os.path.abspath(__file__))

A72 = ("A72", "cortex-a72", "-march=armv8-a", "cortex-a72")
A76 = ("A76", "neoverse-n1", "-march=armv8.2-a+dotprod", "cortex-a76")

# (label, core, mlrc call, xnnpack call, MACs)
def gemm_row(label, core, variant, xnn, m, n, k):
    return (label, core, ["gemm", variant, m, n, k], [xnn, m, n, k], m * n * k)


def dw_row(label, core, variant, xnn, h, w, c, kh, kw):
    return (label, core, ["dwconv", variant, h, w, c, kh, kw], [xnn, h, w, c, kh, kw], h * w * c * kh * kw)


CALLS = [
    gemm_row("int8 1x1 conv K=96 N=64", A72, "q8_gemm_2x8c4_neon", "xnn_gemm_2x8c8_mlal", 96, 64, 96),
    gemm_row("int8 1x1 conv K=576 N=96", A72, "q8_gemm_2x8c4_neon", "xnn_gemm_2x8c8_mlal", 48, 96, 576),
    gemm_row("int8 1x1 conv K=96 N=64 (sdot)", A76, "q8_gemm_4x16c4_dotprod", "xnn_gemm_4x16c4_dot", 96, 64, 96),
    gemm_row("int8 1x1 conv K=576 N=96 (sdot)", A76, "q8_gemm_4x16c4_dotprod", "xnn_gemm_4x16c4_dot", 48, 96, 576),
]
CALLS += [
    ("fp32 1x1 conv K=96 N=64", A72, ["f32gemm", "f32_gemm_8x8_neon", 96, 64, 96], ["xnn_f32_gemm_4x8", 96, 64, 96],
     96 * 64 * 96),
    ("fp32 1x1 conv K=96 N=64", A76, ["f32gemm", "f32_gemm_8x8_neon", 96, 64, 96], ["xnn_f32_gemm_6x8", 96, 64, 96],
     96 * 64 * 96),
]
for core in (A72, A76):
    CALLS += [
        dw_row("int8 depthwise 3x3, C=144", core, "q8_dwconv_16c2_neon", "xnn_dw_9p16c", 14, 14, 144, 3, 3),
        dw_row("int8 depthwise 5x5, C=240", core, "q8_dwconv_16c2_neon", "xnn_dw_25p16c", 14, 14, 240, 5, 5),
        dw_row("int8 strip 1x3, C=80", core, "q8_dwconv_16c2_neon", "xnn_dw_3p16c", 14, 14, 80, 1, 3),
        dw_row("int8 strip 1x3, C=40", core, "q8_dwconv_16c2_neon", "xnn_dw_3p16c", 28, 28, 40, 1, 3),
        dw_row("int8 strip 3x1, C=40", core, "q8_dwconv_16c2_neon", "xnn_dw_3p16c", 28, 28, 40, 3, 1),
    ]


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit("failed: %s\n%s%s" % (" ".join(map(str, cmd)), r.stdout[-3000:], r.stderr[-3000:]))
    return r.stdout


def compilers(which, work):
    """(C compiler command prefix for the kernels, linker) for AArch64."""
    if which == "gcc":
        return ["aarch64-linux-gnu-gcc"], "aarch64-linux-gnu-gcc"
    clang = shutil.which("clang-19")
    for c in ("/opt/swift/usr/bin/clang", shutil.which("clang")):  # SwiftPM's compiler first: what a board build uses
        if c and os.path.exists(c):
            clang = c
            break
    # GCC's omp.h for libgomp (the static OpenMP runtime here), clang's own arm_neon.h
    omp = os.path.join(work, "omp-include")
    os.makedirs(omp, exist_ok=True)
    if not os.path.exists(os.path.join(omp, "omp.h")):
        gomp = run(["aarch64-linux-gnu-gcc", "-print-file-name=include"]).strip()
        os.symlink(os.path.join(gomp, "omp.h"), os.path.join(omp, "omp.h"))
    return [clang, "--target=aarch64-linux-gnu", "-fopenmp=libgomp", "-isystem", omp], "aarch64-linux-gnu-gcc"


def build(work, which, xnnpack):
    cc, ld = compilers(which, work)
    flags = open(os.path.join(ROOT, "tools", "kernel-flags")).read().split()
    incs = ["-I" + os.path.join(KERNELS, "include"), "-I" + os.path.join(KERNELS, "common")]
    sources = [os.path.join(d, f) for d, _, fs in os.walk(KERNELS) for f in fs if f.endswith(".c")]
    objs = []
    for src in sources + [os.path.join(HERE, "kernel_calls.c")]:
        obj = os.path.join(work, os.path.basename(src) + ".o")
        extra = ["-march=armv8.2-a+dotprod"] if which == "gcc" and "dotprod" in src else ["-march=armv8-a"]
        if xnnpack and src.endswith("kernel_calls.c"):
            extra.append("-DEXTRA_CALLS")
        run(cc + flags + extra + ["-fopenmp" if which == "gcc" else "-fopenmp=libgomp"] + incs + ["-c", src, "-o", obj])
        objs.append(obj)
    if xnnpack:
        objs += build_xnnpack(work, xnnpack)
    exe = os.path.join(work, "kernel_calls")
    run([ld, "-static", "-fopenmp"] + objs + ["-lm", "-o", exe])
    return exe


# The kernels XNNPACK's configuration (src/configs/gemm-config.c, dwconv-config.c) picks on Linux for a Cortex-A72
# (no dotprod: 2x8c8 with 8-bit mlal) and a Cortex-A76 (dotprod: 4x16c4), and for int8 depthwise on AArch64.
XNN_SOURCES = [
    "src/qs8-qc8w-gemm/gen/qs8-qc8w-gemm-2x8c8-minmax-fp32-asm-aarch64-neon-mlal-prfm.S",
    "src/qs8-qc8w-gemm/gen/qs8-qc8w-gemm-4x16c4-minmax-fp32-asm-aarch64-neondot-ld128.S",
    "src/f32-gemm/gen/f32-gemm-4x8-minmax-asm-aarch64-neonfma-cortex-a75-prfm.S",
    "src/f32-gemm/gen/f32-gemm-6x8-minmax-asm-aarch64-neonfma-cortex-a75-prfm.S",
    "src/qs8-qc8w-dwconv/gen/qs8-qc8w-dwconv-3p16c-minmax-fp32-neonv8-mla8-ld128.c",
    "src/qs8-qc8w-dwconv/gen/qs8-qc8w-dwconv-9p16c-minmax-fp32-neonv8-mla8-ld64.c",
    "src/qs8-qc8w-dwconv/gen/qs8-qc8w-dwconv-25p16c-minmax-fp32-neonv8-mla8-ld64.c",
]


def build_xnnpack(work, src):
    """XNNPACK's kernels with its own flags for them (-O2; the headers want pthreadpool.h, which they only name)."""
    stub = os.path.join(work, "xnnpack-stub")
    os.makedirs(stub, exist_ok=True)
    with open(os.path.join(stub, "pthreadpool.h"), "w") as f:
        f.write("typedef struct pthreadpool* pthreadpool_t;\n")
    objs = []
    for rel in XNN_SOURCES:
        obj = os.path.join(work, os.path.basename(rel) + ".o")
        run(["aarch64-linux-gnu-gcc", "-O2", "-march=armv8.2-a+dotprod" if rel.endswith(".S") else "-march=armv8-a",
             "-I" + src, "-I" + os.path.join(src, "include"), "-I" + stub, "-c", os.path.join(src, rel), "-o", obj])
        objs.append(obj)
    obj = os.path.join(work, "xnnpack_calls.o")
    run(["aarch64-linux-gnu-gcc", "-O2", "-c", os.path.join(HERE, "xnnpack_calls.c"), "-o", obj])
    return objs + [obj]


def disassembly(exe):
    """address -> instruction text llvm-mca accepts."""
    text = {}
    out = run(["llvm-objdump-19", "-d", "--no-show-raw-insn", exe])
    for line in out.splitlines():
        m = re.match(r"^\s+([0-9a-f]+):\s+(\S.*)$", line)
        if not m:
            continue
        insn = m.group(2).split("//")[0].strip()
        insn = re.sub(r"\s*<[^>]*>", "", insn)
        mnem = insn.split()[0] if insn else ""
        if mnem in ("bl", "blr"):
            insn = "b L0"  # a call is a taken branch here: llvm-mca would charge it a fixed 100 cycles
        elif re.match(r"^(b|b\.\w+|cbn?z|tbn?z)$", mnem):
            insn = re.sub(r"0x[0-9a-f]+$|\b[0-9a-f]{5,}$", "L0", insn)
        elif mnem in ("adr", "adrp"):
            insn = re.sub(r",\s*\S+$", ", L0", insn)
        elif re.search(r"\bldr\s+\w+,\s*0x", insn):
            insn = re.sub(r"0x[0-9a-f]+$", "L0", insn)
        text[int(m.group(1), 16)] = insn
    return text


def symbol(exe, name):
    out = run(["llvm-nm-19", exe])
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    sys.exit("no symbol %s" % name)


def trace(exe, qcpu, args, text):
    """The instructions executed between mlrc_model_begin and mlrc_model_end, in order."""
    begin, end = symbol(exe, "mlrc_model_begin"), symbol(exe, "mlrc_model_end")
    with tempfile.NamedTemporaryFile(suffix=".log", delete=False) as f:
        log = f.name
    try:
        run(["qemu-aarch64", "-cpu", qcpu, "-d", "in_asm,exec,nochain", "-D", log, exe] + [str(a) for a in args],
            env=dict(os.environ, OMP_NUM_THREADS="1"))
        sizes, stream, on = {}, [], False
        cur = None
        with open(log, errors="replace") as f:
            for line in f:
                if line.startswith("IN:"):
                    cur = None
                    continue
                m = re.match(r"^0x([0-9a-f]+):\s", line)
                if m:
                    a = int(m.group(1), 16)
                    if cur is None:
                        cur = a
                        sizes[cur] = 0
                    sizes[cur] += 1
                    continue
                m = re.match(r"^Trace \d+: \S+ \[[0-9a-f]+/([0-9a-f]+)/", line)
                if m:
                    pc = int(m.group(1), 16)
                    if pc == begin:
                        on = True
                        continue
                    if pc == end:
                        break
                    if on:
                        stream.extend(range(pc, pc + 4 * sizes[pc], 4))
        return [text.get(a, "nop") for a in stream]
    finally:
        os.unlink(log)


def cycles(insns, mcpu):
    with tempfile.NamedTemporaryFile("w", suffix=".s", delete=False) as f:
        f.write("L0:\n" + "\n".join("\t" + i for i in insns) + "\n")
        path = f.name
    try:
        out = run(["llvm-mca-19", "-mtriple=aarch64", "-mcpu=" + mcpu, "-iterations=1", "-summary-view",
                   "-instruction-info=0", "-resource-pressure=0", path])
    finally:
        os.unlink(path)
    return int(re.search(r"Total Cycles:\s+(\d+)", out).group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--compiler", choices=["clang", "gcc"], default="clang")
    ap.add_argument("--xnnpack", help="an XNNPACK source checkout, to model its kernels beside ours")
    ap.add_argument("--only", default="", help="only the calls whose label matches this regular expression")
    ap.add_argument("--keep", help="keep the build in this directory")
    ap.add_argument("--mix", action="store_true", help="also print each call's most frequent instructions")
    a = ap.parse_args()
    work = a.keep or tempfile.mkdtemp(prefix="mlrc-arm-model-")
    os.makedirs(work, exist_ok=True)
    exe = build(work, a.compiler, a.xnnpack)
    text = disassembly(exe)
    print("| kernel call (M x N x K / H x W x C x taps) | core | mlrc kernel | mlrc MAC/cycle | instructions |"
          + (" XNNPACK MAC/cycle | mlrc cycles / XNNPACK cycles |" if a.xnnpack else ""))
    print("|---|---|---|---|---|" + ("---|---|" if a.xnnpack else ""))
    for label, core, call, xcall, macs in CALLS:
        if not re.search(a.only, label):
            continue
        insns = trace(exe, core[3], call, text)
        c = cycles(insns, core[1])
        if a.mix:
            counts = {}
            for i in insns:
                counts[i.split()[0]] = counts.get(i.split()[0], 0) + 1
            print("  mix:", ", ".join("%s %d" % kv for kv in sorted(counts.items(), key=lambda kv: -kv[1])[:24]))
        row = "| %s (%s) | %s | %s | %.2f | %d |" % (label, "x".join(map(str, call[2:])), core[0], call[1],
                                                     macs / c, len(insns))
        if a.xnnpack:
            xi = trace(exe, core[3], xcall, text)
            xc = cycles(xi, core[1])
            row += " %.2f | %.2fx |" % (macs / xc, c / xc)
        print(row, flush=True)
    if not a.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
