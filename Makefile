# memstrat — the front door. Two commands for a user: `make bench` and `make test`.
# Everything else lives in CMake (build), build/memstrat (run, bench) and ctest (tests).
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= 2
MEMSTRAT   := $(BUILD)/memstrat
BENCH_ARGS ?=
ifdef QUICK
BENCH_ARGS += --quick
endif

.PHONY: all build build-asan bench test test-release test-asan plots deps ensure-deps clean

all: build

# Installs what is missing; a no-op when everything is there.
ensure-deps:
	@tools/deps.sh check || tools/deps.sh install

deps:
	@tools/deps.sh install

build: ensure-deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: ensure-deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMS_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

bench: build
	$(MEMSTRAT) bench $(BENCH_ARGS)

plots: build
	$(MEMSTRAT) bench --plots-only results/latest

test: test-release test-asan

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
