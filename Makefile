# nninit: GNU Makefile. Every variable can be overridden on the command line.
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=
CC         ?= cc
CFLAGS     ?= -O2 -g
PKG_CONFIG ?= pkg-config
BUILD      ?= build
# The interpreter the Python package (python/nninit) is tested with and installed for.
PYTHON     ?= /usr/bin/python3

SOVERSION = 0
VERSION   = 0.1.0

# -ffp-contract=off: the stream format is defined with separately rounded
# multiplies and adds; a contracted FMA would change the bits a seed gives.
WARN = -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
       -Wmissing-prototypes -Wdouble-promotion -Wwrite-strings -Wundef \
       -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN += -Werror
endif

# The library in layers, each a folder of src/ depending only on the layers
# before it (tools/check_layers.sh enforces it):
#   core (libc, libm, pthread) < rng < init      = the core library
#   io (zlib, jansson) < data (zlib) < nn (OpenBLAS) < model (jansson)
#   < analysis (LAPACK)                           = the full library
# Applications (lab/, cli/) use the public headers only.
CORE_LAYERS = core rng init
FULL_LAYERS = io data nn model analysis
DEPS      = openblas lapacke zlib jansson
TEST_DEPS = cmocka
# Optional: libhdf5 (Debian libhdf5-dev) for Keras .weights.h5; HDF5= builds
# without it (writing or reading one then says how to get it).
HDF5 ?= $(shell $(PKG_CONFIG) --exists hdf5 2>/dev/null && echo hdf5)
ifneq ($(HDF5),)
DEPS += $(HDF5)
HDF5_CPPFLAGS = -DNNINIT_HAVE_HDF5
endif

ALL_CPPFLAGS = -Iinclude -Isrc -D_POSIX_C_SOURCE=200809L -DNNINIT_HAVE_LAPACK -DNNINIT_HAVE_JANSSON $(HDF5_CPPFLAGS) \
               $(shell $(PKG_CONFIG) --cflags $(DEPS)) $(CPPFLAGS)
ALL_CFLAGS   = $(WARN) -fPIC -fvisibility=hidden -ffp-contract=off -pthread -MMD -MP $(CFLAGS)
LIBS         = $(shell $(PKG_CONFIG) --libs $(DEPS)) -lm -pthread $(LDLIBS)
TEST_CFLAGS  = $(shell $(PKG_CONFIG) --cflags $(TEST_DEPS))
TEST_LIBS    = $(shell $(PKG_CONFIG) --libs $(TEST_DEPS))

