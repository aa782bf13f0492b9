#include "query/request_parts.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include "common/text.h"

namespace aclkd::query {
namespace {

constexpr std::array<std::string_view, 5> kPassed = {"accept", "accept-encoding",
                                                     "accept-language", "content-type",
                                                     "user-agent"};

}  // namespace

RequestParts splitRawRequest(std::string_view raw) {
  RequestParts out;
  auto pos = raw.find("\r\n");
  if (pos == std::string_view::npos) return out;
  pos += 2;
  std::optional<size_t> contentLength;
  while (pos < raw.size()) {
    const auto end = raw.find("\r\n", pos);
    const auto line = raw.substr(pos, end == std::string_view::npos ? raw.npos : end - pos);
    pos = end == std::string_view::npos ? raw.size() : end + 2;
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto name = trimSpace(line.substr(0, colon));
    auto value = trimSpace(line.substr(colon + 1));
    // Lines end at CRLF only: a bare CR or LF (or any control character) inside one would end
    // the header early on its way to the agent. Such a header is dropped, as a line without a
    // colon is.
    if (hasControlChar(name) || hasControlChar(value)) continue;
    if (asciiLower(name) == "content-length") {
      size_t n = 0;
      const auto r = std::from_chars(value.data(), value.data() + value.size(), n);
      if (r.ec == std::errc()) contentLength = n;
    }
    out.headers.emplace_back(std::string(name), std::string(value));
  }
  auto body = pos < raw.size() ? raw.substr(pos) : std::string_view();
  if (contentLength && *contentLength < body.size()) body = body.substr(0, *contentLength);
  out.body = std::string(body);
  return out;
}

std::vector<std::string> filterHeaders(
    const std::vector<std::pair<std::string, std::string>>& headers,
    const std::set<std::string>& extraAllowed) {
  std::vector<std::string> out;
  for (const auto& [name, value] : headers) {
    const auto l = asciiLower(name);
    const bool passed = std::find(kPassed.begin(), kPassed.end(), l) != kPassed.end() ||
                        extraAllowed.count(l) != 0;
    // No control character can occur (splitRawRequest drops such lines), so a value cannot
    // smuggle a header.
    if (passed) out.push_back(name + ": " + value);
  }
  return out;
}

}  // namespace aclkd::query
