#!/usr/bin/env bash
# Runs ocslog's libFuzzer targets (Sources/FuzzTargets) for a given time each.
#   fuzz/run.sh [SECONDS] [TARGET…]     default: 600 s, every target, two at a time
#   FUZZ_PARALLEL=4 fuzz/run.sh …       run that many targets at once
#   FUZZ_MAX_LEN=4194304 fuzz/run.sh …  long-input mode: inputs up to 4 MiB (long lines, long records)
#   FUZZ_SCRATCH=.build-fuzz2 …          build into another folder (while other fuzzers run)
# Targets: reader msi html xml event csv knowledge scan-to-rules reg netsh netsh-config event-xml
# firewall-rules topology.
# Builds Sources/ocslog-fuzz with -DFUZZING and the fuzzer and address sanitizers into
# .build-fuzz (the recipe that works on this toolchain: the entry point is a file that is not
# main.swift holding only @_cdecl("LLVMFuzzerTestOneInput"); one -sanitize=fuzzer,address flag).
# Seeds: corpus/logs, corpus/adversarial and the knowledge files. A crashing input is written to
# Tests/FuzzRegressionTests/Inputs/TARGET/, where `swift test` replays it (fix it, keep the file).
# Each run's last lines (executions, exec/s, crashes) go to .build-fuzz/logs/TARGET.log.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(reader msi html xml event csv knowledge scan-to-rules reg netsh netsh-config event-xml
    firewall-rules topology)

swift build -c release --product ocslog-fuzz --scratch-path "${FUZZ_SCRATCH:-.build-fuzz}" \
    --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
binary="${FUZZ_SCRATCH:-.build-fuzz}/release/ocslog-fuzz"
mkdir -p .build-fuzz/logs

run_target() {
    local target="$1"
    local seeds=".build-fuzz/seeds/$target" work=".build-fuzz/corpus/$target"
    local artifacts="Tests/FuzzRegressionTests/Inputs/$target/"
    mkdir -p "$seeds" "$work" "$artifacts"
    if [ "$target" = knowledge ]; then
        cp Sources/Knowledge/Data/*.yaml "$seeds/"
    elif [ "$target" = topology ]; then
        cp corpus/topology/*.yaml "$seeds/"
    else
        find corpus/logs corpus/adversarial -type f ! -name '*.md' -exec cp {} "$seeds/" \;
    fi
    local status=0
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 OCSLOG_FUZZ_TARGET="$target" \
        "$binary" -max_total_time="$seconds" -max_len="${FUZZ_MAX_LEN:-131072}" -timeout=20 -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts" -print_final_stats=1 "$work" "$seeds" \
        >".build-fuzz/logs/$target.log" 2>&1 || status=$?
    local stats
    stats=$(grep -E "stat::number_of_executed_units|stat::average_exec_per_sec" ".build-fuzz/logs/$target.log" |
        awk '{print $2}' | paste -sd' ')
    echo "$target: status $status, ${seconds}s, executions and exec/s: ${stats:-?}"
    return $status
}

status=0
index=0
pids=()
names=()
for target in "${targets[@]}"; do
    run_target "$target" &
    pids+=($!)
    names+=("$target")
    index=$((index + 1))
    # Two at a time by default (the machine has two cores).
    if [ $((index % ${FUZZ_PARALLEL:-2})) -eq 0 ]; then
        for pid in "${pids[@]}"; do wait "$pid" || status=1; done
        pids=()
    fi
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
