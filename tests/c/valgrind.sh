#!/usr/bin/env bash
# tests/c/valgrind.sh - runs the C API tests (tests/c/*.c) under Valgrind: builds libsvcshell.so (cargo build),
# compiles each C program against include/svcshell.h, and runs it under memcheck. Exits non-zero on any memory
# error, any definite or indirect leak, or any failed check. Called by .ci/run.
#
# Environment:
#   VALGRIND_RECORDS   records per thread for link_test's 4-thread test (default 5000; the plain run uses 100000)
#   CARGO_TARGET_DIR   honoured, as by cargo
#   CC                 C compiler (default cc)
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind.sh: valgrind is not installed" >&2
    exit 1
fi

echo "== cargo build --lib"
cargo build --lib --quiet
target_dir=$(cargo metadata --no-deps --format-version 1 | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
lib_dir="$target_dir/debug"
test -f "$lib_dir/libsvcshell.so" || { echo "valgrind.sh: no $lib_dir/libsvcshell.so" >&2; exit 1; }

out_dir="$target_dir/c-valgrind"
mkdir -p "$out_dir"
cc=${CC:-cc}
cflags=(-std=c99 -Wall -Wextra -Werror -pedantic -O1 -g -Iinclude -pthread)
link=(-L"$lib_dir" -lsvcshell -Wl,-rpath,"$lib_dir")

echo "== compiling tests/c/*.c"
"$cc" "${cflags[@]}" tests/c/link_test.c -o "$out_dir/link_test" "${link[@]}"
"$cc" "${cflags[@]}" tests/c/example.c -o "$out_dir/example" "${link[@]}"
"$cc" "${cflags[@]}" tests/c/dlopen_test.c -o "$out_dir/dlopen_test" -ldl

vg=(valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect)
records=${VALGRIND_RECORDS:-5000}
match='{"@timestamp":"2024-05-01T12:00:00Z","event":{"category":["process"],"type":["start"],"kind":"event"},"host":{"os":{"type":"windows"}},"process":{"name":"cmd.exe","args":["cmd.exe","/c","whoami"],"parent":{"name":"services.exe"}}}'
nomatch=${match/services.exe/svchost.exe}

status=0
run() {
    local name=$1
    shift
    echo "== valgrind $name"
    if "$@"; then
        echo "   ok: $name"
    else
        echo "   FAILED: $name (exit $?)" >&2
        status=1
    fi
}

run "link_test ($records records per thread)" "${vg[@]}" "$out_dir/link_test" "$records"
run "dlopen_test" "${vg[@]}" "$out_dir/dlopen_test" "$lib_dir/libsvcshell.so"
run "example (tag)" bash -c '"$@" > /dev/null' _ "${vg[@]}" "$out_dir/example" mode=tag max_alerts=0 \
    <<<"$match"$'\n'"$nomatch"$'\n{"a":\nnot json'
run "example (alerts_only)" bash -c '"$@" > /dev/null' _ "${vg[@]}" "$out_dir/example" mode=alerts_only \
    <<<"$match"$'\n'"$nomatch"

# The Fluent Bit plugin (src/ffi/fluentbit.rs) in the emulated hosts (tests/c/fluentbit_host.c): the Rust tests
# compile one host per layout (80/88-byte plugin struct x 96/104-byte config map) and the hosts the plugin must
# refuse (a 2.1 layout, a program that exports nothing), build the chunk cases from the recorded events, and run
# every host under the same Valgrind options.
run "fluentbit_host (every emulated Fluent Bit layout, recorded events; refused hosts)" \
    env SVCSHELL_FB_HOST_WRAPPER="${vg[*]}" cargo test --quiet --test fluentbit emulated_host

if [ "$status" -ne 0 ]; then
    echo "valgrind.sh: FAILED" >&2
else
    echo "valgrind.sh: all C tests clean under valgrind"
fi
exit "$status"
