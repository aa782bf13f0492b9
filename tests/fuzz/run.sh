#!/usr/bin/env bash
# Builds the stream bridge's libFuzzer targets straight from the sources (no CMake: the fuzzer
# needs clang and its own sanitizer flags), seeds each corpus from the Netdata 1.37 captures and
# runs every target for FUZZ_SECONDS (default 20). Exits non-zero on a build failure or a crash.
#
#   tests/fuzz/run.sh [work-dir]     (default: build/fuzz)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${1:-$root/build/fuzz}"
seconds="${FUZZ_SECONDS:-20}"
cxx="${FUZZ_CXX:-}"
if [[ -z "$cxx" ]]; then
  for candidate in clang++-14 clang++; do
    if command -v "$candidate" >/dev/null; then cxx="$candidate"; break; fi
  done
fi
if [[ -z "$cxx" ]]; then
  echo "run.sh: no clang++ found (set FUZZ_CXX)" >&2
  exit 2
fi

fixtures="$root/tests/fixtures"
mkdir -p "$work"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -fno-omit-frame-pointer -Wall -Wextra -I"$root")

echo "== building with $cxx into $work"
"$cxx" "${flags[@]}" -o "$work/handshake_fuzz" \
  "$root/tests/fuzz/handshake_fuzz.cc" "$root/stream_bridge/handshake.cc" \
  "$root/common/untrusted_text.cc"
"$cxx" "${flags[@]}" -o "$work/stream_parser_fuzz" \
  "$root/tests/fuzz/stream_parser_fuzz.cc" "$root/stream_bridge/stream_parser.cc" \
  "$root/stream_bridge/lz4_stream.cc" -llz4

# Seeds: the captured request (whole and cut short), and the captured stream in 4 KiB slices,
# plus the parent's replies. A fresh corpus each run keeps the result independent of history.
corpus="$work/corpus"
rm -rf "$corpus"
mkdir -p "$corpus/handshake" "$corpus/stream" "$work/artifacts"
cp "$fixtures/netdata-1.37-handshake.txt" "$corpus/handshake/request"
head -c 700 "$fixtures/netdata-1.37-handshake.txt" > "$corpus/handshake/request-cut"
head -c 4096 "$fixtures/netdata-1.37-parent-to-child.txt" > "$corpus/stream/parent-to-child"
tail -c +1406 "$fixtures/netdata-1.37-child-stream.txt" \
  | split -b 4096 -a 3 - "$corpus/stream/child-"

status=0
run() {
  local name="$1" dir="$2"
  shift 2
  echo "== $name: ${seconds}s"
  local log="$work/$name.log"
  if "$work/$name" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$work/artifacts/$name-" "$@" "$dir" >"$log" 2>&1; then
    grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added)' "$log" || true
  else
    echo "$name FAILED (log: $log)" >&2
    tail -n 40 "$log" >&2
    status=1
  fi
}
run handshake_fuzz "$corpus/handshake" -max_len=16384
run stream_parser_fuzz "$corpus/stream" -max_len=16384
exit "$status"
