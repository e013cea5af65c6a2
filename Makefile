# Top-level build for the ptrace-based DMTCP.
#
#   make              build every command into bin/ and libdmtcp into lib/
#   make check        install missing packages (as root), build, run unit + integration tests
#   make check-integration [T=REGEX] [VARIANT=static,unpriv]   some integration tests (all
#                     their variants, or those with every listed word); logs in tests/out/latest/
#   make demo         install, build, and show launch -> checkpoint -> kill -> restart
#   make bench        benchmarks (figures and ratios, never pass/fail)
#   make soak         SOAK_CYCLES (default 200) checkpoint/restart cycles of a 4-process ring
#                     of pipes and FIFOs (tests/integration/t_soak.sh, root and unprivileged;
#                     no sockets until they are restorable, issue 10): the coordinator's and
#                     tracers' memory and fd counts must stay flat; minutes, not in make check
#                     (which runs the same test with 10 cycles)
#   make fuzz-check   the fuzz targets (tests/fuzz/) under the deterministic driver: FUZZ_CASES
#                     mutated cases each (default 3000), gcc + ASan/UBSan; part of make check
#   make fuzz         the same targets under libFuzzer (clang), FUZZ_SECONDS each (default
#                     300), FUZZ_TARGETS to pick some; corpus in build/fuzz/corpus/<target>,
#                     crashing inputs in build/fuzz/crashes/<target>
#   make ASAN=1 ...   AddressSanitizer/UBSan build of the libc-side code
#   make install PREFIX=/usr/local DESTDIR=
#
# Sources are picked up by directory: every common/*.c goes into libcommon, every tracer/*.c
# but the command mains into libtracer, and so on. Blobs too are built by folder: every .c and
# .S of parasite/ makes the parasite blob, every one of restorer/ the restorer blob, built
# freestanding, linked with the folder's own linker script, checked and embedded.

CC      ?= gcc
PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0

WARN := -std=gnu11 -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wundef \
	-Wwrite-strings -Wimplicit-fallthrough -Werror
CPPFLAGS := -D_GNU_SOURCE -DDMTCP_VERSION='"$(VERSION)"' -Iinclude -Icommon -Iarch/x86_64 -I.
OPT     ?= -O2 -g
SAN :=
ifeq ($(ASAN),1)
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
CFLAGS  := $(OPT) $(WARN) $(SAN) -pthread
LDFLAGS := $(SAN) -pthread
LIBS    := -lz -lelf -lseccomp -lunwind-ptrace -lunwind-generic -lunwind -lsodium

# Freestanding blobs: no libc, no sanitizers, position independent, flat. A blob's sources see
# nolibc/, arch/x86_64/ and their own folder, nothing else of the tree (no -I.): a libc-side
# header cannot be pulled in by mistake, and check-blob.sh refuses a blob that reaches libc.
BLOB_CFLAGS := -std=gnu11 -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Werror \
	-Os -ffreestanding -nostdlib -fno-stack-protector -fpie -fno-asynchronous-unwind-tables \
	-fno-unwind-tables -fno-builtin -fno-jump-tables -fno-plt -fvisibility=hidden \
	-mno-red-zone -D_FORTIFY_SOURCE=0 -U_FORTIFY_SOURCE -Iarch/x86_64 -Inolibc

B := build

