#!/usr/bin/env bash
# Runs every fuzz target for about 30 seconds from the committed seeds (fuzz/seeds/<target>/); exits non-zero
# when any target crashes (a panic, a failed differential assertion, an ASan report, a timeout or OOM).
#
#   fuzz/ci.sh                 # all targets, 30 s each
#   FUZZ_SECONDS=120 fuzz/ci.sh json_scanner c_entry
#   FUZZ_SEED=0 fuzz/ci.sh       # a random seed (libFuzzer's choice) instead of the fixed one
#
# The fixed seed (FUZZ_SEED, default 1) makes a run repeatable: the same inputs in the same order, so a gate
# that passed keeps passing and a failure reproduces. New ground is covered by long runs with FUZZ_SEED=0
# (see fuzz/README.md); what they find becomes a seed and a test.
#
# Needs the nightly toolchain (cargo-fuzz builds with -Zsanitizer=address) and cargo-fuzz (installed here when
# missing). Without them it prints a loud SKIPPED message and exits 0, except under CI (CI=true), where a fuzz
# gate that cannot run is a failure (exit 1). Crash inputs land in fuzz/artifacts/<target>/.
set -euo pipefail

cd "$(dirname "$0")"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-30}"
SEED="${FUZZ_SEED:-1}"
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
    TARGETS=(json_scanner c_entry msgpack_chunk eql_compile config_props rule_file settings_file wasm_entry)
fi

# A missing tool: a failure in CI, a loud skip elsewhere.
unavailable() {
    if [ "${CI:-}" = "true" ]; then
        echo "fuzz/ci.sh: FAILED - $1; CI=true, so the fuzz gate must run. $2" >&2
        exit 1
    fi
    echo "############################################################################" >&2
    echo "## fuzz/ci.sh: SKIPPED - $1" >&2
    echo "## $2" >&2
    echo "############################################################################" >&2
    exit 0
}

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    unavailable "the Rust nightly toolchain is not installed." "cargo-fuzz needs it: rustup toolchain install nightly"
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz/ci.sh: installing cargo-fuzz" >&2
    if ! cargo install cargo-fuzz --locked || ! cargo fuzz --version >/dev/null 2>&1; then
        unavailable "cargo-fuzz is not installed and could not be installed." "cargo install cargo-fuzz --locked"
    fi
fi

failed=()
for t in "${TARGETS[@]}"; do
    if [ ! -d "seeds/$t" ]; then
        echo "fuzz/ci.sh: no seeds/$t: unknown target" >&2
        exit 2
    fi
    corpus="$(mktemp -d)"
    echo "== fuzz/ci.sh: $t for ${SECONDS_PER_TARGET}s" >&2
    log="$(mktemp)"
    # New inputs go to a scratch corpus; the seeds are read only.
    if nice -n 19 cargo +nightly fuzz run "$t" "$corpus" "seeds/$t" -- \
        -seed="$SEED" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 >"$log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^Done' "$log" >&2 || true
    else
        echo "!! fuzz/ci.sh: $t FAILED; its panic message (if any) and the end of its log:" >&2
        # The backtrace can push the panic message out of the tail: show it first.
        grep -m 1 -A 2 'panicked at' "$log" >&2 || true
        tail -n 60 "$log" >&2
        failed+=("$t")
    fi
    rm -rf "$corpus" "$log"
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz/ci.sh: crashes in: ${failed[*]} (inputs in fuzz/artifacts/<target>/)" >&2
    exit 1
fi
echo "fuzz/ci.sh: all ${#TARGETS[@]} targets ran ${SECONDS_PER_TARGET}s without a crash" >&2
