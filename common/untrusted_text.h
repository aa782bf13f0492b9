#pragma once

#include <string>
#include <string_view>

namespace aclkd {

// The one rule for text that came from outside (a STREAM request, a stream's lines, the cloud):
// escape it at the boundary, before it is logged, stored or republished, so that no peer can
// forge a log line, break a JSON view or smuggle terminal escapes.
//
// Control bytes (below 0x20 and 0x7f), a backslash and bytes that are not part of valid UTF-8
// become `\xNN` (a backslash `\\`); everything else, including valid multi-byte UTF-8, is kept.
// Text without such bytes comes back unchanged, so well-behaved peers see no difference.
std::string escapeUntrusted(std::string_view text);

// True when escapeUntrusted would change nothing.
bool isCleanText(std::string_view text);

// A host name as a peer names itself: 1 to 255 bytes of clean text (see above), no control
// characters at all. False with *error saying why not (without echoing the raw value).
bool checkHostname(std::string_view hostname, std::string* error);

}  // namespace aclkd
