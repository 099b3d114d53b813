# Kring. The two commands a newcomer needs:
#   make run    install what is missing, build, run kringd in the foreground on 127.0.0.1:7443
#   make test   install what is missing, build, run the whole test suite with ctest
# Everything else here is a helper (see `make help`). Debian 12 only.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# Prerequisites run in the order listed (deps before build before run/test).
.NOTPARALLEL:

DEB_PACKAGES := build-essential cmake ninja-build pkg-config libgrpc++-dev protobuf-compiler-grpc \
	libprotobuf-dev protobuf-compiler libsqlite3-dev libsodium-dev catch2 clang-format python3 \
	openjdk-17-jdk-headless libprotobuf-java python3-icalendar

# sudo only when not root (CI and containers run as root and may have no sudo).
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# Parallel test processes; every test binds port 0 and uses its own temp dir.
CTEST_JOBS ?= 2
CTEST_FLAGS := -j $(CTEST_JOBS) --output-on-failure --no-tests=error

# make run: where kringd keeps its key and database, and extra flags for it.
KRINGD_DATA_DIR ?= var/kringd
KRINGD_ARGS ?=

# make health: the server to ask.
KRING_SERVER ?= 127.0.0.1:7443

# Sanitizer settings for make test-asan (override from the environment if needed).
ASAN_OPTIONS ?= detect_leaks=1
UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

FORMAT_DIRS := common server client-lib tools tests bindings bench
# bench/peers/node_modules (npm ci for the benchmarks) holds other projects' C++ sources.
FORMAT_FILES = $(shell find $(wildcard $(FORMAT_DIRS)) -path '*/node_modules' -prune -o -type f \( -name '*.h' -o -name '*.cpp' \) -print | sort)

.PHONY: help deps build run test demo test-asan format format-check health clean

help:
	@echo "make run          deps + build, then kringd in the foreground on 127.0.0.1:7443"
	@echo "                  (data in $(KRINGD_DATA_DIR); extra flags: KRINGD_ARGS='--log-level debug')"
	@echo "make test         deps + build, then ctest (default preset)"
	@echo "make demo         deps + build, then a scripted netwerkberaad on a temporary kringd"
	@echo "make deps         install missing Debian 12 packages with apt-get"
	@echo "make build        configure (once) and build the default preset into build/"
	@echo "make test-asan    configure, build and test the asan preset (build-asan/)"
	@echo "make format       clang-format -i on all C++ sources"
	@echo "make format-check clang-format --dry-run --Werror on all C++ sources"
	@echo "make health       ask a running kringd ($(KRING_SERVER)) for its gRPC health status"
	@echo "make bench        Release build into build-bench/ and every benchmark (docs/performance.md)"
	@echo "make fuzz         clang + libFuzzer build into build-fuzz/, each fuzz target for FUZZ_SECONDS"
	@echo "make clean        remove build/, build-debug/, build-asan/, build-fuzz/ (never var/)"

deps:
	@command -v dpkg-query >/dev/null && command -v apt-get >/dev/null || \
	  { echo "deps: needs Debian 12 (dpkg-query and apt-get not found)" >&2; exit 1; }
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  if ! dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'install ok installed'; then \
	    missing="$$missing $$p"; \
	  fi; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing </dev/null; \
	fi

build:
	@if [ ! -f build/build.ninja ]; then cmake --preset default; fi
	cmake --build --preset default

# exec: kringd replaces the shell, so Ctrl-C / SIGTERM reach it directly (graceful shutdown).
run: deps build
	exec build/server/kringd --data-dir "$(KRINGD_DATA_DIR)" $(KRINGD_ARGS)

test: deps build
	ctest --preset default $(CTEST_FLAGS)

# A whole netwerkberaad with seven `kring` profiles on a temporary kringd (port 0, temp data dir),
# narrated in Dutch; everything it made is removed at the end (tools/demo/demo.sh).
demo: deps build
	KRING=build/tools/kring/kring KRINGD=build/server/kringd tools/demo/demo.sh

test-asan: deps
	@if [ ! -f build-asan/build.ninja ]; then cmake --preset asan; fi
	cmake --build --preset asan
	ASAN_OPTIONS='$(ASAN_OPTIONS)' UBSAN_OPTIONS='$(UBSAN_OPTIONS)' ctest --preset asan $(CTEST_FLAGS)

format: deps
	@files="$(FORMAT_FILES)"; [ -z "$$files" ] || clang-format -i $$files

format-check: deps
	@files="$(FORMAT_FILES)"; \
	if [ -n "$$files" ]; then \
	  echo "clang-format --dry-run --Werror on $$(wc -w <<<"$$files") files"; \
	  clang-format --dry-run --Werror $$files; \
	fi

# Asks a running kringd through the kring CLI (built by make build / make run).
health:
	@if [ ! -x build/tools/kring/kring ]; then \
	  echo "health: build/tools/kring/kring is not built yet: run make build first" >&2; \
	  exit 1; \
	fi
	build/tools/kring/kring --server "$(KRING_SERVER)" health

clean:
	rm -rf build build-debug build-asan build-fuzz

# make bench: Release build into build-bench/ (tests off), then every benchmark of issue 7 in one
# run; results in bench/results/latest.md and latest.json (docs/performance.md explains them).
# GCC 12 reports false stringop-overread/maybe-uninitialized/restrict warnings at -O3 in project
# code, so those three are silenced for this build dir only. BENCH_ARGS='--quick' or
# '--only cold,push'; '--only peers' adds Yjs and PouchDB (bench/peers, npm ci when missing).
BENCH_ARGS ?=
.PHONY: bench
bench: deps
	@if [ ! -f build-bench/build.ninja ]; then \
	  cmake -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKRING_BUILD_TESTS=OFF \
	    -DCMAKE_CXX_FLAGS='-Wno-stringop-overread -Wno-maybe-uninitialized -Wno-restrict'; \
	fi
	cmake --build build-bench --target kring_bench
	mkdir -p bench/results
	build-bench/bench/kring_bench --out bench/results $(BENCH_ARGS)

# make fuzz: the fuzz targets of tests/fuzz built with clang for libFuzzer, ASan and UBSan into
# build-fuzz/, then each searched for FUZZ_SECONDS (default 60) from its committed seeds; findings
# go to build-fuzz/fuzz-findings/ (tests/fuzz/README.md). `make test` runs the same targets on
# their seeds with a fixed set of made inputs, without clang.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := fuzz_utf8 fuzz_terminal_text fuzz_icalendar fuzz_envelope fuzz_codes fuzz_verify_pull \
	fuzz_stored_state fuzz_parse_time
.PHONY: fuzz
# clang 14 and its libFuzzer runtime (libclang-rt-14-dev, only a recommended package of clang).
# Every library is built with coverage (fuzzer-no-link), so the search sees the code it tests.
FUZZ_PACKAGES := clang libclang-rt-14-dev
fuzz: deps
	@missing=""; for p in $(FUZZ_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing </dev/null; \
	fi
	@if [ ! -f build-fuzz/build.ninja ]; then \
	  CC=clang CXX=clang++ cmake -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DKRING_BUILD_BENCH=OFF -DKRING_FUZZ_ENGINE=libfuzzer \
	    -DCMAKE_C_FLAGS='-fsanitize=address,undefined,fuzzer-no-link' \
	    -DCMAKE_CXX_FLAGS='-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined'; \
	fi
	cmake --build build-fuzz --target $(FUZZ_TARGETS)
	tests/fuzz/run_fuzz.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)
