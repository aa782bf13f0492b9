#pragma once

#include <string>
#include <string_view>

#include "daemon/surface_snapshot.h"

namespace aclkd::daemon {

// The status page served at `/`: one HTML document, no build toolchain. The status block and the
// node table are rendered here from `s` so that the page is usable without JavaScript; with it,
// the script (statusPageScript) subscribes to the `aclk/status` and `aclk/history` live channels,
// redraws the tables, draws the last hour with Chart.js and shows a node's details on a click.
// `ready` false (the start-up claim step is not over): the tables stay empty until the live data.
std::string renderStatusPage(const SurfaceSnapshot& s, bool ready);

// The page's stylesheet and script (status_page_script.cc).
std::string_view statusPageStyle();
std::string_view statusPageScript();

// Debian's libjs-chart.js 3.9 (UMD build), which the page loads from /static/chart.js: served from
// where the package installs it, never from a CDN. Absent, a 404 whose body says which package to
// install; the page then keeps its tables and says the charts are off.
inline constexpr std::string_view kChartLibraryPath = "/usr/share/javascript/chart.js/chart.min.js";
struct StaticFile {
  int code = 200;
  std::string contentType;
  std::string body;
};
StaticFile chartLibrary(const std::string& path = std::string(kChartLibraryPath));

}  // namespace aclkd::daemon
