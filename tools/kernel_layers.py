"""Lists the kernel layer's includes and cross-file calls and checks that they only point downward:
operators -> micro-kernels -> common. Exit status 1 on an upward include or call, or on a micro-kernel that calls
into another family (micro-kernels may use their own family's helpers, e.g. the reference's channel tail).

    python3 tools/kernel_layers.py [--list]

Layers (Sources/CMLRCKernels): common/ (0: CPU features, scalar and SIMD helpers), ukernels/FAMILY/ plus
calibration/ and image/ (1: one implementation each), operators/ (2: tables, threading, plans). The public headers
in include/ are interfaces: a declaration belongs to the layer of the file that defines it."""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "Sources" / "CMLRCKernels"
LAYER_NAMES = ["common", "micro-kernel", "operator"]


def layer_of(path):
    top = path.relative_to(ROOT).parts[0]
    return {"common": 0, "ukernels": 1, "calibration": 1, "image": 1, "operators": 2, "include": None}[top]


def family_of(path):
    parts = path.relative_to(ROOT).parts
    return "/".join(parts[:2]) if parts[0] == "ukernels" else parts[0]


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def main():
    files = sorted(p for p in ROOT.rglob("*") if p.suffix in (".c", ".h"))
    bodies = {p: strip_comments(p.read_text()) for p in files}
    # Where each mlrc_ function is defined (a definition: name( ... ) { at file scope, not a prototype).
    defined = {}
    define_re = re.compile(r"^(?:[A-Za-z_][\w \*]*?\s)?\**(mlrc_\w+)\s*\([^;{]*\)\s*\{", re.M)
    for p in files:
        for m in define_re.finditer(bodies[p]):
            defined.setdefault(m.group(1), p)
    include_dirs = [ROOT / "include", ROOT / "common"]
    problems, listing = [], []
    for p in files:
        me = layer_of(p)
        if me is None:
            continue
        rel = p.relative_to(ROOT)
        includes = re.findall(r'#include "([^"]+)"', bodies[p])
        for inc in includes:
            target = next((d / inc for d in [p.parent] + include_dirs if (d / inc).exists()), None)
            if target is None:
                problems.append(f"{rel}: includes {inc}, which is not in the kernel tree")
                continue
            lt = layer_of(target)
            listing.append(f"{rel} includes {target.relative_to(ROOT)}")
            if lt is not None and lt > me:
                problems.append(f"{rel} ({LAYER_NAMES[me]}) includes {target.relative_to(ROOT)} ({LAYER_NAMES[lt]})")
        calls = set(re.findall(r"\b(mlrc_\w+)\s*\(", bodies[p]))
        for name in sorted(calls):
            target = defined.get(name)
            if target is None or target == p or layer_of(target) is None:  # inline helpers of the interfaces
                continue
            lt = layer_of(target)
            listing.append(f"{rel} calls {name} ({target.relative_to(ROOT)})")
            if lt > me:
                problems.append(f"{rel} ({LAYER_NAMES[me]}) calls {name} of {target.relative_to(ROOT)} "
                                f"({LAYER_NAMES[lt]})")
            elif lt == me == 1 and family_of(target) != family_of(p):
                problems.append(f"{rel} calls {name} of another family ({target.relative_to(ROOT)})")
    if "--list" in sys.argv:
        print("\n".join(listing))
    print(f"kernel layers: {len(files)} files, {len(listing)} includes and cross-file calls, "
          f"{len(problems)} pointing up or sideways")
    for line in problems:
        print("  " + line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
