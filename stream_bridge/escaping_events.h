#pragma once

#include <array>
#include <string>
#include <string_view>

#include "stream_bridge/stream_parser.h"

namespace aclkd::stream_bridge {

// The stream's text is untrusted: what reaches the registry (and so the views, the logs and the
// cloud) is escaped here, at the boundary, and forwarded to `next`. clean() costs a scan and no
// copy for clean text, the common case; chart ids are escaped the same way everywhere, so an
// escaped id still matches itself from one command to the next. A receiver derives from it and
// overrides what it answers itself (the replication reply, the sample path, stream paths).
class EscapingEvents : public StreamEvents {
 public:
  void onClaimedId(std::string_view machineGuid, std::string_view claimId) override;
  void onHostLabel(std::string_view name, std::string_view value, uint32_t source) override;
  void onHostLabelsCommit() override;
  void onChart(const ChartDefinition& chart) override;
  void onChartLabel(std::string_view chartId, std::string_view name, std::string_view value,
                    uint32_t source) override;
  void onChartLabelsCommit(std::string_view chartId) override;
  void onDimension(std::string_view chartId, const DimensionDefinition& dim) override;
  void onFunction(std::string_view chartId, const FunctionDeclaration& f) override;
  void onFunctionDel(std::string_view chartId, std::string_view name) override;
  void onVariable(std::string_view chartId, std::string_view name,
                  std::string_view value) override;
  void onChartDefinitionEnd(std::string_view chartId, int64_t firstEntry, int64_t lastEntry,
                            int64_t childNow) override;
  void onSamples(std::string_view chartId, int64_t endTime) override;
  void onReplicationEnd(std::string_view chartId, int64_t firstEntry, int64_t lastEntry) override;

 protected:
  // Events go to `next` from now on (nullptr: nowhere, once the host is gone).
  void forwardTo(StreamEvents* next) { next_ = next; }
  // `v`, or its escaped copy kept in `slot` until the slot is used again (one event's arguments
  // take different slots).
  std::string_view clean(std::string_view v, size_t slot);

 private:
  StreamEvents* next_ = nullptr;
  std::array<std::string, 10> scratch_;
};

}  // namespace aclkd::stream_bridge
