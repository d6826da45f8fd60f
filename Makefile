# sharewarden — plain Makefile with pkg-config.
# make            build build/sharewarden
# make check      install dependencies, build, run every test (unit, ASan/UBSan, scenarios, fuzz smoke, lab)
# make demo       install dependencies, build, run the lab demo
# make fuzz       build the libFuzzer harnesses and run each for FUZZ_SECONDS

CC      ?= cc
BUILD   ?= build
PKGS     = sqlite3 jansson libcrypto libnftables libcurl
WARN     = -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wpointer-arith -Wno-unused-parameter
OPT     ?= -O2 -g
SAN     ?=
# CFLAGS and LDFLAGS from the command line are added, never replace the warnings.
ALL_CFLAGS = $(OPT) $(SAN) -std=gnu11 -D_GNU_SOURCE $(WARN) $(shell pkg-config --cflags $(PKGS)) $(CFLAGS)
ALL_LDFLAGS = $(SAN) $(LDFLAGS)
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lbtrfsutil -lnetsnmp -lm
PREFIX  ?= /usr/local
FUZZ_SECONDS ?= 20

SRC     = $(wildcard src/*.c)
LIBOBJ  = $(patsubst src/%.c,$(BUILD)/%.o,$(filter-out src/main.c,$(SRC)))
TESTS   = $(patsubst tests/unit/%.c,$(BUILD)/%,$(wildcard tests/unit/test_*.c))
FUZZERS = $(patsubst tests/fuzz/%.c,build-fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all deps check unit asan scenarios cli restore-test lab-test demo fuzz bench install clean

all: $(BUILD)/sharewarden

$(BUILD):
	mkdir -p $(BUILD)

$(BUILD)/%.o: src/%.c $(wildcard src/*.h) | $(BUILD)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libsw.a: $(LIBOBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/sharewarden: $(BUILD)/main.o $(BUILD)/libsw.a
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test_%: tests/unit/test_%.c $(BUILD)/libsw.a
	$(CC) $(ALL_CFLAGS) -Isrc $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libsw.a $(LDLIBS) $(shell pkg-config --libs cmocka)

# Test tools (tests/tools/*.c): build/sw-NAME, linked with the library.
$(BUILD)/sw-%: tests/tools/%.c $(BUILD)/libsw.a
	$(CC) $(ALL_CFLAGS) -Isrc $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libsw.a $(LDLIBS)

deps:
	sh scripts/install-deps

# The community pattern list lives beside the repository (../shared/data); tests that need it skip without it.
export SW_COMMUNITY_LIST ?= $(abspath ../shared/data/community-patterns.txt)

unit: $(TESTS) $(BUILD)/sharewarden
	@set -e; for t in $(TESTS); do echo "== $$t"; $$t; done

# The same unit tests under AddressSanitizer and UndefinedBehaviorSanitizer.
asan:
	$(MAKE) BUILD=build-asan CC=clang OPT="-O1 -g" \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" unit

scenarios: $(BUILD)/sharewarden
	sh tests/scenarios/run $(BUILD)/sharewarden

cli: $(BUILD)/sharewarden $(BUILD)/sw-fixture
	bash tests/cli/run $(BUILD)/sharewarden

FUZZ_CFLAGS = -g -O1 -std=gnu11 -D_GNU_SOURCE -Isrc $(shell pkg-config --cflags $(PKGS))
FUZZOBJ = $(patsubst src/%.c,build-fuzz/obj/%.o,$(filter-out src/main.c,$(SRC)))

build-fuzz/obj/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p build-fuzz/obj
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

build-fuzz/libsw-fuzz.a: $(FUZZOBJ)
	rm -f $@
	ar rcs $@ $^

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c build-fuzz/libsw-fuzz.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< build-fuzz/libsw-fuzz.a $(LDLIBS)

fuzz: $(FUZZERS)
	@set -e; for f in $(FUZZERS); do n=$$(basename $$f); mkdir -p build-fuzz/corpus-$$n; \
	    echo "== $$n ($(FUZZ_SECONDS)s)"; \
	    seeds=tests/fuzz/seeds/$$n; [ -d $$seeds ] || seeds=; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -max_len=70000 build-fuzz/corpus-$$n $$seeds \
	        > build-fuzz/$$n.log 2>&1 || { tail -40 build-fuzz/$$n.log; exit 1; }; tail -1 build-fuzz/$$n.log; done

# Snapshot schedule and retention, then restore, against real btrfs, tmpfs and the real CLI.
restore-test: $(BUILD)/sharewarden $(BUILD)/sw-fixture
	bash tests/snapshots/run $(BUILD)
	bash tests/restore/run $(BUILD)

lab-test: $(BUILD)/sharewarden
	bash tests/lab/run-tests

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) asan
	$(MAKE) scenarios
	$(MAKE) cli
	$(MAKE) restore-test
	$(MAKE) fuzz FUZZ_SECONDS=10
	$(MAKE) lab-test

demo: deps
	$(MAKE) all
	bash tests/lab/demo

bench: all
	bash bench/engine
	bash bench/contain

install: $(BUILD)/sharewarden
	install -D -m 0755 $(BUILD)/sharewarden $(DESTDIR)$(PREFIX)/sbin/sharewarden
	install -D -m 0644 etc/sharewarden.conf $(DESTDIR)/etc/sharewarden/sharewarden.conf.example

clean:
	rm -rf build build-asan build-fuzz
