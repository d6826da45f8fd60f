# sharewarden — plain Makefile with pkg-config.
# make            build build/sharewarden
# make check      install dependencies, build, run every test (unit, ASan/UBSan, scenarios, fuzz smoke, lab)
# make demo       install dependencies, build, run the lab demo
# make fuzz       build the libFuzzer harnesses and run each for FUZZ_SECONDS
# make fuzz-long  run each harness for FUZZ_RUNS executions and minimize tests/fuzz/corpus (not in check)

CC      ?= cc
BUILD   ?= build
PKGS     = sqlite3 jansson libcrypto libnftables libcurl ldap libnats
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

.PHONY: all deps check unit asan scenarios cli restore-test fleet-test replication-test lab-test demo fuzz fuzz-long bench install clean

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

# UB stops a run like a crash does (by default UBSan prints and goes on, and libFuzzer never notices).
FUZZ_SAN = address,undefined -fno-sanitize-recover=undefined

build-fuzz/obj/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p build-fuzz/obj
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c -o $@ $<

build-fuzz/libsw-fuzz.a: $(FUZZOBJ)
	rm -f $@
	ar rcs $@ $^

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c build-fuzz/libsw-fuzz.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $< build-fuzz/libsw-fuzz.a $(LDLIBS)

# New units go to build-fuzz/corpus-NAME; the corpus kept in the tree and the seeds are only read.
fuzz: $(FUZZERS)
	@set -e; for f in $(FUZZERS); do n=$$(basename $$f); mkdir -p build-fuzz/corpus-$$n; \
	    echo "== $$n ($(FUZZ_SECONDS)s)"; \
	    dirs=; for d in tests/fuzz/corpus/$$n tests/fuzz/seeds/$$n; do [ -d $$d ] && dirs="$$dirs $$d"; done; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -max_len=70000 -artifact_prefix=build-fuzz/$$n- \
	        build-fuzz/corpus-$$n $$dirs \
	        > build-fuzz/$$n.log 2>&1 || { tail -40 build-fuzz/$$n.log; exit 1; }; tail -1 build-fuzz/$$n.log; done

# The long run (tests/fuzz/README.md): each harness, one at a time, for FUZZ_RUNS executions from the
# in-tree corpus and the seeds; then tests/fuzz/corpus/NAME becomes the -merge=1 minimum of the corpus
# and what the run found (units the seeds already cover are left out); its figures go to
# build-fuzz/NAME-long.txt. fuzz_rules takes shorter inputs (its cost grows with every pattern line),
# fuzz_rules_match names up to 4 KB (no base name is longer than 255 bytes; the matcher's long-name path
# starts there).
# One harness alone: make fuzz-long FUZZERS=build-fuzz/fuzz_snmp
FUZZ_RUNS ?= 10000000
fuzz-long: $(FUZZERS)
	@set -e; for f in $(FUZZERS); do n=$$(basename $$f); \
	    c=tests/fuzz/corpus/$$n; s=tests/fuzz/seeds/$$n; w=build-fuzz/long-$$n; m=build-fuzz/merge-$$n; \
	    case $$n in fuzz_rules) len=512;; fuzz_rules_match) len=4096;; *) len=70000;; esac; \
	    mkdir -p $$c $$w; echo "== $$n ($(FUZZ_RUNS) runs, -max_len=$$len)"; t0=$$(date +%s); \
	    $$f -runs=$(FUZZ_RUNS) -max_len=$$len -print_final_stats=1 -artifact_prefix=build-fuzz/$$n- \
	        $$w $$c $$s > build-fuzz/$$n-long.log 2>&1 || { tail -60 build-fuzz/$$n-long.log; exit 1; }; \
	    t=$$(( $$(date +%s) - t0 )); rm -rf $$m; mkdir -p $$m; \
	    [ -d $$s ] && for u in $$s/*; do cp "$$u" "$$m/seed-$$(basename "$$u")"; done; \
	    $$f -merge=1 -max_len=$$len $$m $$c $$w > build-fuzz/$$n-merge.log 2>&1 || \
	        { tail -20 build-fuzz/$$n-merge.log; exit 1; }; \
	    rm -f $$m/seed-*; rm -rf $$c; mv $$m $$c; \
	    line="$$n runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' build-fuzz/$$n-long.log)"; \
	    line="$$line seconds=$$t exec/s=$$(sed -n 's/^stat::average_exec_per_sec: *//p' build-fuzz/$$n-long.log)"; \
	    line="$$line $$(grep -E '^#[0-9]+[[:space:]]+DONE' build-fuzz/$$n-long.log | grep -oE 'cov: [0-9]+ ft: [0-9]+' | tail -1)"; \
	    line="$$line corpus=$$(ls $$c | wc -l) units/$$(find $$c -type f -printf '%s\n' | awk '{s += $$1} END {print s + 0}')B"; \
	    echo "$$line" | tee build-fuzz/$$n-long.txt; done

# Snapshot schedule and retention, then restore, against real btrfs, tmpfs and the real CLI.
restore-test: $(BUILD)/sharewarden $(BUILD)/sw-fixture
	bash tests/snapshots/run $(BUILD)
	bash tests/restore/run $(BUILD)

# The fleet through a real nats-server (JetStream) on loopback: two daemons, two sites.
fleet-test: $(BUILD)/sharewarden
	bash tests/fleet/run $(BUILD)/sharewarden

# Replication over a real sshd on loopback between real btrfs volumes and zfs-fuse pools, with the real CLI.
replication-test: $(BUILD)/sharewarden
	bash tests/replication/run $(BUILD)/sharewarden

lab-test: $(BUILD)/sharewarden
	bash tests/lab/run-tests

# The builds use every core (JOBS); the tests run one at a time. The fuzz smoke run replays each kept corpus
# and fuzzes a little (2 s); `make fuzz-long` is the real run.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
check: deps
	$(MAKE) -j$(JOBS) all
	$(MAKE) -j$(JOBS) unit
	$(MAKE) -j$(JOBS) asan
	$(MAKE) scenarios
	$(MAKE) cli
	$(MAKE) restore-test
	$(MAKE) fleet-test
	$(MAKE) replication-test
	$(MAKE) -j$(JOBS) fuzz FUZZ_SECONDS=2
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
