#!/usr/bin/env bash
# Builds the stream bridge's libFuzzer targets straight from the sources (no CMake: the fuzzer
# needs clang and its own sanitizer flags), seeds each corpus from the Netdata captures and runs
# the handshake, parser and function-result targets for FUZZ_SECONDS (default 20), each decoder
# target (zstd, lz4, brotli, gzip) for FUZZ_DECODER_SECONDS (default 5) and the alert log reader
# for FUZZ_ALERT_SECONDS (default 10). Exits non-zero on a build failure or a crash.
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
# The compressed stream's framing and decoders, compiled once for the parser's target and the
# four decoder targets (one per algorithm, FUZZ_DECODER_SECONDS each, default 5).
compression_sources=(algorithm decoder lz4_decoder zstd_decoder brotli_decoder gzip_decoder)
compression_objects=()
for name in "${compression_sources[@]}"; do
  "$cxx" "${flags[@]/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}" -c \
    -o "$work/compression_$name.o" "$root/stream_bridge/compression/$name.cc"
  compression_objects+=("$work/compression_$name.o")
done
compression_libs=(-llz4 -lzstd -lbrotlidec -lbrotlienc -lz)
"$cxx" "${flags[@]}" -I"$root/tests" -o "$work/stream_parser_fuzz" \
  "$root/tests/fuzz/stream_parser_fuzz.cc" "$root/stream_bridge/stream_parser.cc" \
  "${compression_objects[@]}" "${compression_libs[@]}"
"$cxx" "${flags[@]}" -I"$root/tests" -o "$work/function_result_fuzz" \
  "$root/tests/fuzz/function_result_fuzz.cc" "$root/stream_bridge/stream_parser.cc" \
  "$root/stream_bridge/function_calls.cc" "$root/query/function_route.cc" \
  "$root/common/url.cc" "$root/common/text.cc" "$root/common/uuid.cc" -lcrypto
# The alert relay's readers of the agents' JSON answers.
"$cxx" "${flags[@]}" -o "$work/alert_log_fuzz" "$root/tests/fuzz/alert_log_fuzz.cc" \
  "$root/alerts/alert_log_parser.cc" "$root/common/uuid.cc" -lcrypto
decoders=(zstd lz4 brotli gzip)
for algorithm in "${decoders[@]}"; do
  "$cxx" "${flags[@]}" -I"$root/tests" -DACLKD_FUZZ_COMPRESSION="k${algorithm^}" \
    -o "$work/${algorithm}_decoder_fuzz" "$root/tests/fuzz/compression_fuzz.cc" \
    "${compression_objects[@]}" "${compression_libs[@]}"
done

# Seeds: the blocks recorded from a real v2.10.4 child per algorithm (in 4 KiB slices, cut at
# any byte: the decoder must cope with a stream that starts mid-block too), the captured request (whole and cut short), and the captured stream in 4 KiB slices,
# plus the parent's replies. A fresh corpus each run keeps the result independent of history.
corpus="$work/corpus"
rm -rf "$corpus"
mkdir -p "$corpus/handshake" "$corpus/stream" "$corpus/function" "$corpus/alerts" \
  "$work/artifacts"
cp "$fixtures"/alerts/*.json "$corpus/alerts/"
for algorithm in "${decoders[@]}"; do
  mkdir -p "$corpus/$algorithm"
  split -b 4096 -a 3 "$fixtures/netdata-2.10.4-$algorithm.bin" "$corpus/$algorithm/v2-"
done
cp "$fixtures/netdata-1.37-handshake.txt" "$corpus/handshake/request"
head -c 700 "$fixtures/netdata-1.37-handshake.txt" > "$corpus/handshake/request-cut"
head -c 4096 "$fixtures/netdata-1.37-parent-to-child.txt" > "$corpus/stream/parent-to-child"
tail -c +1406 "$fixtures/netdata-1.37-child-stream.txt" \
  | split -b 4096 -a 3 - "$corpus/stream/child-"
# Function results as a v2.10.4 child sends them (tests/fixtures/netdata-2.10.4-function-result.txt:
# a recorded answer of netdata-streaming, cut to 4 KiB), and the cloud's function paths.
cp "$fixtures/netdata-2.10.4-function-result.txt" "$corpus/function/result"
sed 's/"b8c8a027-19a4-4566-bcf4-fba7586b0cea"/t1/' "$fixtures/netdata-2.10.4-function-result.txt" \
  > "$corpus/function/result-t1"
printf '/api/v3/function?function=netdata-streaming&timeout=10' > "$corpus/function/path"
printf '/api/v3/config?action=test&id=go.d:nginx:local&timeout=5' > "$corpus/function/config"

status=0
run() {
  local name="$1" dir="$2"
  local limit="$3"
  shift 3
  echo "== $name: ${limit}s"
  local log="$work/$name.log"
  if "$work/$name" -max_total_time="$limit" -print_final_stats=1 -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$work/artifacts/$name-" "$@" "$dir" >"$log" 2>&1; then
    grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added)' "$log" || true
  else
    echo "$name FAILED (log: $log)" >&2
    tail -n 40 "$log" >&2
    status=1
  fi
}
run handshake_fuzz "$corpus/handshake" "$seconds" -max_len=16384
run stream_parser_fuzz "$corpus/stream" "$seconds" -max_len=16384
run function_result_fuzz "$corpus/function" "$seconds" -max_len=16384
run alert_log_fuzz "$corpus/alerts" "${FUZZ_ALERT_SECONDS:-10}" -max_len=16384
for algorithm in "${decoders[@]}"; do
  run "${algorithm}_decoder_fuzz" "$corpus/$algorithm" "${FUZZ_DECODER_SECONDS:-5}" -max_len=16384
done
exit "$status"
