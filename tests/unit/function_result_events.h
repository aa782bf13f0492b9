#pragma once

// The parser's result events handed to a call table, as the stream connection wires them: shared
// by the call table's unit tests and its fuzz target.

#include "stream_bridge/function_calls.h"
#include "stream_bridge/stream_parser.h"

namespace aclkd::stream_bridge {

struct ResultEvents : StreamEvents {
  explicit ResultEvents(FunctionCalls& c) : calls(c) {}
  void onFunctionResultBegin(std::string_view t, int code, std::string_view type,
                             int64_t expires) override {
    calls.resultBegin(t, code, type, expires);
  }
  void onFunctionResultBody(std::string_view b) override { calls.resultBody(b); }
  void onFunctionResultEnd() override { calls.resultEnd(); }
  void onFunctionProgress(std::string_view t, int64_t, int64_t) override {
    calls.progress(t, FunctionCalls::Clock::time_point{});
  }
  FunctionCalls& calls;
};

}  // namespace aclkd::stream_bridge
