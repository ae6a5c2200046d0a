# memstrat — the front door. Two commands for a user: `make bench` and `make test`.
# `make tune` runs a small threshold grid on two workloads (a few minutes on 2 cores).
# Everything else lives in CMake (build), build/memstrat (run, bench) and ctest (tests).
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= 2
MEMSTRAT   := $(BUILD)/memstrat
BENCH_ARGS ?=
ifdef QUICK
BENCH_ARGS += --quick
endif

TUNE_REPS  ?= 3
TUNE_POINTS ?= 3

.PHONY: all build build-asan bench tune test test-release test-asan plots figure deps ensure-deps clean

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

# Threshold grids (`memstrat tune`, run by the analysis package): request (latency-bound:
# the lowest p99 pause that keeps throughput within 5% of CPython's default) and tree with
# parent links (cycles everywhere: the fastest thresholds whose peak RSS stays within 10%
# of the default's); and request in the real interpreter (python3.11, the Python twin: what
# gc.set_threshold to call on a service like it).
tune: build
	$(MEMSTRAT) tune request/rc+gen/pool/slots/requests=4000 --grid gen0=200..20000 gen1=5..50 \
		--points $(TUNE_POINTS) --reps $(TUNE_REPS) --goal 'min-p99,throughput>=-5%'
	$(MEMSTRAT) tune tree/rc+gen/system/slots/parent=1/stretch=16/longlived=14/max=14 \
		--grid gen0=200..20000 gen2=5..50 --points $(TUNE_POINTS) --reps $(TUNE_REPS) --goal 'rss<=+10%'
	$(MEMSTRAT) tune request/cpython/pymalloc/shared/requests=2000 --grid gen0=700..50000 gen2=5..50 \
		--points $(TUNE_POINTS) --reps $(TUNE_REPS) --goal 'min-p99,throughput>=-5%'

plots: build
	$(MEMSTRAT) bench --plots-only results/latest

# The front page's figure (docs/figure.png): the pause CDF of the quick matrix's request cells,
# 3 repetitions (~20 s), drawn by the same scripts as every run's plots.
FIGURE_DIR := $(BUILD)/figure
figure: build
	@rm -rf $(FIGURE_DIR) && mkdir -p $(FIGURE_DIR)
	@grep '^request/' harness/matrix-quick.txt > $(FIGURE_DIR)/matrix.txt
	$(MEMSTRAT) bench --matrix $(FIGURE_DIR)/matrix.txt --reps 3 --out $(FIGURE_DIR) --run-id figure \
		--no-latest --gcscan-n 0 > $(FIGURE_DIR)/bench.txt
	cp $(FIGURE_DIR)/figure/plots/request-pause_cdf.png docs/figure.png

test: test-release test-asan

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
