#pragma once

#include <string>
#include <string_view>

namespace aclkd {

// ASCII lower case (header names, UUIDs, option values: never locale-dependent).
std::string asciiLower(std::string_view text);

// ASCII case-insensitive equality (header names, algorithm names).
bool asciiEqualsIgnoreCase(std::string_view a, std::string_view b);

// `text` without leading and trailing spaces, tabs, CR and LF.
std::string_view trimSpace(std::string_view text);

// True when `text` has a control character other than a tab (below 0x20, or 0x7f): in an HTTP
// header line a bare CR or LF would end the line early and start a header of the sender's own.
bool hasControlChar(std::string_view text);

}  // namespace aclkd
