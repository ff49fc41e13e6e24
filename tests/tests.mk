# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Included by the top-level Makefile: unit tests, integration tests and their fixtures.

CHECK_CFLAGS = $(call pc_cflags,check)
CHECK_LIBS = $(call pc_libs,check)

# Unit tests: tests/check_<module>.c, no privileges needed.
UNIT_TESTS := $(patsubst tests/%.c,$(OUTPUT)/tests/%,$(wildcard tests/check_*.c))
# Integration tests: tests/it_<area>.c, run the real tools; need root and BPF.
IT_TESTS := $(patsubst tests/%.c,$(OUTPUT)/tests/%,$(wildcard tests/it_*.c))
TEST_UTIL := $(OUTPUT)/tests/testutil.o

$(OUTPUT)/tests/%.o: tests/%.c | $(SKEL)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/tests/check_%: $(OUTPUT)/tests/check_%.o $(TEST_UTIL) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ $(LIBS) $(CHECK_LIBS) -o $@
$(OUTPUT)/tests/it_%: $(OUTPUT)/tests/it_%.o $(TEST_UTIL) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ $(LIBS) $(CHECK_LIBS) -o $@

# Fixture programs with known leaks. Each is built with frame pointers (stacks are walked
# by frame pointer), at -O0 and at -O2; a few need extra flags or libraries.
FIXTURE_DIR := $(OUTPUT)/tests/fixtures
FIXTURE_SRCS := $(wildcard tests/fixtures/*.c)
FIXTURE_CXX_SRCS := $(wildcard tests/fixtures/*.cc)
FIXTURES := $(patsubst tests/fixtures/%.c,$(FIXTURE_DIR)/%,$(filter-out tests/fixtures/lib%.c,$(FIXTURE_SRCS)))
FIXTURES += $(patsubst tests/fixtures/%.c,$(FIXTURE_DIR)/%-O0,$(filter-out tests/fixtures/lib%.c,$(FIXTURE_SRCS)))
FIXTURES += $(patsubst tests/fixtures/%.cc,$(FIXTURE_DIR)/%,$(FIXTURE_CXX_SRCS))
FIXTURES += $(patsubst tests/fixtures/lib%.c,$(FIXTURE_DIR)/lib%.so,$(filter tests/fixtures/lib%.c,$(FIXTURE_SRCS)))
FIXTURES += $(FIXTURE_DIR)/static_leaky $(FIXTURE_DIR)/static_counted $(FIXTURE_DIR)/static_exec
FIXTURES += $(FIXTURE_DIR)/nofp_leaky $(FIXTURE_DIR)/nofp_via_libc $(FIXTURE_DIR)/nofp_kinds
FIXTURE_CFLAGS := -g -fno-omit-frame-pointer -Wall -D_GNU_SOURCE -pthread

$(FIXTURE_DIR)/%: tests/fixtures/%.c
	$(call msg,FIXTURE,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -O2 -MMD -MP $< -o $@ -ldl
$(FIXTURE_DIR)/%-O0: tests/fixtures/%.c
	$(call msg,FIXTURE,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -O0 -MMD -MP $< -o $@ -ldl
$(FIXTURE_DIR)/%: tests/fixtures/%.cc
	$(call msg,FIXTURE,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(FIXTURE_CFLAGS) -O2 -MMD -MP $< -o $@
$(FIXTURE_DIR)/lib%.so: tests/fixtures/lib%.c
	$(call msg,FIXTURE,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -O2 -shared -fPIC -MMD -MP $< -o $@
# As most programs are built: -O2, without frame pointers.
$(FIXTURE_DIR)/nofp_%: tests/fixtures/%.c
	$(call msg,FIXTURE,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -fomit-frame-pointer -O2 -MMD -MP $< -o $@ -ldl
$(FIXTURE_DIR)/static_%: tests/fixtures/%.c
	$(call msg,FIXTURE,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -O2 -static $< -o $@

.PHONY: tests fixtures check check-run
fixtures: $(FIXTURES)
tests: all fixtures $(UNIT_TESTS) $(IT_TESTS)

# `make check` installs what is missing first, then builds and runs everything.
check:
	$(Q)ci/install-deps.sh
	$(Q)$(MAKE) --no-print-directory check-run
check-run: tests
	$(Q)tests/run.sh $(OUTPUT) $(UNIT_TESTS) -- $(IT_TESTS)

# `make check-kernels`: each Debian kernel series (KERNELS) booted under qemu, every BPF
# program loaded on its own there, and the tools run on the fixtures
# (tests/kernels/check-kernels.sh).
KERNELS ?= 6.1 6.12
PROGCHECK := $(OUTPUT)/tests/kernels/progcheck
$(PROGCHECK): tests/kernels/progcheck.c
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARN) $(call pc_cflags,libbpf) $< $(call pc_libs,libbpf) -o $@

.PHONY: check-kernels check-kernels-run
check-kernels:
	$(Q)ci/install-deps.sh --kernels
	$(Q)$(MAKE) --no-print-directory check-kernels-run
check-kernels-run: all fixtures $(PROGCHECK)
	$(Q)tests/kernels/check-kernels.sh $(OUTPUT) $(KERNELS)

# Benchmark programs and `make bench` (tests/bench/bench.sh).
BENCH_PROGS := $(OUTPUT)/tests/bench/churn $(OUTPUT)/tests/bench/hold $(OUTPUT)/tests/bench/heap
$(OUTPUT)/tests/bench/%: tests/bench/%.c
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -fno-omit-frame-pointer -Wall $< -o $@

.PHONY: bench bench-run
bench:
	$(Q)ci/install-deps.sh --bench
	$(Q)$(MAKE) --no-print-directory bench-run
bench-run: all $(BENCH_PROGS)
	$(Q)tests/bench/bench.sh $(OUTPUT)
