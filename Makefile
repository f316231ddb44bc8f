# binlog-cdc developer and CI entry points.
#   make test    everything: unit tests and integration tests against real servers
#   make jars    fetch the Java servers' jars the integration tests run (idempotent)

CARGO        ?= cargo
MVN          ?= mvn -q -B
TEST_THREADS ?= 4
JARS_DIR     := .cache/jars

.PHONY: all test jars kafka-jars

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

test: jars
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

# Benchmarks (not timed tests): print a table of figures.
.PHONY: bench
bench: jars
	$(CARGO) test --release --test bench -- --ignored --nocapture --test-threads=1
