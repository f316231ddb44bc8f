# binlog-cdc developer and CI entry points.
#   make setup   install what a fresh Debian 12 machine lacks (.ci/setup;
#                idempotent, quick when all is there); test and demo run it
#   make test    everything: unit tests and integration tests against real servers
#   make jars    fetch the Java servers' jars the integration tests run (idempotent)
#   make static  the release binary, static (musl), everything linked in
#   make static-check  build it, then prove it is static and runs
#   make bench   binlog-cdc vs Debezium, python-mysql-replication and ZongJi:
#                one table of figures (make bench-quick: small sizes, < 3 min)
#   make demo    MariaDB + Kafka + binlog-cdc on this machine, printing the
#                records a few row changes become (KEEP=1: run until Ctrl-C)

CARGO        ?= cargo
MVN          ?= mvn -q -B
TEST_THREADS ?= 4
JARS_DIR     := .cache/jars

.PHONY: all setup test jars kafka-jars

# System packages (MariaDB server, Java, Maven, cmake, g++, musl-tools) and the
# musl Rust target.
setup:
	bash .ci/setup

all: test

# Every jar set the tests need; each one adds itself as a prerequisite.
jars: kafka-jars

# Apache Kafka broker (tests/it/support/kafka): re-fetched when its pom changes.
kafka-jars: $(JARS_DIR)/kafka/.done
$(JARS_DIR)/kafka/.done: tests/jars/kafka/pom.xml
	rm -rf $(JARS_DIR)/kafka $(JARS_DIR)/kafka.tmp
	$(MVN) -f $< dependency:copy-dependencies -DoutputDirectory=$(CURDIR)/$(JARS_DIR)/kafka.tmp
	mv $(JARS_DIR)/kafka.tmp $(JARS_DIR)/kafka
	touch $@

test: setup jars
	$(CARGO) test -- --test-threads=$(TEST_THREADS)

# Debezium oracle: Kafka Connect + Debezium MariaDB connector on one flat
# classpath (tests/it/support/debezium.rs); re-fetched when its pom changes.
.PHONY: debezium-jars
jars: debezium-jars
debezium-jars: $(JARS_DIR)/debezium/.done
$(JARS_DIR)/debezium/.done: tests/jars/debezium/pom.xml
	rm -rf $(JARS_DIR)/debezium $(JARS_DIR)/debezium.tmp
	$(MVN) -f $< dependency:copy-dependencies -DoutputDirectory=$(CURDIR)/$(JARS_DIR)/debezium.tmp
	mv $(JARS_DIR)/debezium.tmp $(JARS_DIR)/debezium
	touch $@

# Benchmarks (not timed tests): binlog-cdc and its peers (Debezium on Kafka
# Connect, python-mysql-replication, ZongJi; the last two installed into
# .cache/ on first use) on the same binlog, printed as one markdown table and
# written to target/bench/latest.{json,md}. Sizes: BENCH_ROWS, BENCH_TX_ROWS,
# BENCH_BIG_ROWS, BENCH_BIG_ROW_BYTES, BENCH_RATES, BENCH_LATENCY_SECS;
# selection: BENCH_CASES=1,2,3,4,5 BENCH_PEERS=debezium,python,zongji|none
# (tests/bench/main.rs). bench-quick: the same with small sizes, < 3 minutes.
.PHONY: bench bench-quick
bench: jars
	$(CARGO) test --release --test bench -- --ignored --nocapture --test-threads=1

bench-quick: jars
	BENCH_ROWS=$${BENCH_ROWS:-20000} BENCH_BIG_ROWS=$${BENCH_BIG_ROWS:-100000} \
	BENCH_LATENCY_SECS=$${BENCH_LATENCY_SECS:-5} BENCH_WARMUP_SECS=$${BENCH_WARMUP_SECS:-1} \
	BENCH_SNAPSHOT_ROWS=$${BENCH_SNAPSHOT_ROWS:-20000} \
	$(CARGO) test --release --test bench -- --ignored --nocapture --test-threads=1

# One static binary for x86_64 Linux (musl): librdkafka (cmake build), OpenSSL
# (vendored), zstd, lz4 (librdkafka's own) and zlib compiled in; runs on any
# x86_64 Linux, in a FROM scratch image too. Needs musl-tools and the
# x86_64-unknown-linux-musl Rust target (.ci/setup installs both).
# C goes through musl-gcc. librdkafka's CMake project always enables C++ and
# builds its C++ wrapper (librdkafka++) too; musl has no C++ compiler, so the
# host g++ compiles that wrapper, which is never linked: rdkafka-sys links only
# the C library, and `make static-check` proves the result is static.
# Had another CC built librdkafka for this target before, remove
# target/x86_64-unknown-linux-musl/release/build/rdkafka-sys-*: CMake drops its
# cache when the compiler changes and then also builds librdkafka's tests and
# examples, which fail under musl.
STATIC_TARGET := x86_64-unknown-linux-musl
STATIC_BIN    := $(or $(CARGO_TARGET_DIR),target)/$(STATIC_TARGET)/release/binlog-cdc
# Debug info stays in the development release profile (profiling); the
# shipped binary drops it (110 MB → about 19 MB).
STATIC_ENV    := CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_STRIP=symbols \
                 CC_x86_64_unknown_linux_musl=musl-gcc \
                 CXX_x86_64_unknown_linux_musl=g++ \
                 AR_x86_64_unknown_linux_musl=ar

.PHONY: static static-check
static:
	$(STATIC_ENV) $(CARGO) build --release --locked --target $(STATIC_TARGET) --bin binlog-cdc

static-check: static
	@out=$$(ldd $(STATIC_BIN) 2>&1); \
	case "$$out" in \
	  *"not a dynamic executable"*|*"statically linked"*) echo "ldd $(STATIC_BIN): $$out";; \
	  *) echo "error: $(STATIC_BIN) is not static; ldd says:" >&2; echo "$$out" >&2; exit 1;; \
	esac
	$(STATIC_BIN) --version

# The demo reuses the tests' server harness (examples/demo/support.rs), so it
# needs exactly what `make test` needs.
.PHONY: demo
demo: setup kafka-jars
	$(CARGO) build --bin binlog-cdc --example demo
	DEMO_KEEP=$(KEEP) $(CARGO) run --quiet --example demo

# Long fuzz run of the binlog file path: reader, decoder, JSON rendering
# (tests/fuzz_binlog.rs; a short run is part of `make test`).
.PHONY: fuzz fuzz-long
fuzz:
	PROPTEST_CASES=$${PROPTEST_CASES:-20000} $(CARGO) test --release --test fuzz_binlog

# At least FUZZ_SECONDS (600) of fuzzing, fresh seeds each run.
fuzz-long:
	scripts/fuzz-for-seconds
