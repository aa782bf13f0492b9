#pragma once

#include <string>
#include <vector>

#include "daemon/surface_snapshot.h"

namespace aclkd::daemon {

// `GET /metrics`: Prometheus text exposition format 0.0.4, every statistic of
// gatewayStatistics() in its order, then the query proxy's and the alert relay's families. Every
// family has HELP and TYPE; counters end in _total.
// The per-stream families' series come written (SurfaceSnapshot::streamSeries).
std::string renderMetrics(const SurfaceSnapshot& s);

// The per-stream series: one text per family with a `perStream` reader (streamSeriesFamilies()
// of them, in gatewayStatistics() order). writeStreamSeries appends one stream's line to each;
// it runs on the stream loops (StreamServer::streamText), any number at once.
size_t streamSeriesFamilies();
void writeStreamSeries(const stream_bridge::StreamView& st, std::vector<std::string>& parts);
// The same from views at hand, as one loop's part: what the tests give renderMetrics.
stream_bridge::StreamServer::StreamTextParts streamSeriesOf(
    const std::vector<stream_bridge::StreamView>& streams);

}  // namespace aclkd::daemon
