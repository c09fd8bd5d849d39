#!/bin/sh
# test/run.sh: every test on both builds, as `make test` runs it.
#
#   0. test/layers.sh: the include and call graph point only down
#   1. build/unit
#   2. the integration tests against build/s3gw
#   3. build-asan/unit                      (ASan + UBSan)
#   4. the integration tests against build-asan/s3gw, S3GW_SANITIZE=1
#
# Every step runs even when an earlier one failed. Each step ends with a
# "<what>: N passed, N failed" line (layers, unit, integration); the
# last line here sums them as "N passed, N failed" (a step that printed no
# summary, or failed without counting a failure, counts as one failure).
# Arguments are passed to the integration runner as name filters. The
# integration files run S3GW_TEST_JOBS (default 3) at a time: most of their
# time is spent waiting on fsyncs, timers and child processes, so three keep
# two cores busy and the whole run well under CI's 30 minutes.
# Exit status: 0 only when every step succeeded.

set -u
cd "$(dirname "$0")/.." || exit 1

logdir=$(mktemp -d "${TMPDIR:-/tmp}/s3gw-test.XXXXXX") || exit 1
trap 'rm -rf "$logdir"' EXIT
trap 'exit 130' INT TERM

total_passed=0
total_failed=0
status=0
n=0

# step NAME COMMAND...: runs COMMAND, shows and keeps its output, adds up
# its summary line.
step() {
    name=$1
    shift
    n=$((n + 1))
    log="$logdir/$n.log"
    start=$(date +%s)
    echo "=== $name"
    { "$@"; echo $? > "$logdir/$n.rc"; } 2>&1 | tee "$log"
    rc=$(cat "$logdir/$n.rc" 2>/dev/null || echo 1)
    line=$(grep -E '^(layers|unit|integration): [0-9]+ passed, [0-9]+ failed' \
           "$log" | tail -n 1)
    if [ -n "$line" ]; then
        p=$(echo "$line" | sed -E 's/^[a-z]+: ([0-9]+) passed.*/\1/')
        f=$(echo "$line" | sed -E 's/^[a-z]+: [0-9]+ passed, ([0-9]+) failed.*/\1/')
    else
        p=0
        f=0
    fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "=== $name: exit status $rc without a counted failure" \
             "(crash, timeout or nothing ran): counted as 1 failed"
    fi
    if [ "$rc" -ne 0 ]; then
        status=1
    fi
    total_passed=$((total_passed + p))
    total_failed=$((total_failed + f))
    echo "=== $name: exit $rc, $p passed, $f failed," \
         "$(( $(date +%s) - start ))s"
}

step "layers" env BUILD=build sh test/layers.sh --all
step "unit (build)" ./build/unit
jobs=${S3GW_TEST_JOBS:-3}
step "integration (build)" \
    env S3GW_BIN=build/s3gw S3GW_SANITIZE= \
    python3 test/integration/run.py -j "$jobs" "$@"

step "unit (build-asan)" \
    env ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1 \
    ./build-asan/unit
step "integration (build-asan)" \
    env S3GW_BIN=build-asan/s3gw S3GW_SANITIZE=1 \
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1 \
    python3 test/integration/run.py -j "$jobs" "$@"

echo "$total_passed passed, $total_failed failed"
exit "$status"