COMMON_SRCS  := $(wildcard common/*.c)
COORD_MAINS  := coord/dmtcp_coordinator.c coord/dmtcp_command.c
COORD_SRCS   := $(filter-out $(COORD_MAINS),$(wildcard coord/*.c))
TRACER_MAINS := tracer/dmtcp_launch.c tracer/dmtcp_nocheckpoint.c
TRACER_SRCS  := $(filter-out $(TRACER_MAINS),$(wildcard tracer/*.c))
RESTORER_SRCS := $(wildcard restorer/*.c restorer/*.S)
RESTART_MAINS := restart/dmtcp_restart.c restart/mtcp_restart.c
RESTART_SRCS := $(filter-out $(RESTART_MAINS),$(wildcard restart/*.c))
PARASITE_SRCS := $(wildcard parasite/*.c parasite/*.S)
API_SRCS     := $(wildcard api/*.c)

obj = $(patsubst %.c,$(B)/%.o,$(1))

LIBCOMMON := $(B)/libcommon.a
LIBCOORD  := $(B)/libcoord.a
LIBTRACER := $(B)/libtracer.a
LIBRESTART := $(B)/librestart.a

BINS := $(foreach m,$(COORD_MAINS) $(TRACER_MAINS) $(RESTART_MAINS),\
	$(if $(wildcard $(m)),bin/$(basename $(notdir $(m)))))

# Blobs are embedded with .incbin from an assembly stub; each blob's symbol offsets are
# exported to a generated header (build/gen/<blob>-syms.h).
BLOBS := $(if $(PARASITE_SRCS),parasite) $(if $(RESTORER_SRCS),restorer)
BLOB_OBJS := $(foreach b,$(BLOBS),$(B)/gen/$(b)-embed.o)

.PHONY: all coord tracer restart unit check check-unit check-integration check-layers \
	check-runner demo bench soak fuzz fuzz-check fuzz-build \
	install clean deps blobs progs tools
all: $(BINS) lib/libdmtcp.a lib/libdmtcp.so progs tools

deps:
	@./scripts/install-deps.sh

coord: $(filter bin/dmtcp_coordinator bin/dmtcp_command,$(BINS))
tracer: $(filter bin/dmtcp_launch bin/dmtcp_nocheckpoint,$(BINS))
restart: $(filter bin/dmtcp_restart bin/mtcp_restart,$(BINS))
blobs: $(foreach b,$(BLOBS),$(B)/gen/$(b).bin)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIBCOMMON): $(call obj,$(COMMON_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBCOORD): $(call obj,$(COORD_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBTRACER): $(call obj,$(TRACER_SRCS)) $(if $(filter parasite,$(BLOBS)),$(B)/gen/parasite-embed.o)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBRESTART): $(call obj,$(RESTART_SRCS)) $(if $(filter restorer,$(BLOBS)),$(B)/gen/restorer-embed.o)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# Objects that include a generated blob header must wait for it.
$(call obj,$(TRACER_SRCS) $(TRACER_MAINS)): | $(if $(filter parasite,$(BLOBS)),$(B)/gen/parasite-syms.h)
$(call obj,$(RESTART_SRCS) $(RESTART_MAINS)): | $(if $(filter restorer,$(BLOBS)),$(B)/gen/restorer-syms.h) $(if $(filter parasite,$(BLOBS)),$(B)/gen/parasite-syms.h)

bin/dmtcp_coordinator: $(B)/coord/dmtcp_coordinator.o $(LIBCOORD) $(LIBCOMMON)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
bin/dmtcp_command: $(B)/coord/dmtcp_command.o $(LIBCOORD) $(LIBCOMMON)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
bin/dmtcp_launch: $(B)/tracer/dmtcp_launch.o $(LIBTRACER) $(LIBCOMMON)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
bin/dmtcp_nocheckpoint: $(B)/tracer/dmtcp_nocheckpoint.o $(LIBCOMMON)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
bin/dmtcp_restart: $(B)/restart/dmtcp_restart.o $(LIBRESTART) $(LIBTRACER) $(LIBCOMMON)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
# mtcp_restart never traces: no libtracer.
bin/mtcp_restart: $(B)/restart/mtcp_restart.o $(LIBRESTART) $(LIBCOMMON)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# ---- freestanding blobs ------------------------------------------------------------------
$(B)/blob/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BLOB_CFLAGS) -MMD -MP -c $< -o $@
$(B)/blob/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(BLOB_CFLAGS) -MMD -MP -c $< -o $@

# A blob is its folder's objects linked with its folder's linker script (<blob>/<blob>.lds).
blob_objs = $(patsubst %,$(B)/blob/%.o,$(basename $(1)))
BLOB_LINK = $(CC) -nostdlib -Wl,-T,$(filter %.lds,$^) -Wl,--build-id=none -Wl,-z,noexecstack \
	-fpie -pie -Wl,--no-dynamic-linker -o $@ $(filter %.o,$^)
$(B)/gen/parasite.elf: $(call blob_objs,$(PARASITE_SRCS)) parasite/parasite.lds
	@mkdir -p $(dir $@)
	$(BLOB_LINK)
$(B)/gen/restorer.elf: $(call blob_objs,$(RESTORER_SRCS)) restorer/restorer.lds
	@mkdir -p $(dir $@)
	$(BLOB_LINK)
$(B)/gen/%.bin: $(B)/gen/%.elf scripts/check-blob.sh
	./scripts/check-blob.sh $<
	objcopy -O binary $< $@
$(B)/gen/%-syms.h: $(B)/gen/%.elf scripts/blob-syms.sh
	./scripts/blob-syms.sh $* $< > $@.tmp && mv $@.tmp $@
$(B)/gen/%-embed.S: $(B)/gen/%.bin
	printf '\t.section .rodata\n\t.balign 64\n\t.globl %s_blob\n%s_blob:\n\t.incbin "%s"\n\t.globl %s_blob_end\n%s_blob_end:\n\t.section .note.GNU-stack,"",@progbits\n' \
		$* $* $< $* $* > $@
$(B)/gen/%-embed.o: $(B)/gen/%-embed.S $(B)/gen/%.bin
	$(CC) -c $< -o $@

# ---- libdmtcp (the dmtcp.h API) ------------------------------------------------------------
# Linked into the user's programs (static ones too), so never built with sanitizers.
API_CFLAGS := $(OPT) $(WARN)
$(B)/api/%.o: api/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(API_CFLAGS) -MMD -MP -c $< -o $@
lib/libdmtcp.a: $(call obj,$(API_SRCS))
	@mkdir -p lib
	rm -f $@ && ar rcs $@ $^
$(B)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(API_CFLAGS) -fPIC -MMD -MP -c $< -o $@
lib/libdmtcp.so: $(patsubst %.c,$(B)/pic/%.o,$(API_SRCS))
	@mkdir -p lib
	$(CC) -shared -Wl,-soname,libdmtcp.so -o $@ $^

# ---- test programs: each built dynamic and static -------------------------------------------
PROG_SRCS := $(wildcard tests/progs/*.c)
PROG_BINS := $(patsubst tests/progs/%.c,$(B)/tests/progs/%,$(PROG_SRCS)) \
	$(patsubst tests/progs/%.c,$(B)/tests/progs/%.static,$(PROG_SRCS))
PROG_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -Iinclude
progs: $(PROG_BINS)
$(B)/tests/progs/%: tests/progs/%.c $(wildcard tests/progs/*.h) lib/libdmtcp.a
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) -o $@ $< lib/libdmtcp.a -lm
$(B)/tests/progs/%.static: tests/progs/%.c $(wildcard tests/progs/*.h) lib/libdmtcp.a
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) -static -o $@ $< lib/libdmtcp.a -lm

# ---- tests ----------------------------------------------------------------------------------
# Test tools (tests/tools/NAME.c): small libc-side clients linked with libcommon.
TOOL_BINS := $(patsubst tests/tools/%.c,$(B)/tests/tools/%,$(wildcard tests/tools/*.c))
tools: $(TOOL_BINS)
$(B)/tests/tools/%: tests/tools/%.c $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBCOMMON) $(LIBS)
# selfrestore drives the restorer (prepare_restore + blob) on its own; it needs the victim.
SELFRESTORE_OBJS := $(call obj,$(wildcard restart/prepare_restore*.c) restart/vdso.c) \
	$(B)/gen/restorer-embed.o
$(B)/tests/tools/selfrestore: tests/tools/selfrestore.c $(SELFRESTORE_OBJS) $(LIBCOMMON) \
		| $(B)/tests/progs/rst_victim $(B)/tests/progs/rst_victim.static
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(SELFRESTORE_OBJS) $(LIBCOMMON) $(LIBS)
UNIT_SRCS := $(wildcard tests/unit/check_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(UNIT_SRCS))
$(B)/tests/unit/%: tests/unit/%.c $(LIBRESTART) $(LIBTRACER) $(LIBCOORD) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIBRESTART) $(LIBTRACER) $(LIBCOORD) $(LIBCOMMON) \
		$(LIBS) $$(pkg-config --libs check)
unit: $(UNIT_BINS)
# The infection test (victim/spy) runs the victim program, built dynamic and static.
$(B)/tests/unit/check_infect: | $(B)/tests/progs/victim $(B)/tests/progs/victim.static

check: deps
	./scripts/check-layers.sh
	$(MAKE) all unit
	./tests/run-unit.sh $(UNIT_BINS)
	$(MAKE) fuzz-check
	./tests/check-runner.sh
	./tests/run-integration.sh

# The include rules of docs/architecture.md ("Layers").
check-layers:
	./scripts/check-layers.sh

check-unit: unit
	./tests/run-unit.sh $(UNIT_BINS)
check-integration: all
	./tests/run-integration.sh '$(T)' '$(VARIANT)'
# The soak test at length: t_soak.sh with SOAK_CYCLES cycles (make check runs 10), under a
# time bound to match (DMTCP_TEST_TIMEOUT, seconds per variant).
SOAK_CYCLES ?= 200
soak: all
	SOAK_CYCLES=$(SOAK_CYCLES) DMTCP_TEST_TIMEOUT=$${DMTCP_TEST_TIMEOUT:-$$(($(SOAK_CYCLES) * 15 + 120))} \
		./tests/run-integration.sh '^t_soak$$' '$(VARIANT)'
# The integration runner's self-test (throwaway tests; needs no build).
check-runner:
	./tests/check-runner.sh

# ---- fuzzing (tests/fuzz/) ------------------------------------------------------------------
# Each target (tests/fuzz/fuzz_NAME.c, one LLVMFuzzerTestOneInput; no other file there is
# named fuzz_*) is linked with the code it feeds, compiled again with the fuzzing flags: every
# common/*.c, the restart loader, and the harness of tests/fuzz/. Two builds of each:
#   build/fuzz/gcc/driver-NAME  the deterministic driver (tests/fuzz/driver.c), gcc, ASan/UBSan
#                               when the compiler has them: `make fuzz-check`, in `make check`;
#   build/fuzz/clang/fuzz-NAME  libFuzzer (clang -fsanitize=fuzzer,address,undefined):
#                               `make fuzz`, run by tests/fuzz/run-fuzz.sh.
# Seeds: build/fuzz/seeds/NAME, written by build/fuzz/mkseeds with the project's own writers,
# and tests/fuzz/corpus/NAME, the checked-in reproducers of the bugs fuzzing found.
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CASES   ?= 3000
FUZZ_SECONDS ?= 300
FUZZ_CC      ?= clang
FB := $(B)/fuzz
FUZZ_CODE_SRCS := $(COMMON_SRCS) restart/restart_images.c tests/fuzz/harness.c \
	tests/fuzz/image_fix.c tests/fuzz/image_run.c
FUZZ_GCC_SAN := $(shell echo 'int main(void){return 0;}' | \
	$(CC) -fsanitize=address,undefined -x c - -o /dev/null 2>/dev/null && \
	echo -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
FUZZ_GCC_CFLAGS := -O1 -g $(WARN) $(FUZZ_GCC_SAN) -pthread
FUZZ_CLANG_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
FUZZ_CLANG_CFLAGS := -O1 -g $(WARN) $(FUZZ_CLANG_SAN) -fsanitize=fuzzer-no-link -pthread

# The targets' objects are kept (make would otherwise remove them as intermediate).
.PRECIOUS: $(FB)/gcc/%.o $(FB)/clang/%.o
$(FB)/gcc/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(FUZZ_GCC_CFLAGS) -MMD -MP -c $< -o $@
$(FB)/clang/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CLANG_CFLAGS) -MMD -MP -c $< -o $@
$(FB)/gcc/libfuzzcode.a: $(patsubst %.c,$(FB)/gcc/%.o,$(FUZZ_CODE_SRCS))
	rm -f $@ && ar rcs $@ $^
$(FB)/clang/libfuzzcode.a: $(patsubst %.c,$(FB)/clang/%.o,$(FUZZ_CODE_SRCS))
	rm -f $@ && ar rcs $@ $^
$(FB)/gcc/driver-%: $(FB)/gcc/tests/fuzz/driver.o $(FB)/gcc/tests/fuzz/fuzz_%.o \
		$(FB)/gcc/libfuzzcode.a
	$(CC) $(FUZZ_GCC_SAN) -pthread -o $@ $^ $(LIBS)
$(FB)/clang/fuzz-%: $(FB)/clang/tests/fuzz/fuzz_%.o $(FB)/clang/libfuzzcode.a
	$(FUZZ_CC) $(FUZZ_CLANG_SAN) -fsanitize=fuzzer -pthread -o $@ $^ $(LIBS)
$(FB)/mkseeds: tests/fuzz/mkseeds.c tests/fuzz/image_fix.c $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ tests/fuzz/mkseeds.c tests/fuzz/image_fix.c \
		$(LIBCOMMON) $(LIBS)
$(FB)/seeds/.stamp: $(FB)/mkseeds
	rm -rf $(FB)/seeds
	$(FB)/mkseeds $(FB)/seeds
	touch $@

fuzz-check: $(patsubst %,$(FB)/gcc/driver-%,$(FUZZ_TARGETS)) $(FB)/seeds/.stamp
	@for t in $(FUZZ_TARGETS); do \
		$(FB)/gcc/driver-$$t -n $(FUZZ_CASES) -o $(FB) $$t $(FB)/seeds/$$t \
			tests/fuzz/corpus/$$t || exit 1; \
	done
fuzz-build: $(patsubst %,$(FB)/clang/fuzz-%,$(FUZZ_TARGETS)) $(FB)/seeds/.stamp
fuzz: deps
	$(MAKE) fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./tests/fuzz/run-fuzz.sh $(FB) $(FUZZ_TARGETS)

demo: deps
	$(MAKE) all
	./scripts/demo.sh

bench: all
	./bench/run.sh
	./bench/ckpt_bench.sh
	./bench/sock_bench.sh
	./bench/restart_bench.sh
	./bench/noreserve_bench.sh
	./bench/attach_bench.sh

# ---- install --------------------------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 lib/libdmtcp.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 lib/libdmtcp.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/dmtcp.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(wildcard docs/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/

clean:
	rm -rf $(B) bin lib

-include $(shell find $(B) -name '*.d' 2>/dev/null)
