#pragma once

#include <string>
#include <string_view>

namespace aclkd {

// A random (version 4) UUID, lowercase with dashes, from OpenSSL's CSPRNG.
std::string newUuid();

// True for the 8-4-4-4-12 hex form (either case), which is all Netdata accepts as a GUID.
bool isUuid(std::string_view text);

}  // namespace aclkd
