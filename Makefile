# collector — build, test, bench, install. `make help` lists the targets.
#
# Every .c under collector/, outputs/ and parsers/ is part of the agent; all but
# collector/agent/main.c also go into build/libcollector.a, which the unit tests
# (tests/unit/test_*.c, one executable each) and test tools (tests/tools/*.c)
# link against. Adding a module is adding a file: no list to edit here.

CC       ?= gcc
PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
SAN      ?=
PYTHON   ?= python3

PKGS     := jansson zlib openssl libpcre2-8 libsystemd
# Compiled against, but opened at first use (dlopen) rather than linked:
# core/libload.h. Packages must depend on them by hand (deploy/package-deb.sh,
# deploy/collector.spec).
DLOPEN_PKGS := libcurl libarchive
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_REV  := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

# The deflate behind core/gzip.h: ISA-L's igzip where libisal is installed,
# else zlib (Amazon Linux 2023 has no ISA-L). `make GZIP=zlib` or
# `make GZIP=isal` forces one. libisal is asked about on its own: pkg-config
# prints nothing at all when one of the packages it is given is missing.
# GZIP is taken from make's command line only, and kept out of the commands'
# environment: there it holds gzip(1)'s options (tar -z would fail on it).
ifneq ($(origin GZIP),command line)
GZIP := $(shell pkg-config --exists libisal 2>/dev/null && echo isal || echo zlib)
endif
unexport GZIP
ifeq ($(filter $(GZIP),isal zlib),)
$(error GZIP=$(GZIP): use GZIP=isal or GZIP=zlib)
endif
ifeq ($(GZIP),isal)
ifneq ($(shell pkg-config --exists libisal 2>/dev/null && echo yes),yes)
$(warning GZIP=isal, but pkg-config finds no libisal: install libisal-dev)
endif
GZIP_CFLAGS := $(shell pkg-config --cflags libisal 2>/dev/null)
GZIP_LIBS   := $(shell pkg-config --libs libisal 2>/dev/null)
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(DLOPEN_PKGS) 2>/dev/null) $(GZIP_CFLAGS)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(GZIP_LIBS)

CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
            -fno-strict-aliasing -I. $(PKG_CFLAGS) \
            -DCOLLECTOR_VERSION='"$(VERSION)"' -DCOLLECTOR_GIT_REV='"$(GIT_REV)"'
LDLIBS   += $(PKG_LIBS) -ldl -lpthread -lm

# The fuzz build (`make fuzz`): the library compiled by clang with coverage
# instrumentation for libFuzzer, ASan and UBSan, in build-fuzz/.
ifeq ($(FUZZ),1)
CFLAGS   += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined
endif

ifeq ($(SAN),1)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif

# core/gzip_isal.c and core/gzip_zlib.c: the one GZIP names is compiled in.
GZIP_SRCS := collector/core/gzip_isal.c collector/core/gzip_zlib.c
SRCS      := $(filter-out $(filter-out collector/core/gzip_$(GZIP).c,$(GZIP_SRCS)), \
             $(sort $(shell find collector outputs parsers -name '*.c' 2>/dev/null)))
LIB_SRCS  := $(filter-out collector/agent/main.c,$(SRCS))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ  := $(BUILD)/obj/collector/agent/main.o
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%) $(BUILD)/tests/test_gzip_zlib
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
DEPFILES  := $(sort $(LIB_OBJS:.o=.d) $(MAIN_OBJ:.o=.d) $(BUILD)/obj/collector/core/gzip_zlib.d)

.PHONY: FORCE all deps run test test-only check-asan unit integration bench install uninstall clean help docs \
        package fuzz fuzz-build fuzz-bins

all: $(BUILD)/collector                      ## build build/collector

# `make V=1` shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/collector: $(MAIN_OBJ) $(BUILD)/libcollector.a
	@echo "  LINK  $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libcollector.a: $(LIB_OBJS) $(BUILD)/gzip-backend
	@rm -f $@
	$(Q)ar rcs $@ $(LIB_OBJS)

# Names the backend in this build directory and changes (so the library and
# the agent are made again) only when GZIP does.
$(BUILD)/gzip-backend: FORCE
	@mkdir -p $(dir $@)
	@echo $(GZIP) | cmp -s - $@ || echo $(GZIP) > $@

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcollector.a
	@mkdir -p $(dir $@)
	@echo "  TEST  $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcollector.a $(LDLIBS) -lcmocka

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libcollector.a
	@mkdir -p $(dir $@)
	@echo "  TOOL  $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcollector.a $(LDLIBS)

