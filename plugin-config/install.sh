#!/usr/bin/env bash
# install.sh - builds svcshell (cargo build --release) and installs the Fluent Bit filter plugin: a copy of
# libsvcshell.so named flb-filter_svcshell.so (Fluent Bit loads only files named flb-filter_<name>.so), stripped
# of its debug information, which goes to flb-filter_svcshell.so.debug beside it (linked by .gnu_debuglink, so
# gdb and perf find it). One file serves every Fluent Bit from 2.2 to 5.1 (it recognises its host when loaded).
#
#   plugin-config/install.sh [DESTINATION_DIR]               # default: $HOME/.local/lib/fluent-bit
#   plugin-config/install.sh --uninstall [DESTINATION_DIR]   # removes the plugin and its debug file
#
# The example configs (plugins.conf, fluent-bit.yaml) name the plugin without a directory; run Fluent Bit with
# LD_LIBRARY_PATH=DESTINATION_DIR (printed at the end), install into a system library directory, or write the
# printed absolute path into the plugins file. Honours CARGO_TARGET_DIR.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
uninstall=0
if [ "${1:-}" = --uninstall ]; then
    uninstall=1
    shift
fi
dest=${1:-$HOME/.local/lib/fluent-bit}

if [ "$uninstall" = 1 ]; then
    # Exactly what an install wrote (and a temporary file an interrupted one may have left); the directory
    # goes too when nothing else is in it.
    rm -f "$dest/flb-filter_svcshell.so" "$dest/flb-filter_svcshell.so.debug" "$dest/.flb-filter_svcshell.so.tmp"
    rmdir "$dest" 2>/dev/null || true
    echo "removed the svcshell plugin from $dest"
    exit 0
fi

target_dir=${CARGO_TARGET_DIR:-$repo/target}
case "$target_dir" in /*) ;; *) target_dir=$repo/$target_dir ;; esac
# The glibc the plugin needs: a plain build needs the build machine's glibc symbol versions (2.34 when built on
# glibc 2.34 or later: dlsym, pthread_key_create, stat64 ...); with cargo-zigbuild (`pip install cargo-zigbuild
# ziglang`) it is linked against glibc 2.28's and loads wherever Fluent Bit's images run (Debian 11 and later,
# Amazon Linux 2023, RHEL 8 and later). SVCSHELL_PLAIN_BUILD=1 skips cargo-zigbuild.
if [ "$(uname -m)" = x86_64 ] && [ "${SVCSHELL_PLAIN_BUILD:-}" != 1 ] && command -v cargo-zigbuild >/dev/null 2>&1; then
    (cd "$repo" && cargo zigbuild --release --lib --target x86_64-unknown-linux-gnu.2.28)
    lib=$target_dir/x86_64-unknown-linux-gnu/release/libsvcshell.so
else
    (cd "$repo" && cargo build --release --lib)
    lib=$target_dir/release/libsvcshell.so
fi
test -f "$lib" || { echo "install.sh: $lib not found" >&2; exit 1; }

mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
# Copy to a temporary name, then rename: a running Fluent Bit keeps its mapped copy intact.
tmp="$dest/.flb-filter_svcshell.so.tmp"
cp "$lib" "$tmp"
if command -v objcopy >/dev/null 2>&1; then
    # The debug information to its own file, the plugin without it (and without the static symbol table; the
    # dynamic symbols Fluent Bit looks up stay), then the link from one to the other.
    objcopy --only-keep-debug "$tmp" "$dest/flb-filter_svcshell.so.debug"
    objcopy --strip-debug --strip-unneeded "$tmp"
    (cd "$dest" && objcopy --add-gnu-debuglink=flb-filter_svcshell.so.debug "$tmp")
else
    echo "install.sh: objcopy (binutils) not found: installing the plugin with its debug information" >&2
fi
mv -f "$tmp" "$dest/flb-filter_svcshell.so"

echo "installed $dest/flb-filter_svcshell.so ($(wc -c < "$dest/flb-filter_svcshell.so") bytes)"
if command -v objdump >/dev/null 2>&1; then
    glibc=$(objdump -T "$dest/flb-filter_svcshell.so" | grep -o 'GLIBC_[0-9.]*' | sort -u -V | tail -n 1)
    echo "needs ${glibc/_/ } or later"
fi
echo "run:  LD_LIBRARY_PATH=$dest fluent-bit -c $repo/plugin-config/fluent-bit.conf"
echo "  or: fluent-bit -e $dest/flb-filter_svcshell.so -i ... -F svcshell -m '*' -o ..."
