# Installs the C library as C projects expect: the versioned shared library with its soname symlinks, the header,
# and a pkg-config file; each binary stripped, its debug information beside it under lib/.debug/ (linked by
# .gnu_debuglink, where gdb and perf look). The command is installed with `cargo install --path cli`, the Fluent
# Bit plugin with plugin-config/install.sh.
#
#   make install PREFIX=$HOME/.local      # default PREFIX: /usr/local; DESTDIR is honoured for packaging
#   make uninstall PREFIX=$HOME/.local    # removes exactly what install wrote
#
# Then: cc app.c $(pkg-config --cflags --libs svcshell), with PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig when PREFIX is
# not a system prefix. Honours CARGO_TARGET_DIR.

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=
CARGO ?= cargo
OBJCOPY ?= objcopy
TARGET_DIR ?= $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR),target)

# The C API's version (src/ffi/mod.rs) names the files; the soname carries its major (build.rs).
api = $(shell sed -n 's/^pub const API_VERSION_$(1): u32 = \([0-9]*\);/\1/p' src/ffi/mod.rs)
MAJOR := $(call api,MAJOR)
VERSION := $(MAJOR).$(call api,MINOR).$(call api,PATCH)
CRATE_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
SONAME := libsvcshell.so.$(MAJOR)
REAL := libsvcshell.so.$(VERSION)

LIB := $(DESTDIR)$(LIBDIR)
INC := $(DESTDIR)$(INCLUDEDIR)
PC := $(DESTDIR)$(PKGCONFIGDIR)

.PHONY: all install uninstall

all:
	$(CARGO) build --release --lib

install: all
	install -d "$(LIB)/.debug" "$(INC)" "$(PC)"
	install -m 0755 "$(TARGET_DIR)/release/libsvcshell.so" "$(LIB)/.$(REAL).tmp"
	$(OBJCOPY) --only-keep-debug "$(LIB)/.$(REAL).tmp" "$(LIB)/.debug/$(REAL).debug"
	chmod 0644 "$(LIB)/.debug/$(REAL).debug"
	$(OBJCOPY) --strip-debug --strip-unneeded "$(LIB)/.$(REAL).tmp"
	cd "$(LIB)" && $(OBJCOPY) --add-gnu-debuglink=".debug/$(REAL).debug" ".$(REAL).tmp"
	mv -f "$(LIB)/.$(REAL).tmp" "$(LIB)/$(REAL)"
	ln -sf "$(REAL)" "$(LIB)/$(SONAME)"
	ln -sf "$(SONAME)" "$(LIB)/libsvcshell.so"
	install -m 0644 include/svcshell.h "$(INC)/svcshell.h"
	printf '%s\n' \
	    'prefix=$(PREFIX)' \
	    'libdir=$(LIBDIR)' \
	    'includedir=$(INCLUDEDIR)' \
	    '' \
	    'Name: svcshell' \
	    'Description: Elastic'"'"'s "System Shells via Services" detection rule for log shippers (C API $(VERSION))' \
	    'Version: $(CRATE_VERSION)' \
	    'Libs: -L$${libdir} -lsvcshell' \
	    'Cflags: -I$${includedir}' > "$(PC)/svcshell.pc"
	@echo "installed $(LIBDIR)/$(REAL) ($$(wc -c < "$(LIB)/$(REAL)") bytes, soname $(SONAME)), $(INCLUDEDIR)/svcshell.h, $(PKGCONFIGDIR)/svcshell.pc"

uninstall:
	rm -f "$(LIB)/libsvcshell.so" "$(LIB)/$(SONAME)" "$(LIB)/$(REAL)" "$(LIB)/.debug/$(REAL).debug" \
	    "$(INC)/svcshell.h" "$(PC)/svcshell.pc"
	-rmdir "$(LIB)/.debug" "$(PC)" 2>/dev/null || true
