#!/usr/bin/env bash
# install-wasm.sh - builds svcshell as a WASM module (wasm32-wasip1, the `module` profile: whole-program
# optimised) and installs it as svcshell.wasm for Fluent Bit's wasm filter (filter_wasm). One file serves every
# Fluent Bit from 2.2 to 5.1, on Linux and on Windows (copy it there: the module holds no machine code).
#
#   plugin-config/install-wasm.sh DESTINATION_DIR               # builds, installs DESTINATION_DIR/svcshell.wasm
#   plugin-config/install-wasm.sh --uninstall DESTINATION_DIR   # removes DESTINATION_DIR/svcshell.wasm
#
# The module reads its settings from svcshell.conf (example: plugin-config/svcshell.conf) in the first of the
# filter's Accessible_Paths directories that holds one; this script does not install a settings file. Honours
# CARGO_TARGET_DIR (the WASM workspace's target directory, default wasm/target).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

usage() {
    echo "usage: $0 DESTINATION_DIR | --uninstall DESTINATION_DIR" >&2
    exit 2
}

case "${1:-}" in
--uninstall)
    [ $# -eq 2 ] || usage
    dest=$2
    if [ -e "$dest/svcshell.wasm" ]; then
        rm -f "$dest/svcshell.wasm"
        echo "removed $dest/svcshell.wasm"
    else
        echo "install-wasm.sh: $dest/svcshell.wasm is not installed; nothing to remove"
    fi
    exit 0
    ;;
-h | --help) usage ;;
"" | -*) usage ;;
esac
[ $# -eq 1 ] || usage
dest=$1

target=wasm32-wasip1
if command -v rustup >/dev/null 2>&1; then
    if ! rustup target list --installed | grep -qx "$target"; then
        echo "install-wasm.sh: adding the Rust target $target (rustup target add $target)" >&2
        rustup target add "$target"
    fi
elif ! rustc --print target-list 2>/dev/null | grep -qx "$target"; then
    echo "install-wasm.sh: rustup not found, and this Rust does not know $target." >&2
    echo "  Install Rust with rustup (https://rustup.rs), then run: rustup target add $target" >&2
    exit 1
else
    echo "install-wasm.sh: rustup not found; building for $target with the installed Rust (its standard" >&2
    echo "  library for $target must be installed, or the build fails)" >&2
fi

target_dir=${CARGO_TARGET_DIR:-$repo/wasm/target}
case "$target_dir" in /*) ;; *) target_dir=$repo/$target_dir ;; esac
(cd "$repo/wasm" && CARGO_TARGET_DIR="$target_dir" cargo build --profile module -p svcshell-wasm --target "$target")
module=$target_dir/$target/module/svcshell_wasm.wasm
test -f "$module" || {
    echo "install-wasm.sh: $module not found" >&2
    exit 1
}

mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
# Copy to a temporary name, then rename: a Fluent Bit that loads the module (per chunk on 2.2 and 3.1) never
# reads a half-written file.
tmp="$dest/.svcshell.wasm.tmp"
cp "$module" "$tmp"
mv -f "$tmp" "$dest/svcshell.wasm"

echo "installed $dest/svcshell.wasm ($(wc -c <"$dest/svcshell.wasm") bytes)"
cat <<EOF
In the Fluent Bit config (plugin-config/fluent-bit-wasm.conf and .yaml take them from the environment):
    [FILTER]
        Name              wasm
        Match             *
        WASM_Path         $dest/svcshell.wasm
        Function_Name     svcshell_filter
        Accessible_Paths  <the directory of your svcshell.conf>
run:  SVCSHELL_WASM=$dest/svcshell.wasm SVCSHELL_SETTINGS_DIR=<that directory> \\
      SVCSHELL_INPUT=... SVCSHELL_OUTPUT_DIR=... SVCSHELL_OUTPUT_FILE=... SVCSHELL_EXIT_ON_EOF=off \\
      fluent-bit -c $repo/plugin-config/fluent-bit-wasm.conf
EOF
