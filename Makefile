# Thin wrapper: the build is Meson + Ninja, the logic lives in scripts/.
#   make run     install missing packages, build, start winnowd in the foreground
#   make check   sanitizer build, unit + fuzz-seed + end-to-end tests, one summary line
#   make bench   bench/scan-throughput (winnowd vs Rspamd 3.4)
#   make fuzz    libFuzzer build with clang, 60 s per target over its seeds
#   make build   debugoptimized build in ./build
#   make clean   remove build directories and ./var
SHELL := /bin/bash
BUILD ?= build
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: all build run check bench fuzz deps clean

all: build

deps:
	@bash scripts/install-deps --check >/dev/null 2>&1 || $(SUDO) bash scripts/install-deps

build: deps
	@if [ ! -f $(BUILD)/build.ninja ]; then \
		meson setup $(BUILD) --buildtype=debugoptimized; \
	fi
	ninja -C $(BUILD)

run: build
	BUILD=$(BUILD) bash scripts/run-dev

check:
	bash scripts/check

bench: deps
	/usr/bin/python3 bench/scan-throughput

fuzz: deps
	bash scripts/fuzz

clean:
	rm -rf build build-check build-bench build-fuzz build-fuzz-seeds var
