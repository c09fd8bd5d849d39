# s3gw build. `make` builds build/s3gw; `make run` installs what is missing,
# builds and starts the server on the embedded default config; `make test`
# runs the unit and integration tests on a normal and on an ASan+UBSan build.

CC       ?= cc
LLHTTP_SRC := /usr/share/llhttp
LLHTTP_INC := /usr/share/include/llhttp
PKGS     := libuv lmdb libssl libcrypto expat jansson

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
               -Wno-unused-parameter -I. -I$(LLHTTP_INC) -DLLHTTP_STRICT_MODE=1 -g
LIBS     := -luv -llmdb -lssl -lcrypto -lexpat -ljansson -lpthread

BUILD    ?= build
ifeq ($(SANITIZE),1)
BUILD    := build-asan
OPT      := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
            -fno-sanitize-recover=undefined
else
OPT      := -O2
endif

SRC      := $(wildcard core/*.c http/*.c s3/*.c s3/auth/*.c s3/ops/*.c s3/bg/*.c store/*.c)
LIB_SRC  := $(filter-out core/main.c,$(SRC))
OBJ      := $(patsubst %.c,$(BUILD)/%.o,$(SRC))
LIB_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC)) $(BUILD)/conf_default.o \
            $(BUILD)/llhttp/llhttp.o $(BUILD)/llhttp/api.o $(BUILD)/llhttp/http.o
UNIT_SRC := $(wildcard test/unit/*.c)
UNIT_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(UNIT_SRC))

FUZZ_SRC := $(wildcard test/fuzz/fuzz_*.c)
REPLAY   := $(patsubst test/fuzz/%.c,$(BUILD)/fuzz/%-replay,$(FUZZ_SRC))

.PHONY: all deps run test unit integration clean fuzz bench asan replay

all: $(BUILD)/s3gw $(BUILD)/unit $(BUILD)/bench-fill $(REPLAY)

$(BUILD)/s3gw: $(BUILD)/core/main.o $(LIB_OBJ)
	$(CC) $(OPT) -o $@ $^ $(LIBS)

$(BUILD)/unit: $(UNIT_OBJ) $(LIB_OBJ)
	$(CC) $(OPT) -o $@ $^ $(LIBS)

# Fills a data_dir through the store API (test/bench/startup.py).
$(BUILD)/bench-fill: $(BUILD)/test/bench/fill.o $(LIB_OBJ)
	$(CC) $(OPT) -o $@ $^ $(LIBS)

$(BUILD)/%.o: %.c $(wildcard */*.h */*/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(OPT) -MMD -c -o $@ $<

# Each fuzz target also links with a plain main that replays its corpus.
$(BUILD)/fuzz/%-replay: $(BUILD)/test/fuzz/%.o $(BUILD)/test/fuzz/replay.o $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -o $@ $^ $(LIBS)

replay: all
	@for t in $(REPLAY); do \
	    n=$$(basename $$t -replay); n=$${n#fuzz_}; \
	    $$t test/fuzz/corpus/$$n/* || exit 1; \
	done

# Third-party llhttp sources from Debian's node-llhttp, built into the binary.
$(BUILD)/llhttp/%.o: $(LLHTTP_SRC)/%.c Makefile
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -DLLHTTP_STRICT_MODE=1 -I$(LLHTTP_INC) $(OPT) -g -w -c -o $@ $<

# The default config is s3gw.conf.example itself, embedded as a C string.
$(BUILD)/conf_default.c: s3gw.conf.example
	@mkdir -p $(dir $@)
	{ echo '/* generated from s3gw.conf.example */'; \
	  echo 'const char gw_conf_default_text[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$$/\\n"/' $<; \
	  echo '    ;'; } > $@

$(BUILD)/conf_default.o: $(BUILD)/conf_default.c
	$(CC) $(CFLAGS_BASE) $(OPT) -c -o $@ $<

asan:
	$(MAKE) SANITIZE=1 all

deps:
	@sh test/deps.sh

run: deps all
	@mkdir -p data
	./$(BUILD)/s3gw

test: deps
	$(MAKE) all
	$(MAKE) SANITIZE=1 all
	$(MAKE) replay
	$(MAKE) SANITIZE=1 replay
	sh test/run.sh

unit: all
	./$(BUILD)/unit

integration: all
	S3GW_BIN=./$(BUILD)/s3gw python3 test/integration/run.py

# libFuzzer builds with clang, in build-fuzz/: build-fuzz/fuzz/fuzz_<name>.
fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang \
	    OPT="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" \
	    $(patsubst test/fuzz/%.c,build-fuzz/fuzz/%,$(FUZZ_SRC))

build-fuzz/fuzz/%: build-fuzz/test/fuzz/%.o $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)

bench: all
	S3GW_BIN=$(BUILD)/s3gw sh test/bench/run.sh

clean:
	rm -rf build build-asan build-fuzz

-include $(OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(BUILD)/test/bench/fill.d
