// libFuzzer target: an agent's answer on its way to the cloud (query/reply_mapping.h). The input
// is the agent's response head as libcurl hands it over, one line at a time (status line, header
// lines, blank line), then its body; a function result is the same bytes as a child's content
// type (first line) and body. Both become the HTTP response inside the cloud's `cmd` reply.
// Besides "never crash": the head of what reaches the cloud is CRLF-separated lines with no
// other line break, so an agent or child cannot add headers or a response of its own.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "query/reply_mapping.h"

using namespace aclkd;

namespace {

void checkHead(const aclk::CmdResult& result) {
  if (result.errorCode != 0) return;
  const std::string& out = result.httpResponse;
  const auto end = out.find("\r\n\r\n");
  if (end == std::string::npos) __builtin_trap();
  for (size_t i = 0; i < end; ++i) {
    const bool crlf = out[i] == '\r' && out[i + 1] == '\n';
    if ((out[i] == '\r' && !crlf) || (out[i] == '\n' && out[i - 1] != '\r')) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const int status = size > 1 ? 100 + (data[0] | (data[1] << 8)) % 500 : 200;

  query::ForwardResponse agent;
  agent.outcome = query::ForwardOutcome::kAnswered;
  agent.status = status;
  while (!input.empty()) {
    const size_t nl = input.find('\n');
    const std::string_view line = input.substr(0, nl == std::string_view::npos ? nl : nl + 1);
    input.remove_prefix(line.size());
    if (line == "\r\n" || line == "\n") break;
    query::readAgentHeaderLine(line, &agent);
  }
  agent.body = std::string(input);
  checkHead(query::mapForwardResponse(agent, "agent", 1 << 20));

  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t nl = all.find('\n');
  stream_bridge::FunctionCallResult result;
  result.outcome = stream_bridge::FunctionOutcome::kAnswered;
  result.code = status;
  result.contentType = std::string(all.substr(0, nl));
  result.body = nl == std::string_view::npos ? "" : std::string(all.substr(nl + 1));
  result.expires = size > 2 ? int64_t{data[2]} * 1000 : 0;
  checkHead(query::mapFunctionResult(result, "node", 1 << 20, 100000));
  return 0;
}
