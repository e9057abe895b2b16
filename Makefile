# Thin front door over CMake.  The two commands of the README:
#   make bench   build, then compare spangc with bdwgc, malloc and others
#   make check   build every test configuration and run the whole suite
JOBS   ?= $(shell nproc)
PREFIX ?= /usr/local
BENCH  ?= quick

.PHONY: all build debug check bench soak fuzz install clean

all: build

build:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
	cmake --build build -j$(JOBS)

debug:
	cmake -S . -B build-debug -DCMAKE_BUILD_TYPE=Debug
	cmake --build build-debug -j$(JOBS)

check:
	bash tests/run-all.sh

bench: build
	BENCH=$(BENCH) bash bench/run.sh

# 10 minutes of the stress program: 0 objects lost and flat RSS required.
soak:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSPANGC_BUILD_TESTS=ON
	cmake --build build -j$(JOBS) --target stress
	./build/tests/stress --soak --seconds 600

# The API fuzzer for FUZZ_SECONDS (default 300).
FUZZ_SECONDS ?= 300
fuzz:
	bash fuzz/run.sh $(FUZZ_SECONDS)

install: build
	cmake --install build --prefix $(PREFIX)

clean:
	rm -rf build build-debug build-asan build-tsan build-fuzz bench/out
