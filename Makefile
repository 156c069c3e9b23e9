# Thin wrapper over CMake: the README's two commands (`make demo`, `make test`) start here.
# `deps` installs what the build, tests and demo need (Debian 12), only when missing.

BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS       ?= $(shell nproc)

DEB_PACKAGES = build-essential cmake pkg-config openssl zstd curl python3 \
               libssl-dev librocksdb-dev libzstd-dev zlib1g-dev check libsubunit-dev \
               libarchive-dev libcurl4-openssl-dev libmicrohttpd-dev libgnutls28-dev libyaml-dev libjansson-dev libutf8proc-dev libisal-dev e2fsprogs python3-yaml \
               libbcprov-java libbcpkix-java libbcutil-java \
               libcairo2-dev libpango1.0-dev fonts-noto-cjk poppler-utils chromium \
               librados-dev ceph-mon ceph-osd ceph-common uuid-runtime iproute2

# The fuzzing build (tests/fuzz, docs/FUZZING.md) needs clang and its libFuzzer runtime, installed
# only when fuzzing is run. FUZZ_SECONDS: how long each harness runs; FUZZ_JOBS: how many at a time.
FUZZ_BUILD    ?= build-fuzz
FUZZ_SECONDS  ?= 60
FUZZ_JOBS     ?= 2
FUZZ_PACKAGES  = clang libclang-rt-14-dev

# $(call install_missing,PACKAGES): apt-get installs those not installed yet.
install_missing = missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	$(2) \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

.PHONY: all deps fuzz-deps build test test-plain test-asan test-tsan test-fuzz fuzz crash-test fault-test demo bench clean

all: build

deps:
	@$(call install_missing,$(DEB_PACKAGES),command -v javac >/dev/null || missing="$$missing default-jdk-headless";)

fuzz-deps: deps
	@$(call install_missing,$(FUZZ_PACKAGES),)

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# The plain build and a build under AddressSanitizer + UndefinedBehaviorSanitizer both pass, and
# every fuzzing harness runs 30 seconds without a crash, leak or hang.
test: test-plain test-asan test-fuzz

test-plain: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DKURA_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

# The service's tests (test_serve*.sh, test_web.sh, the load test) with kura built under
# ThreadSanitizer; any data race reported in kura fails it (tests/tsan.sh, docs/SERVICE.md).
# Not part of `make test`.
test-tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKURA_TSAN=ON >/dev/null
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target kura kura_faultfs
	tests/tsan.sh $(TSAN_BUILD)

# The long kill loop: 1,000 random kill -9 over every writing operation under a simulated
# clock (tests/cli/test_kill_loop.sh; `make test` runs 50). KILLS=N for another count; the
# figures go to $(BUILD)/kill-loop.json (docs/HARDENING.md, "Kill loop").
KILLS ?= 1000
crash-test: build
	KILLS=$(KILLS) KURA_BIN=$(abspath $(BUILD))/kura KILL_REPORT=$(abspath $(BUILD))/kill-loop.json \
	  bash tests/cli/test_kill_loop.sh

# Every harness of tests/fuzz for FUZZ_SECONDS each; a crashing input is kept in
# $(FUZZ_BUILD)/fuzz/crashes/NAME/ (tests/fuzz/run.sh prints how to reproduce it).
fuzz: fuzz-deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKURA_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_JOBS)

test-fuzz:
	$(MAKE) fuzz FUZZ_SECONDS=30

demo: build
	./demo/run.sh $(BUILD)/kura

# One table of rates, baselines measured in the same run and targets (bench/run.sh says what
# each row measures). FULL=1 adds the seal of 10M objects.
bench: build
	./bench/run.sh $(BUILD) $(if $(filter 1,$(FULL)),1,0)

# Every fault point of every operation (tests/fault/sweep.sh): EIO, ENOSPC and short writes at
# each call, and a kill at each durable step; `make test` runs a sample of them.
fault-test: build
	KURA_BIN=$(BUILD)/kura KURA_FAULTFS=$(BUILD)/tests/libkura_faultfs.so FAULT_SAMPLE=0 \
	  bash tests/fault/test_fault_sweep.sh
	KURA_BIN=$(BUILD)/kura KURA_FAULTFS=$(BUILD)/tests/libkura_faultfs.so FAULT_SAMPLE=0 \
	  bash tests/fault/test_fault_compact.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD) demo-store demo-export.tar.zst
