# Thin wrapper around meson, for the README's commands.
#   make, make build  build (./build)
#   make check      install test dependencies, run the whole suite normally and
#                   under ASan+UBSan (./build-asan), build the tree with clang
#                   (./build-clang) and with gcc -fanalyzer at -O0
#                   (./build-debug, whose cmocka programs then run under
#                   valgrind), fuzz the config loader, print
#                   "N passed, N failed, N skipped"
#   make demo       install dependencies, build, run the demo
#   make install    install (PREFIX=/usr, DESTDIR honoured)
# The check builds treat warnings as errors (WERROR=false to look past them).
PREFIX ?= /usr
BUILD ?= build
ASAN_BUILD ?= build-asan
CLANG_BUILD ?= build-clang
DEBUG_BUILD ?= build-debug
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
WERROR ?= true
MESON_TEST_ARGS ?= --print-errorlogs

.PHONY: all build deps check check-normal check-asan check-clang check-debug fuzz demo install clean

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The original README's command.
build: all

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(PREFIX)

deps:
	./tests/install-deps.sh

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) --prefix=$(PREFIX) -Db_sanitize=address,undefined -Db_lundef=false

# Every compiler warning clang has on top of gcc's (-Wcomma among them):
# a build, no tests (the tests above cover the behaviour).
$(CLANG_BUILD)/build.ninja:
	CC=clang meson setup $(CLANG_BUILD) -Dtests=false

# gcc -fanalyzer needs -O0: with inlining, gcc 12 reports cleanup
# attributes as uninitialised reads. The same unoptimised build is the one
# valgrind sees the most in (an uninitialised value at -O2 may live in a
# register that happens to be set).
$(DEBUG_BUILD)/build.ninja:
	meson setup $(DEBUG_BUILD) --buildtype=debug -Dc_args=-fanalyzer

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Db_lundef=false

# ninja, with its outcome in DIR/build-result for summary.py: a build that
# fails (a warning, with WERROR) is a failure in the closing line, and no
# test log of an earlier run is counted in its place.
define build_gate
	rm -f $(1)/build-result $(1)/meson-logs/testlog*.json
	if ninja -C $(1); then echo ok > $(1)/build-result; else echo failed > $(1)/build-result; exit 1; fi
endef

check-normal: $(BUILD)/build.ninja
	meson configure $(BUILD) -Dwerror=$(WERROR)
	$(call build_gate,$(BUILD))
	-meson test -C $(BUILD) $(MESON_TEST_ARGS)

check-asan: $(ASAN_BUILD)/build.ninja
	meson configure $(ASAN_BUILD) -Dwerror=$(WERROR)
	$(call build_gate,$(ASAN_BUILD))
	-meson test -C $(ASAN_BUILD) $(MESON_TEST_ARGS)

check-clang: $(CLANG_BUILD)/build.ninja
	meson configure $(CLANG_BUILD) -Dwerror=$(WERROR)
	$(call build_gate,$(CLANG_BUILD))

check-debug: $(DEBUG_BUILD)/build.ninja
	meson configure $(DEBUG_BUILD) -Dwerror=$(WERROR)
	$(call build_gate,$(DEBUG_BUILD))
	-meson test -C $(DEBUG_BUILD) --setup valgrind --suite cmocka $(MESON_TEST_ARGS)

fuzz: $(FUZZ_BUILD)/build.ninja
	$(call build_gate,$(FUZZ_BUILD))
	FUZZ_SECONDS=$(FUZZ_SECONDS) meson test -C $(FUZZ_BUILD) --suite fuzz $(MESON_TEST_ARGS)

check: deps
	-$(MAKE) check-clang
	-$(MAKE) check-debug
	-$(MAKE) check-normal
	-$(MAKE) check-asan
	-$(MAKE) fuzz
	./tests/summary.py $(CLANG_BUILD) $(DEBUG_BUILD) $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

demo: deps all
	./tests/demo.sh

install: all
	meson install -C $(BUILD) --destdir "$(DESTDIR)"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(CLANG_BUILD) $(DEBUG_BUILD) $(FUZZ_BUILD)
