# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# One non-recursive Makefile. Everything built lands under $(OUTPUT), mirroring the tree.
# `make V=1` shows the commands.

OUTPUT ?= .output
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(PREFIX)/bin
MANDIR := $(PREFIX)/share/man/man8

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
# Objects are kept: they are what the next build reuses.
.SECONDARY:
.SUFFIXES:

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/' -e 's/s390x/s390/')

# Every library the project links, by pkg-config name, with the Debian package that has it.
PKGS := libbpf:libbpf-dev libelf:libelf-dev libdw:libdw-dev libxml-2.0:libxml2-dev \
	json-c:libjson-c-dev
TEST_PKGS := check:check

# Dependencies are checked only for goals that build something.
ifeq ($(filter clean deps help check check-kernels demo bench vmlinux,$(MAKECMDGOALS)),)
missing := $(strip $(foreach p,$(PKGS),$(if $(shell $(PKG_CONFIG) --exists $(firstword $(subst :, ,$(p))) && echo y),,$(lastword $(subst :, ,$(p))))))
ifneq ($(missing),)
$(error missing build dependencies: $(missing) (install them, or run: sudo ci/install-deps.sh))
endif
endif

pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1))
pc_libs = $(shell $(PKG_CONFIG) --libs $(1))

WARN := -Wall -Wextra -Wno-unused-parameter -Wmissing-prototypes -Wstrict-prototypes
ifneq ($(CI),)
WARN += -Werror
endif
CFLAGS ?= -O2 -g
INCLUDES := -I$(OUTPUT) -I. -Ibpf
ALL_CFLAGS := $(CFLAGS) -std=gnu11 -D_GNU_SOURCE -fno-omit-frame-pointer $(WARN) $(INCLUDES) \
	$(call pc_cflags,libbpf libelf libdw libxml-2.0 json-c)
LIBS := $(call pc_libs,libbpf libelf libdw libxml-2.0 json-c) -lz -lstdc++

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-function \
	-I$(OUTPUT) -Ibpf -Ibpf/vmlinux/$(ARCH)

# The engine: every module except the programs' mains, in one archive.
LIB_SRCS := $(filter-out runner/memleak.c runner/memleak_run.c,$(wildcard runner/*.c)) \
	$(wildcard assertions/*.c) $(wildcard reporters/*.c)
LIB_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(LIB_SRCS))
LIB := $(OUTPUT)/libmemleak.a

PROGS := memleak $(if $(wildcard runner/memleak_run.c),memleak-run)
PROG_BINS := $(addprefix $(OUTPUT)/,$(PROGS))
# The library memleak-run preloads into the programs it runs (runner/preload/preload.c).
PRELOAD := $(OUTPUT)/libmemleak-preload.so
LIBEXECDIR := $(PREFIX)/lib/memleak

SKEL := $(OUTPUT)/memleak.skel.h
BPF_OBJ := $(OUTPUT)/bpf/memleak.bpf.o

.PHONY: all
all: $(PROG_BINS) $(PRELOAD)

# --- BPF object and skeleton -----------------------------------------------------------
# vmlinux.h is generated from this kernel's BTF by `make vmlinux` and committed per
# architecture, so the build works on machines without BTF; CO-RE relocates at load time.
$(BPF_OBJ): bpf/memleak.bpf.c | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $@.d -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp
	$(Q)rm -f $@.tmp

$(SKEL): $(BPF_OBJ)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name memleak_bpf > $@

.PHONY: vmlinux
vmlinux:
	$(Q)mkdir -p bpf/vmlinux/$(ARCH)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > bpf/vmlinux/$(ARCH)/vmlinux.h

# --- user space --------------------------------------------------------------------------
# Every object waits for the skeleton: the first build cannot know yet who includes it.
$(OUTPUT)/%.o: %.c | $(SKEL)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUTPUT)/memleak: $(OUTPUT)/runner/memleak.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ $(LIBS) -o $@

$(OUTPUT)/memleak-run: $(OUTPUT)/runner/memleak_run.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ $(LIBS) -o $@

# Frame pointers in every wrapper, even the leaf-like ones: the stack walk starts there.
# Exceptions unwind through it (C++'s operator new); calls to its own sites bind locally.
$(PRELOAD): runner/preload/preload.c bpf/memleak.h | $(OUTPUT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -std=gnu11 -D_GNU_SOURCE $(WARN) -I. -Ibpf -fPIC -shared \
		-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fexceptions \
		-fvisibility=hidden -fno-stack-protector -Wl,-Bsymbolic-functions $< -o $@ -ldl
$(OUTPUT) $(OUTPUT)/bpf:
	$(Q)mkdir -p $@

# --- tests -------------------------------------------------------------------------------
include tests/tests.mk

# --- demo, install, housekeeping ----------------------------------------------------------
.PHONY: deps
deps:
	$(Q)ci/install-deps.sh

.PHONY: demo demo-run
demo:
	$(Q)ci/install-deps.sh
	$(Q)$(MAKE) --no-print-directory demo-run
demo-run: all $(OUTPUT)/tests/fixtures/leaky
	$(Q)tests/demo.sh $(OUTPUT)

.PHONY: install
install: $(PROG_BINS) $(PRELOAD)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(PROG_BINS) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(PRELOAD) $(DESTDIR)$(LIBEXECDIR)/
	install -d $(DESTDIR)$(MANDIR)
	install -m 0644 docs/memleak.8 $(DESTDIR)$(MANDIR)/

.PHONY: uninstall
uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(PROGS)) $(DESTDIR)$(MANDIR)/memleak.8 \
		$(DESTDIR)$(LIBEXECDIR)/$(notdir $(PRELOAD))

.PHONY: clean
clean:
	rm -rf $(OUTPUT)

.PHONY: help
help:
	@echo 'make            build memleak and memleak-run into $(OUTPUT)/'
	@echo 'make demo       install missing dependencies, build, trace a bundled leaky program'
	@echo 'make check      install missing dependencies, build, run every test'
	@echo 'make bench      measure the cost of tracing against native and other tools'
	@echo 'make check-kernels  boot Debian kernels ($(KERNELS)) under qemu: load, smoke-run'
	@echo 'make install    install into $$(DESTDIR)$$(PREFIX) (default $(PREFIX))'
	@echo 'make vmlinux    regenerate bpf/vmlinux/$(ARCH)/vmlinux.h from this kernel'

-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)
