// libFuzzer target: function results from a child (FUNCTION_RESULT_BEGIN … END blocks, progress
// reports, anything else a stream may hold around them) through the line parser into the call
// table, and the cloud's function requests (the path of a `cmd` and its caller headers). Besides
// "never crash": every call completes exactly once, how the bytes are cut never changes what the
// calls end with, and no request that reaches a stream line holds a character that could end it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "query/function_route.h"
#include "stream_bridge/function_calls.h"
#include "stream_bridge/stream_parser.h"
#include "unit/function_result_events.h"

using namespace aclkd::stream_bridge;

namespace {

// Runs the input cut at `cut` against three calls (transactions t1..t3); what each ended with.
std::vector<std::string> run(std::string_view input, size_t cut) {
  std::vector<std::string> ends(3);
  std::vector<int> completions(3, 0);
  int next = 0;
  {
    FunctionCalls::Limits limits;
    limits.maxResultBytes = 4096;  // small, so that the limit is reached too
    FunctionCalls calls([](std::string) {}, true, limits,
                        [&next] { return "t" + std::to_string(++next); });
    for (uint64_t id = 0; id < 3; ++id) {
      FunctionCallRequest r;
      r.command = "f";
      r.deadline = FunctionCalls::Clock::time_point::max();
      calls.start(id, r, [&, id](FunctionCallResult res) {
        ++completions[id];
        ends[id] = std::to_string(static_cast<int>(res.outcome)) + "|" + std::to_string(res.code) +
                   "|" + res.contentType + "|" + res.body;
      }, FunctionCalls::Clock::time_point{});
    }
    ResultEvents events(calls);
    StreamParser parser(events, 256);
    std::string error;
    if (parser.feed(input.substr(0, cut), &error)) parser.feed(input.substr(cut), &error);
    calls.failAll("end of input");
  }
  for (const int c : completions) {
    if (c != 1) __builtin_trap();
  }
  return ends;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto whole = run(input, input.size());
  const size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  if (run(input, cut) != whole) __builtin_trap();

  // The cloud's side: any path and headers give an ask, and a call built from it is either safe
  // for a stream line or refused.
  const auto ask = aclkd::query::parseFunctionAsk(input);
  const auto caller = aclkd::query::callerIdentity({{"X-Netdata-Permissions", std::string(input)},
                                                     {"X-Netdata-User-Name", std::string(input)}});
  FunctionCallRequest r;
  r.command = ask.command;
  r.source = caller.source;
  if (checkSafeForStream(r, nullptr)) {
    for (const char c : r.command + r.source) {
      if (c == '"' || c == '\n' || c == '\r' || c == '\0') __builtin_trap();
    }
  }
  return 0;
}
