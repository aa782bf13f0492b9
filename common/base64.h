#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aclkd {

// Standard base64 with padding and no line breaks (OpenSSL's EVP block functions).
std::string base64Encode(std::string_view bytes);
// Strict: nullopt on any character outside the standard alphabet, a length that is not a
// multiple of 4, or misplaced padding.
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace aclkd
