#pragma once

namespace aclkd {

// The gateway's version as it reports it to the cloud (/env `v=` without the 'v', the OTP
// password body and UpdateNodeInfo with it).
inline constexpr const char* kAclkdVersion = "v0.3.0";

}  // namespace aclkd
