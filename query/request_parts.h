#pragma once

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aclkd::query {

// The headers and body of the cloud's raw HTTP/1.1 request (after its request line).
struct RequestParts {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Reads header lines up to the blank line; the body is Content-Length bytes when given, else
// whatever follows. Lines without a colon, and lines with a control character (a bare CR or LF
// among them) in the name or value, are skipped.
RequestParts splitRawRequest(std::string_view raw);

// The headers passed on to the agent, as "Name: value": the ones that shape the answer (Accept,
// Accept-Encoding, Accept-Language, Content-Type, User-Agent) plus the lower-case names in
// `extraAllowed` (`[cloud] query forward headers`). Cookies, credentials and hop-by-hop headers
// of the cloud stay behind unless named there.
std::vector<std::string> filterHeaders(
    const std::vector<std::pair<std::string, std::string>>& headers,
    const std::set<std::string>& extraAllowed);

}  // namespace aclkd::query