# The zlib backend is tested in every build, also where ISA-L is the one
# compiled in: tests/unit/test_gzip.c linked against core/gzip_zlib.o, which
# comes before the library and so takes the place of its gzip functions.
$(BUILD)/tests/test_gzip_zlib: tests/unit/test_gzip.c $(BUILD)/obj/collector/core/gzip_zlib.o \
                               $(BUILD)/libcollector.a
	@mkdir -p $(dir $@)
	@echo "  TEST  $@"
	$(Q)$(CC) $(CFLAGS) -DGZIP_TEST_BACKEND='"zlib"' $(LDFLAGS) -o $@ $< \
	    $(BUILD)/obj/collector/core/gzip_zlib.o $(BUILD)/libcollector.a $(LDLIBS) -lcmocka

# The deflate benchmark also measures libdeflate, which the agent does not
# link, and ISA-L whatever GZIP is; each only where it is installed.
BENCH_DEFLATE = $(shell pkg-config --exists libdeflate 2>/dev/null && \
                  echo -DDEFLATE_BENCH_LIBDEFLATE $$(pkg-config --cflags --libs libdeflate)) \
                $(shell pkg-config --exists libisal 2>/dev/null && \
                  echo -DDEFLATE_BENCH_ISAL $$(pkg-config --cflags --libs libisal))
$(BUILD)/tools/deflate_bench: tests/tools/deflate_bench.c $(BUILD)/libcollector.a
	@mkdir -p $(dir $@)
	@echo "  TOOL  $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcollector.a $(LDLIBS) $(BENCH_DEFLATE)

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_util.h $(BUILD)/libcollector.a
	@mkdir -p $(dir $@)
	@echo "  FUZZ  $@"
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(BUILD)/libcollector.a \
		$(LDLIBS)

-include $(DEPFILES)

deps:                                        ## install missing build and test packages (apt-get; idempotent)
	@sh scripts/deps.sh

RUN_DATA ?= $(CURDIR)/$(BUILD)/run
# Targets that start with `deps` build in a second make: pkg-config flags are
# read when a Makefile is parsed, which must come after the packages exist.
run: deps                                    ## build, then run the agent in the foreground on ./conf.d
	@$(MAKE) --no-print-directory all
	COLLECTOR_DATA_DIR=$${COLLECTOR_DATA_DIR:-$(RUN_DATA)} $(BUILD)/collector run -c conf.d

test: deps                                   ## build, then run every test; ends with "N passed, N failed"
	@$(MAKE) --no-print-directory test-only

test-only: all $(UNIT_BINS) $(TOOL_BINS)
	@$(PYTHON) tests/run_tests.py --build $(BUILD)

unit: all $(UNIT_BINS)                       ## unit tests only
	@$(PYTHON) tests/run_tests.py --build $(BUILD) --unit-only

check-asan: deps                             ## every test under AddressSanitizer + UBSan (build-asan/)
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 test-only

bench: deps                                  ## benchmarks: print figures, assert nothing
	@$(MAKE) --no-print-directory all $(TOOL_BINS)
	@$(PYTHON) tests/bench/run_bench.py --build $(BUILD)

FUZZ_SECONDS ?= 60
fuzz: deps                                   ## build the libFuzzer targets (build-fuzz/), run each FUZZ_SECONDS (default 60)
	@$(MAKE) --no-print-directory fuzz-build
	@sh tests/fuzz/run.sh build-fuzz/fuzz $(FUZZ_SECONDS)

fuzz-build:                                  ## build the fuzz targets only (clang, -fsanitize=fuzzer,address,undefined)
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang FUZZ=1 fuzz-bins

fuzz-bins: $(FUZZ_BINS)

docs: all                                    ## regenerate README.md's configuration reference from the option tables
	@$(PYTHON) scripts/update_reference.py

install: all                                 ## install binary, /etc/collector/conf.d and docs (PREFIX, DESTDIR)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/collector/conf.d \
		$(DESTDIR)$(PREFIX)/share/doc/collector
	install -m 0755 $(BUILD)/collector $(DESTDIR)$(PREFIX)/bin/collector
	for f in conf.d/*.conf; do \
		test -e $(DESTDIR)/etc/collector/$$f || install -m 0644 $$f $(DESTDIR)/etc/collector/$$f; \
	done
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/collector/
	install -d $(DESTDIR)/etc/systemd/system
	sed 's|/usr/local/bin/collector|$(PREFIX)/bin/collector|' deploy/collector.service \
		> $(DESTDIR)/etc/systemd/system/collector.service

PACKAGE_DIR ?= $(BUILD)/package
package: all                                 ## build build/package/collector_VERSION_ARCH.deb (dpkg-deb; deploy/package-deb.sh)
	@sh deploy/package-deb.sh $(BUILD)/collector $(PACKAGE_DIR) $(VERSION)

uninstall:                                   ## remove what install put in place (keeps /etc/collector)
	rm -f $(DESTDIR)$(PREFIX)/bin/collector
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/collector
	rm -f $(DESTDIR)/etc/systemd/system/collector.service

clean:                                       ## remove build outputs
	rm -rf build build-asan build-fuzz build-zlib

help:                                        ## list targets
	@grep -E '^[a-z-]+:.*## ' Makefile | sed -E 's/:.*## /\t/' | expand -t 16
