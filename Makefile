# Thin wrapper around meson, for the README's commands.
#   make            build (./build)
#   make check      install test dependencies, run the whole suite normally and
#                   under ASan+UBSan (./build-asan), fuzz the config loader,
#                   print "N passed, N failed"
#   make demo       install dependencies, build, run the demo
#   make install    install (PREFIX=/usr, DESTDIR honoured)
PREFIX ?= /usr
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
MESON_TEST_ARGS ?= --print-errorlogs

.PHONY: all deps check check-normal check-asan fuzz demo install clean

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(PREFIX)

deps:
	./tests/install-deps.sh

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) --prefix=$(PREFIX) -Db_sanitize=address,undefined -Db_lundef=false

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Db_lundef=false

check-normal: $(BUILD)/build.ninja
	ninja -C $(BUILD)
	-meson test -C $(BUILD) $(MESON_TEST_ARGS)

check-asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	-meson test -C $(ASAN_BUILD) $(MESON_TEST_ARGS)

fuzz: $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	FUZZ_SECONDS=$(FUZZ_SECONDS) meson test -C $(FUZZ_BUILD) --suite fuzz $(MESON_TEST_ARGS)

check: deps
	$(MAKE) check-normal check-asan
	-$(MAKE) fuzz
	./tests/summary.py $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

demo: deps all
	./tests/demo.sh

install: all
	meson install -C $(BUILD) --destdir "$(DESTDIR)"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
