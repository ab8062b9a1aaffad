#!/usr/bin/env bash
# install.sh - builds svcshell (cargo build --release) and installs the Fluent Bit filter plugin: a copy of
# libsvcshell.so named flb-filter_svcshell.so (Fluent Bit loads only files named flb-filter_<name>.so).
#
#   plugin-config/install.sh [DESTINATION_DIR]     # default: $HOME/.local/lib/fluent-bit
#
# The example configs (plugins.conf, fluent-bit.yaml) name the plugin without a directory; run Fluent Bit with
# LD_LIBRARY_PATH=DESTINATION_DIR (printed at the end), install into a system library directory, or write the
# printed absolute path into the plugins file. Honours CARGO_TARGET_DIR.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$HOME/.local/lib/fluent-bit}

(cd "$repo" && cargo build --release)
target_dir=${CARGO_TARGET_DIR:-$repo/target}
case "$target_dir" in /*) ;; *) target_dir=$repo/$target_dir ;; esac
lib=$target_dir/release/libsvcshell.so
test -f "$lib" || { echo "install.sh: $lib not found" >&2; exit 1; }

mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
# Copy to a temporary name, then rename: a running Fluent Bit keeps its mapped copy intact.
cp "$lib" "$dest/.flb-filter_svcshell.so.tmp"
mv -f "$dest/.flb-filter_svcshell.so.tmp" "$dest/flb-filter_svcshell.so"

echo "installed $dest/flb-filter_svcshell.so"
echo "run:  LD_LIBRARY_PATH=$dest fluent-bit -c $repo/plugin-config/fluent-bit.conf"
echo "  or: fluent-bit -e $dest/flb-filter_svcshell.so -i ... -F svcshell -m '*' -o ..."
