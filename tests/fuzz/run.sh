#!/usr/bin/env bash
# Seeds and runs the libFuzzer targets that CMake builds with ACLKD_FUZZ=ON (tests/fuzz/
# CMakeLists.txt; scripts/test --sanitize=address makes them in build-asan).
#
#   tests/fuzz/run.sh seed NAME DIR              writes NAME's seed corpus into DIR
#   tests/fuzz/run.sh run BUILD_DIR NAME [SECS]  a fresh corpus, seeded, then NAME_fuzz for SECS
#                                                (FUZZ_SECONDS, default 8); non-zero on a crash,
#                                                a hang, a sanitizer report or a failed check
#
# Seeds are real bytes: the Netdata captures of tests/fixtures, and tests/fuzz/seeds/NAME (what
# the test cloud sends, what aclkctl, the status page, curl and a Netdata child send, and every
# reproducer a target found, named crash-*). The CI run starts from the seeds each time, so its
# result does not depend on an earlier run; scripts/fuzz-long keeps its corpus.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
fixtures="$root/tests/fixtures"

# The options every run uses: inputs up to 16 KiB (a child's block, a request head), 10 s for one
# input, 2 GiB of memory.
FUZZ_OPTIONS=(-max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)

seed() {
  local name="$1" dir="$2"
  mkdir -p "$dir"
  case "$name" in
    handshake)
      cp "$fixtures/netdata-1.37-handshake.txt" "$dir/request"
      head -c 700 "$fixtures/netdata-1.37-handshake.txt" > "$dir/request-cut" ;;
    stream_parser)
      head -c 4096 "$fixtures/netdata-1.37-parent-to-child.txt" > "$dir/parent-to-child"
      tail -c +1406 "$fixtures/netdata-1.37-child-stream.txt" | split -b 4096 -a 3 - "$dir/child-"
      head -c 4096 "$fixtures/netdata-2.10.4-function-result.txt" > "$dir/function-result" ;;
    zstd_decoder | lz4_decoder | brotli_decoder | gzip_decoder)
      # A v2.10.4 child's blocks in 4 KiB slices: a slice may start mid-block, as a stream that
      # the decoder meets mid-way.
      split -b 4096 -a 3 "$fixtures/netdata-2.10.4-${name%_decoder}.bin" "$dir/v2-" ;;
    function_result)
      cp "$fixtures/netdata-2.10.4-function-result.txt" "$dir/result"
      sed 's/"b8c8a027-19a4-4566-bcf4-fba7586b0cea"/t1/' \
        "$fixtures/netdata-2.10.4-function-result.txt" > "$dir/result-t1"
      printf '/api/v3/function?function=netdata-streaming&timeout=10' > "$dir/path"
      printf '/api/v3/config?action=test&id=go.d:nginx:local&timeout=5' > "$dir/config" ;;
    alert_log)
      cp "$fixtures"/alerts/*.json "$dir/" ;;
    control_request)
      # The client's renderers read the daemon's aclk-state JSON.
      cp "$root"/tests/unit/aclk/golden/*.json "$dir/" ;;
  esac
  if [[ -d "$root/tests/fuzz/seeds/$name" ]]; then
    cp "$root/tests/fuzz/seeds/$name"/* "$dir/"
  fi
}

run() {
  local build="$1" name="$2" seconds="${3:-${FUZZ_SECONDS:-8}}"
  local binary="$build/bin/${name}_fuzz" work="$build/fuzz/$name"
  [[ -x "$binary" ]] || { echo "run.sh: $binary is not built" >&2; return 2; }
  rm -rf "$work"
  mkdir -p "$work/artifacts"
  seed "$name" "$work/corpus"
  local log="$work/fuzz.log"
  echo "== $name: ${seconds}s from $(ls "$work/corpus" | wc -l) seeds"
  if "$binary" "${FUZZ_OPTIONS[@]}" -max_total_time="$seconds" \
      -artifact_prefix="$work/artifacts/" "$work/corpus" >"$log" 2>&1; then
    local stats='stat::(number_of_executed_units|average_exec_per_sec|new_units_added)'
    grep -E "^(#[0-9]+ +DONE|$stats)" "$log" || true
  else
    echo "$name FAILED (log: $log, reproducer in $work/artifacts/)" >&2
    tail -n 60 "$log" >&2
    return 1
  fi
}

case "${1:-}" in
  seed) seed "$2" "$3" ;;
  run) run "$2" "$3" "${4:-}" ;;
  *) echo "usage: run.sh seed NAME DIR | run.sh run BUILD_DIR NAME [SECONDS]" >&2; exit 2 ;;
esac