CORE_SRC = $(sort $(foreach l,$(CORE_LAYERS),$(wildcard src/$(l)/*.c)))
LIB_SRC  = $(CORE_SRC) $(sort $(foreach l,$(FULL_LAYERS),$(wildcard src/$(l)/*.c)))
LAB_SRC  = $(sort $(wildcard lab/*.c))
CLI_SRC  = $(sort $(wildcard cli/*.c))
TEST_SRC = $(sort $(wildcard tests/test_*.c))
BENCH_SRC = $(sort $(wildcard bench/*.c))
EXAMPLE_SRC = $(sort $(wildcard examples/*.c))
PUBLIC_HEADERS = $(sort $(wildcard include/*.h))

LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
LAB_OBJ  = $(LAB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  = $(CLI_SRC:%.c=$(BUILD)/%.o)
CLI_LIB_OBJ = $(filter-out $(BUILD)/cli/main.o,$(CLI_OBJ))
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_BIN = $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
EXAMPLE_BIN = $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)

STATIC = $(BUILD)/libnninit.a
SHARED = $(BUILD)/libnninit.so.$(VERSION)
CLI    = $(BUILD)/nninit

.PHONY: all check asan fuzz bench examples install uninstall clean man
# nninit-mpi (cli/mpi/): built by `all` when mpicc is found (OpenMPI:
# openmpi-bin, libopenmpi-dev), or forced with MPI=1; MPI=0 leaves it out.
MPICC ?= mpicc
MPI   ?= $(if $(shell command -v $(MPICC) 2>/dev/null),1,0)
MPI_CLI = $(BUILD)/nninit-mpi
ifeq ($(MPI),1)
all: $(MPI_CLI)
endif

all: $(STATIC) $(SHARED) $(CLI)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

# Applications see the public headers only (and the lab's own).
$(BUILD)/cli/%.o: cli/%.c
	@mkdir -p $(dir $@)
	$(CC) -Iinclude -Ilab -D_POSIX_C_SOURCE=200809L $(ALL_CFLAGS) -c $< -o $@
$(BUILD)/lab/%.o: lab/%.c
	@mkdir -p $(dir $@)
	$(CC) -Iinclude -Ilab -D_POSIX_C_SOURCE=200809L $(ALL_CFLAGS) -c $< -o $@

$(STATIC): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(SHARED): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libnninit.so.$(SOVERSION) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)
	ln -sf libnninit.so.$(VERSION) $(BUILD)/libnninit.so.$(SOVERSION)
	ln -sf libnninit.so.$(VERSION) $(BUILD)/libnninit.so

$(CLI): $(CLI_OBJ) $(LAB_OBJ) $(STATIC)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LAB_OBJ) $(STATIC) $(LIBS)

$(BUILD)/cli/mpi/%.o: cli/mpi/%.c
	@mkdir -p $(dir $@)
	$(MPICC) -Iinclude -Icli -Ilab -D_POSIX_C_SOURCE=200809L $(ALL_CFLAGS) -c $< -o $@
$(MPI_CLI): $(BUILD)/cli/mpi/nninit_mpi.o $(CLI_LIB_OBJ) $(LAB_OBJ) $(STATIC)
	$(MPICC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/%.c $(STATIC) $(LAB_OBJ) tests/util.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) -Ilab $(TEST_CFLAGS) $(ALL_CFLAGS) -Wno-missing-prototypes -Wno-double-promotion $(LDFLAGS) -o $@ $< $(LAB_OBJ) $(STATIC) $(LIBS) $(TEST_LIBS)

# make check: every test binary (cmocka), then the CLI contract tests, then
# the Python package's pytest suite, then one summary line "N passed, M failed".
# The benchmarks are built (not run) so that a change that breaks them fails here.
check: all $(TEST_BIN) $(BENCH_BIN)
	@sh tools/check_layers.sh
	@NNINIT=$(CLI) BUILD=$(BUILD) LDFLAGS="$(LDFLAGS)" PYTHON="$(PYTHON)" sh tests/run.sh $(TEST_BIN) $(AMAL_CHECK_BIN)

# make check-data: real Fashion-MNIST training (needs dataset-fashion-mnist or
# NNINIT_DATA; ~25 s on an idle core): accuracy target and zeros-init failure.
.PHONY: check-data
check-data: $(CLI)
	@sh tests/check_data.sh $(CLI)

asan:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" LDFLAGS="-fsanitize=address,undefined" check

# make fuzz: every tests/fuzz/fuzz_<parser>.c under libFuzzer + ASan/UBSan,
# FUZZ_SECONDS each, starting from tests/fuzz/corpus/<parser>/ when present.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SRC = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
build-fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(wildcard src/*/*.h) $(PUBLIC_HEADERS) $(wildcard tests/fuzz/*.h)
	@mkdir -p build-fuzz
	$(FUZZ_CC) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -ffp-contract=off -D_POSIX_C_SOURCE=200809L \
	    -Iinclude -Isrc -Icli -DNNINIT_HAVE_LAPACK -DNNINIT_HAVE_JANSSON $(HDF5_CPPFLAGS) $(shell $(PKG_CONFIG) --cflags $(DEPS)) -o $@ $< $(LIB_SRC) $(LIBS)
fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); c=tests/fuzz/corpus/$${n#fuzz_}; \
	  mkdir -p build-fuzz/corpus-$$n; echo "== $$n ($(FUZZ_SECONDS) s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build-fuzz/corpus-$$n $$( [ -d $$c ] && echo $$c ) || exit 1; done

$(BUILD)/bench/%: bench/%.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) -Ilab $(ALL_CFLAGS) -Wno-missing-prototypes $(LDFLAGS) -o $@ $< $(STATIC) $(LIBS)

# bench_fill runs `nninit bench` itself: it links the CLI's objects (not main).
$(BUILD)/bench/bench_fill: bench/bench_fill.c $(CLI_LIB_OBJ) $(LAB_OBJ) $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) -Icli -Ilab $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(CLI_LIB_OBJ) $(LAB_OBJ) $(STATIC) $(LIBS)

bench: all $(BENCH_BIN)
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b || exit 1; done
	@echo "== bench/bench_torch_numpy.py (PyTorch and NumPy, same run; skipped without them)"
	@if command -v $(PYTHON) >/dev/null 2>&1; then $(PYTHON) bench/bench_torch_numpy.py --nninit $(CLI) --orthogonal --reps 3; \
	 else echo "skipped: $(PYTHON) not found"; fi

$(BUILD)/examples/%: examples/%.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) -Iinclude $(ALL_CFLAGS) -Wno-missing-prototypes $(LDFLAGS) -o $@ $< $(STATIC) $(LIBS)

examples: $(EXAMPLE_BIN)

$(BUILD)/nninit.pc: nninit.pc.in
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' -e 's|@HDF5@|$(HDF5)|' nninit.pc.in > $@

# The Python package goes where $(PYTHON) looks under PREFIX
# (tools/python_sitedir.py); _config.py records LIBDIR so that it finds the
# library there. PYTHONDIR= (empty) leaves it out.
PYTHONDIR ?= $(shell $(PYTHON) tools/python_sitedir.py $(PREFIX) 2>/dev/null)

# Man pages from the same text as --help (tools/make_man.sh runs the CLI).
$(BUILD)/man/nninit.1: $(CLI) tools/make_man.sh
	sh tools/make_man.sh $(CLI) $(BUILD)/man
man: $(BUILD)/man/nninit.1

# CMake package: find_package(nninit) gives the imported target nninit::nninit;
# the config finds its prefix from its own place, so the tree can move.
$(BUILD)/cmake/nninitConfig.cmake: nninitConfig.cmake.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' nninitConfig.cmake.in > $@
	printf 'set(PACKAGE_VERSION "%s")\nif(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)\n  set(PACKAGE_VERSION_COMPATIBLE FALSE)\nelse()\n  set(PACKAGE_VERSION_COMPATIBLE TRUE)\n  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)\n    set(PACKAGE_VERSION_EXACT TRUE)\n  endif()\nendif()\n' $(VERSION) > $(BUILD)/cmake/nninitConfigVersion.cmake

install: all $(BUILD)/nninit.pc $(BUILD)/man/nninit.1 $(BUILD)/cmake/nninitConfig.cmake
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(BINDIR)
	install -m 644 $(PUBLIC_HEADERS) $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libnninit.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnninit.so.$(SOVERSION)
	ln -sf libnninit.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnninit.so
	install -m 644 $(BUILD)/nninit.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/
	if [ -x $(MPI_CLI) ]; then install -m 755 $(MPI_CLI) $(DESTDIR)$(BINDIR)/; fi
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(LIBDIR)/cmake/nninit
	install -m 644 $(BUILD)/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(BUILD)/cmake/nninitConfig.cmake $(BUILD)/cmake/nninitConfigVersion.cmake \
	    $(DESTDIR)$(LIBDIR)/cmake/nninit/
	@if [ -n "$(PYTHONDIR)" ]; then \
	  echo "install python/nninit -> $(DESTDIR)$(PYTHONDIR)/nninit"; \
	  install -d $(DESTDIR)$(PYTHONDIR)/nninit && \
	  install -m 644 $(filter-out python/nninit/_config.py,$(wildcard python/nninit/*.py)) $(DESTDIR)$(PYTHONDIR)/nninit/ && \
	  printf '# Written by make install: where libnninit was installed.\nLIBDIR = "%s"\n' '$(LIBDIR)' \
	    > $(DESTDIR)$(PYTHONDIR)/nninit/_config.py; \
	else echo "skipped the Python package: $(PYTHON) not found (set PYTHON= or PYTHONDIR=)"; fi

uninstall:
	rm -f $(PUBLIC_HEADERS:include/%=$(DESTDIR)$(INCLUDEDIR)/%) $(DESTDIR)$(LIBDIR)/libnninit.a \
	      $(DESTDIR)$(LIBDIR)/libnninit.so* $(DESTDIR)$(LIBDIR)/pkgconfig/nninit.pc \
	      $(DESTDIR)$(BINDIR)/nninit $(DESTDIR)$(BINDIR)/nninit-mpi $(DESTDIR)$(MANDIR)/man1/nninit*.1
	rm -rf $(DESTDIR)$(LIBDIR)/cmake/nninit
	if [ -n "$(PYTHONDIR)" ]; then rm -rf $(DESTDIR)$(PYTHONDIR)/nninit; fi

clean:
	rm -rf build build-asan build-fuzz build-core

# make core: the core library alone (src/core, src/rng, src/init: libc, libm,
# pthreads; orthogonal through the built-in QR) as $(CORE_BUILD)/libnninit-core.a,
# and the tests that use nothing else, linked against it; make core-check runs
# them. JSON specs use jansson when pkg-config finds it (CORE_JANSSON=1|0
# overrides); without it they fail with NNINIT_EUNSUPPORTED. The tests need
# cmocka (pkg-config, else -lcmocka).
CORE_BUILD   ?= build-core
CORE_JANSSON ?= $(shell $(PKG_CONFIG) --exists jansson 2>/dev/null && echo 1 || echo 0)
ifeq ($(CORE_JANSSON),1)
CORE_DEP_CPPFLAGS = -DNNINIT_HAVE_JANSSON $(shell $(PKG_CONFIG) --cflags jansson 2>/dev/null)
CORE_DEP_LIBS     = $(or $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null),-ljansson)
endif
CORE_CPPFLAGS    = -Iinclude -Isrc -D_POSIX_C_SOURCE=200809L $(CORE_DEP_CPPFLAGS) $(CPPFLAGS)
CORE_LIBS        = $(CORE_DEP_LIBS) -lm -pthread $(LDLIBS)
CORE_TEST_CFLAGS = $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CORE_TEST_LIBS   = $(or $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null),-lcmocka)
# the tests that need only nninit.h and the core's private headers
CORE_TESTS    = catalogue dist fmath oom orthogonal philox simd stft stream tfjs torch torch_libm
CORE_OBJ      = $(CORE_SRC:%.c=$(CORE_BUILD)/%.o)
CORE_LIB      = $(CORE_BUILD)/libnninit-core.a
CORE_TEST_BIN = $(CORE_TESTS:%=$(CORE_BUILD)/tests/test_%)

.PHONY: core core-check
core: $(CORE_LIB) $(CORE_TEST_BIN)

$(CORE_BUILD)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(CORE_LIB): $(CORE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(CORE_BUILD)/tests/%: tests/%.c $(CORE_LIB) tests/util.h tests/linalg.h
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CPPFLAGS) $(CORE_TEST_CFLAGS) $(ALL_CFLAGS) -Wno-missing-prototypes -Wno-double-promotion \
	    $(LDFLAGS) -o $@ $< $(CORE_LIB) $(CORE_LIBS) $(CORE_TEST_LIBS)

core-check: core
	@NNINIT_CORE_ONLY=1 sh tests/run.sh $(CORE_TEST_BIN)

# make amalgamation: the core library as one file, $(AMAL_DIR)/nninit.c +
# nninit.h (tools/amalgamate.sh; POSIX sh and awk). make amalgamation-check
# compiles it exactly as the README says (cc -std=c11 -O2 -c nninit.c, no
# other flag) and runs the core tests against that object.
AMAL_DIR      = $(BUILD)/amalgamation
AMAL_TEST_BIN = $(CORE_TESTS:%=$(AMAL_DIR)/tests/test_%)
.PHONY: amalgamation amalgamation-check
amalgamation: $(AMAL_DIR)/nninit.c

$(AMAL_DIR)/nninit.c: tools/amalgamate.sh $(CORE_SRC) $(wildcard $(CORE_LAYERS:%=src/%/*.h)) include/nninit.h
	sh tools/amalgamate.sh $(AMAL_DIR)

$(AMAL_DIR)/nninit.o: $(AMAL_DIR)/nninit.c
	cd $(AMAL_DIR) && $(CC) -std=c11 -O2 -c nninit.c -o nninit.o

$(AMAL_DIR)/tests/%: tests/%.c $(AMAL_DIR)/nninit.o tests/util.h tests/linalg.h
	@mkdir -p $(dir $@)
	$(CC) -I$(AMAL_DIR) -Iinclude -Isrc -D_POSIX_C_SOURCE=200809L $(CORE_TEST_CFLAGS) $(ALL_CFLAGS) \
	    -Wno-missing-prototypes -Wno-double-promotion $(LDFLAGS) -o $@ $< $(AMAL_DIR)/nninit.o -lm -pthread $(CORE_TEST_LIBS)

amalgamation-check: $(AMAL_TEST_BIN)
	@NNINIT_CORE_ONLY=1 sh tests/run.sh $(AMAL_TEST_BIN)

# make check also runs the fast core tests against the single file, so that a
# change in src/ that breaks it (a name two files define, ...) shows at once.
AMAL_CHECK_BIN = $(patsubst %,$(AMAL_DIR)/tests/test_%,catalogue oom orthogonal stream torch)
check: $(AMAL_CHECK_BIN)

# make torch-libm-check: src/rng/torch_libm.c's log, sin and cos against
# libm on 3 * 10^7 inputs per function (make check compares 10^6).
.PHONY: torch-libm-check
torch-libm-check: $(BUILD)/tests/test_torch_libm
	NNINIT_LIBM_INPUTS=30000000 $(BUILD)/tests/test_torch_libm

# make crosscheck: where PyTorch is installed, regenerate the torch fixtures
# into a temporary folder with live torch, replay them through test_torch and
# the CLI contract test, then compare large tensors live (tools/torch_crosscheck.py).
.PHONY: crosscheck
crosscheck: $(CLI) $(BUILD)/tests/test_torch
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYTHON) tools/make_torch_fixtures.py --out "$$tmp" && \
	NNINIT_FIXTURES="$$tmp" $(BUILD)/tests/test_torch && \
	NNINIT_FIXTURES="$$tmp" NNINIT=$(CLI) sh tests/cli/torch_gen.sh && \
	$(PYTHON) tools/torch_crosscheck.py $(CLI)

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(BUILD)/cli/mpi/nninit_mpi.d $(LAB_OBJ:.o=.d) $(CORE_OBJ:.o=.d)
