"""Seeds for the structure-aware checkpoint fuzzer (`mlrc-fuzz pickle`, Sources/mlrc-fuzz/PickleProgram.swift):
byte programs whose instructions build the shapes torch.save writes. Deterministic; run to rewrite
Tests/Fixtures/fuzz/pickle/.

    python3 tools/make_pickle_seeds.py"""
import pathlib
import random

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "fuzz" / "pickle"
STRINGS = [
    "storage", "cpu", "0", "1", "2", "3", "state_dict", "model", "model_ema", "_metadata", "version",
    "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
    "layer1.0.conv1.weight", "layer1.0.bn1.weight", "fc.weight", "fc.bias",
]
# Instruction numbers (the byte % 40 PickleProgram reads).
MARK, EMPTY_DICT, SETITEMS, SETITEM, STRING, TENSOR, BINPUT, BINGET, TUPLE1, EMPTY_LIST, APPEND = 0, 1, 9, 8, 20, 28, 30, 31, 5, 2, 10


def key(name):
    return [STRING, STRINGS.index(name)]


def tensor(dims, storage_type=0, storage=0, numel=64):
    # storage type, key, numel / 4, offset, rank, dims, then a contiguous-stride choice per dim
    return [TENSOR, storage_type, storage, numel // 4, 0, len(dims)] + list(dims) + [2] * len(dims)


def state_dict():
    p = [EMPTY_DICT, MARK]
    p += key("conv1.weight") + tensor([8, 3, 3, 3], storage=0, numel=216)
    p += key("bn1.weight") + tensor([8], storage=1, numel=8)
    p += key("bn1.bias") + tensor([8], storage=1, numel=8)
    p += key("fc.weight") + tensor([10, 8], storage=2, numel=80)
    p += key("fc.bias") + tensor([10], storage=3, numel=10)
    return p + [SETITEMS]


def resnet_like():
    p = [EMPTY_DICT, MARK]
    p += key("conv1.weight") + tensor([8, 3, 7, 7], storage=0, numel=1176)
    for name in ("bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var"):
        p += key(name) + tensor([8], storage=1, numel=8)
    p += key("layer1.0.conv1.weight") + tensor([8, 8, 3, 3], storage=0, numel=576)
    p += key("layer1.0.bn1.weight") + tensor([8], storage=1, numel=8)
    p += key("fc.weight") + tensor([10, 8], storage=2, numel=80)
    p += key("fc.bias") + tensor([10], storage=3, numel=10)
    return p + [SETITEMS]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    storages = [255, 15, 32, 1, 64, 1, 16, 1]  # first: four storages, each a size byte and a multiplier byte
    seeds = {
        "state_dict": storages + state_dict(),
        "training_checkpoint": storages + [EMPTY_DICT] + key("state_dict") + state_dict() + [SETITEM],
        "memo": storages + [EMPTY_DICT, BINPUT, 1, MARK] + key("fc.weight") + tensor([4, 4]) + [BINPUT, 2]
        + key("fc.bias") + [BINGET, 2, SETITEMS],
        "resnet_like": storages + resnet_like(),
        "nested": storages + [EMPTY_LIST] * 40 + [APPEND] * 39 + [TUPLE1] * 30,
    }
    rng = random.Random(7)
    for i in range(4):
        seeds[f"random_{i}"] = [rng.randrange(256) for _ in range(300)]
    for name, program in seeds.items():
        (OUT / f"{name}.bin").write_bytes(bytes(b % 256 for b in program))
    print(f"wrote {len(seeds)} seeds to {OUT}")


if __name__ == "__main__":
    main()
