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

}  // namespace aclkd
