#pragma once

#include <array>
#include <string>
#include <string_view>

namespace aclkd {

// A random (version 4) UUID, lowercase with dashes, from OpenSSL's CSPRNG.
std::string newUuid();
// 16 bytes (random, or the start of a digest) as a UUID of `version` (4 random, 5 name-based):
// the version and RFC 4122 variant bits set, lowercase with dashes.
std::string uuidFromBytes(std::array<unsigned char, 16> bytes, int version);

// True for the 8-4-4-4-12 hex form (either case), which is all Netdata accepts as a GUID.
bool isUuid(std::string_view text);

}  // namespace aclkd
