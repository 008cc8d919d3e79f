"""Hostile inputs against the released tools, as an attacker would hand them over: each one generated here (no large
blobs committed), then given to `quantize` or `mlrc-infer` under a 4 GiB address-space limit. Each must end with an
error status (never a signal), within its memory bound (1 GiB), and without blocking. Prints one row per input:
exit code, seconds, peak RSS. Python standard library only.

    python3 tools/reproducers.py --bin .build/release --out .build-test/reproducers [--asan-bin .build-asan/debug]

With --asan-bin, quantize built with AddressSanitizer runs over the checkpoint inputs too (no address-space limit:
ASan reserves its shadow memory up front). With --seeds DIR the inputs are only written and copied into the fuzz
seed folders (make fuzz-seeds)."""
import argparse
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile

GIB = 1 << 30
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")


# --- pickle pieces (protocol 2) ---------------------------------------------------------------------------------
def p_str(s):
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b if len(b) < 256 else b"X" + struct.pack("<I", len(b)) + b


def p_int(v):
    if 0 <= v < 256:
        return b"K" + bytes([v])
    if -(1 << 31) <= v < (1 << 31):
        return b"J" + struct.pack("<i", v)
    raw = v.to_bytes((v.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw


def p_global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def p_storage(key, numel, view=None):
    out = b"(" + p_str("storage") + p_global("torch", "FloatStorage") + p_str(key) + p_str("cpu") + p_int(numel)
    if view is not None:  # legacy views: (view_key, offset, size)
        out += b"(" + p_str(view[0]) + p_int(view[1]) + p_int(view[2]) + b"t"
    return out + b"tQ"


def p_tensor(key, numel, shape, stride, view=None):
    return (p_global("torch._utils", "_rebuild_tensor_v2") + b"(" + p_storage(key, numel, view) + p_int(0)
            + b"(" + b"".join(p_int(d) for d in shape) + b"t" + b"(" + b"".join(p_int(s) for s in stride) + b"t"
            + b"\x89" + p_global("collections", "OrderedDict") + b")R" + b"tR")


def torch_zip(path, pickle, storages):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")
        for key, data in storages.items():
            z.writestr(f"archive/data/{key}", data)


def legacy(path, main_pickle, keys, storages):
    magic = b"\x80\x02\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little") + b"."
    out = magic + b"\x80\x02M\xe9\x03." + b"\x80\x02}." + main_pickle
    out += b"\x80\x02(" + b"".join(p_str(k) for k in keys) + b"l."
    for k in keys:
        out += struct.pack("<Q", len(storages[k]) // 4) + storages[k]
    with open(path, "wb") as f:
        f.write(out)


# --- CRC-32C, for a model file whose fields were patched -------------------------------------------------------
def crc32c(data):
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    crc = 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def patched_model(src, dst, field, value):
    """The model with one INFO field (0 = channels ... 3 = resize) replaced, its CRC recomputed."""
    data = bytearray(open(src, "rb").read())
    count, table = struct.unpack_from("<IQ", data, 28)
    for i in range(count):
        tag, _, off, _ = struct.unpack_from("<IIQQ", data, table + 24 * i)
        if tag == struct.unpack("<I", b"INFO")[0]:
            name_len = struct.unpack_from("<I", data, off)[0]
            struct.pack_into("<I", data, off + 4 + name_len + 4 * field, value)
    struct.pack_into("<I", data, 24, 0)
    struct.pack_into("<I", data, 24, crc32c(bytes(data)))
    open(dst, "wb").write(bytes(data))


# --- JPEG: a progressive 8192x8192 grey image whose AC scan is repeated ----------------------------------------
def scan_bomb(path, repeats, work):
    if not shutil.which("cjpeg"):
        return False
    pgm = os.path.join(work, "big.pgm")
    with open(pgm, "wb") as f:
        f.write(b"P5\n8192 8192\n255\n")
        f.write(bytes(8192) * 8192)
    script = os.path.join(work, "scans.txt")
    open(script, "w").write("0: 0 0 0 0;\n0: 1 63 0 0;\n")
    base = os.path.join(work, "base.jpg")
    subprocess.run(["cjpeg", "-grayscale", "-quality", "50", "-scans", script, "-outfile", base, pgm], check=True)
    os.remove(pgm)
    data = open(base, "rb").read()
    # Split at the SOS markers: header, DC scan, AC scan, EOI; repeat the AC scan.
    sos = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xDA]
    eoi = data.rindex(b"\xff\xd9")
    ac = data[sos[1]:eoi]
    open(path, "wb").write(data[:eoi] + ac * repeats + data[eoi:])
    os.remove(script)
    os.remove(base)
    return True


def make_inputs(out, default_model):
    cases = []  # (name, tool, args, what it is)
    os.makedirs(out, exist_ok=True)
    j = lambda *p: os.path.join(out, *p)  # noqa: E731

    # 1: safetensors shapes whose element count and byte size overflow 64 bits.
    for name, shape in [("st_overflow_4d", [1, 2**31 - 1, 2**31 - 1, 2**31 - 1]), ("st_overflow_3x", [2**31 - 1] * 3)]:
        header = json.dumps({"w": {"dtype": "F32", "shape": shape, "data_offsets": [0, 4]}}).encode()
        open(j(name + ".safetensors"), "wb").write(struct.pack("<Q", len(header)) + header + bytes(4))
        cases.append((name, "quantize", [j(name + ".safetensors")], "safetensors shape overflowing the size"))
    # 2: a legacy storage view at offset +-2^62.
    for sign, name in [(1, "legacy_view_plus"), (-1, "legacy_view_minus")]:
        main = b"\x80\x02}" + p_str("conv1.weight") + p_tensor("0", 4, [4], [1], view=("v0", sign * 2**62, 4)) + b"s."
        legacy(j(name + ".pt"), main, ["0"], {"0": bytes(16)})
        cases.append((name, "quantize", [j(name + ".pt")], "legacy storage view at offset %+d * 2^62" % sign))
    # 3: nesting: 100,000 TUPLE1; a million MARK/TUPLE levels.
    torch_zip(j("tuple1_100k.pth"), b"\x80\x02N" + b"\x85" * 100_000 + b".", {})
    cases.append(("tuple1_100k", "quantize", [j("tuple1_100k.pth")], "100,000 nested TUPLE1"))
    torch_zip(j("mark_tuple_1m.pth"), b"\x80\x02" + b"(" * 1_000_000 + b"N" + b"t" * 1_000_000 + b".", {})
    cases.append(("mark_tuple_1m", "quantize", [j("mark_tuple_1m.pth")], "1,000,000 MARK/TUPLE levels"))
    # 4: 200,000 chained _rebuild_from_type_v2 reduces.
    g = p_global("torch._tensor", "_rebuild_from_type_v2")
    chain = g + b"(" * 200_000 + b")" + (g + b"N" + b"N" + b"t") * 200_000  # (G, (G, (... ), N), N)
    torch_zip(j("rebuild_chain.pth"), b"\x80\x02" + g + chain + b"R.", {})
    cases.append(("rebuild_chain", "quantize", [j("rebuild_chain.pth")], "200,000 chained tensor-subclass rebuilds"))
    # 5: stride-0 views asking for 16 GiB each, 64 of them.
    sd = b"\x80\x02}("
    for i in range(64):
        sd += p_str(f"layer{i}.weight") + p_tensor("0", 1, [65536, 65536], [0, 0])
    torch_zip(j("stride0_views.pth"), sd + b"u.", {"0": bytes(4)})
    cases.append(("stride0_views", "quantize", [j("stride0_views.pth")], "64 stride-0 views of 2^32 elements"))
    # 6: a 3 MB pickle setting the same 2,000 keys over and over.
    body = b"".join(p_str(f"k{i % 2000}") + p_int(1) + b"s" for i in range(250_000))
    torch_zip(j("same_keys.pth"), b"\x80\x02}" + body + b".", {})
    cases.append(("same_keys", "quantize", [j("same_keys.pth")], "3 MB of repeated dict keys"))
    # 7: the progressive scan bomb.
    if scan_bomb(j("scan_bomb.jpg"), 1000, out):
        cases.append(("scan_bomb", "infer", [j("scan_bomb.jpg")], "8192x8192 progressive JPEG, AC scan x1000"))
    # 8: FIFOs where files are expected.
    fifo = j("fifo.jpg")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    calib = j("calib_with_fifo")
    os.makedirs(calib, exist_ok=True)
    shutil.copy(os.path.join(FIXTURES, "images", "chelsea.jpg"), os.path.join(calib, "a.jpg"))
    if not os.path.exists(os.path.join(calib, "b.jpg")):
        os.mkfifo(os.path.join(calib, "b.jpg"))
    small = os.path.join(FIXTURES, "checkpoints", "hsnet_small_zip.pth")
    cases += [
        ("fifo_image", "infer", [fifo], "a FIFO as the image"),
        ("fifo_model", "infer", ["--model", fifo, os.path.join(FIXTURES, "images", "chelsea.jpg")], "a FIFO as --model"),
        ("fifo_checkpoint", "quantize", [fifo], "a FIFO as the checkpoint"),
        ("fifo_in_calib", "quantize", [small, "--calib", calib, "-o", j("calib.mlrc")], "a FIFO inside --calib DIR"),
    ]
    # 10: a model whose resize (200) is smaller than its crop (224).
    patched_model(default_model, j("crop_over_resize.mlrc"), 3, 200)
    cases.append(("crop_over_resize", "infer", ["--model", j("crop_over_resize.mlrc"),
                                                os.path.join(FIXTURES, "images", "chelsea.jpg")],
                  "a model whose crop exceeds its resize"))
    # 13: the output named like the input.
    shutil.copy(small, j("same_name.pth"))
    cases.append(("same_name", "quantize", [j("same_name.pth"), "--precision", "fp32", "-o", j("same_name.pth")],
                  "quantize X -o X (succeeds, through a temporary file)"))
    return cases


def run(cmd, limit_as):
    """(exit code or None on a hang, seconds, peak RSS in KiB, output) of one command."""
    def limits():
        if limit_as:
            resource.setrlimit(resource.RLIMIT_AS, (4 * GIB, 4 * GIB))
    with tempfile.TemporaryFile() as out:
        start = time.monotonic()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, preexec_fn=limits)
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > 120:  # hang detection, not a speed target
                p.kill()
                _, status, usage = os.wait4(p.pid, 0)
                p.returncode = -9
                out.seek(0)
                return None, time.monotonic() - start, usage.ru_maxrss, out.read()
            time.sleep(0.005)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return p.returncode, time.monotonic() - start, usage.ru_maxrss, out.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    ap.add_argument("--asan-bin")
    ap.add_argument("--model", default=os.path.join(ROOT, ".build-model", "default.mlrc"))
    ap.add_argument("--out", default=os.path.join(ROOT, ".build-test", "reproducers"))
    ap.add_argument("--seeds", metavar="DIR", help="only write the inputs, and copy them as fuzz seeds to "
                    "DIR/checkpoint and DIR/jpeg (files up to 1 MB)")
    a = ap.parse_args()
    cases = make_inputs(a.out, a.model)
    if a.seeds:
        for name in sorted(os.listdir(a.out)):
            path = os.path.join(a.out, name)
            if not os.path.isfile(path) or os.path.getsize(path) > 1 << 20:
                continue
            kind = {".jpg": "jpeg", ".mlrc": None}.get(os.path.splitext(name)[1], "checkpoint")
            if kind is None:
                continue  # the patched model is larger than a seed; the model target's own seeds cover the field
            os.makedirs(os.path.join(a.seeds, kind), exist_ok=True)
            shutil.copy(path, os.path.join(a.seeds, kind, "repro-" + name))
        return 0
    tools = {"quantize": os.path.join(a.bin, "quantize"), "infer": os.path.join(a.bin, "mlrc-infer")}
    runs = [(name, tools[tool], args, what, True) for name, tool, args, what in cases]
    if a.asan_bin:
        runs += [(name + " (ASan)", os.path.join(a.asan_bin, "quantize"), args, what, False)
                 for name, tool, args, what in cases if tool == "quantize"]
    failed = 0
    print("| input | tool | exit | seconds | peak RSS MB | message |")
    print("|---|---|---|---|---|---|")
    for name, exe, args, what, limit in runs:
        if name.startswith("same_name"):  # the previous run replaced the checkpoint with its model
            shutil.copy(os.path.join(FIXTURES, "checkpoints", "hsnet_small_zip.pth"), args[0])
        code, seconds, rss_kb, output = run([exe] + args, limit)
        text = output.decode("utf-8", "replace").strip().splitlines()
        message = (text[-1] if text else "")[:110].replace("|", "/")
        ok = code is not None and code >= 0 and rss_kb < 1024 * 1024
        # Every input is refused with a status, except: X -o X converts, and a FIFO among the calibration photos
        # may be skipped (either way without blocking).
        if not name.startswith("fifo_in_calib"):
            ok = ok and (code == 0) == name.startswith("same_name")
        failed += not ok
        shown = "timeout" if code is None else ("signal %d" % -code if code < 0 else str(code))
        print(f"| {name}: {what} | {os.path.basename(exe)} | {shown} | {seconds:.2f} | {rss_kb / 1024:.0f} | "
              f"{message}{'' if ok else ' **FAIL**'} |")
    print(f"{len(runs) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
