#pragma once

#include <string_view>

namespace aclkd::daemon {

// The status page served at `/`: one static HTML document with its script inline, no build
// toolchain. It subscribes to the `aclk/status` live channel and redraws on every push.
std::string_view statusPageHtml();

}  // namespace aclkd::daemon
