#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/surface_snapshot.h"

namespace aclkd::daemon {

// Live channels, on Grafana Live's model: `scope/namespace[/path]`, at most 160 characters of
// [A-Za-z0-9_=.-] and '/', no empty segment. Known: `aclk/status` (the link state with the node
// and stream lists: what the status page shows), `nodes/<machine_guid>`, `streams/<machine_guid>`;
// and `aclk/history`, which the gateway answers itself (kHistoryChannel below).
// The current JSON of `channel`, or nullopt with `error` saying what is wrong with the name.
std::optional<std::string> renderChannel(const std::string& channel, const SurfaceSnapshot& s,
                                         std::string* error);

// The last hour of the gateway's own figures (History::json), served by the gateway itself rather
// than renderChannel: it needs no snapshot. A subscribe gets the hour; a push the newest points,
// several rather than one so that a session whose once-a-second tick drifts past a point still
// gets it (the page keeps points by time).
inline constexpr std::string_view kHistoryChannel = "aclk/history";
inline constexpr size_t kHistoryPushPoints = 5;

}  // namespace aclkd::daemon
