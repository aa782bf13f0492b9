#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aclkd::aclk {

// The topic names of docs/protocol/aclk.md §4.5/§6 that the gateway knows.
enum class TopicId {
  kChart,
  kAlarms,
  kMeta,
  kInboxCmd,
  kAgentConnection,
  kInboxCmdV1,
  kCreateNodeInstance,
  kNodeInstanceConnection,
  kChartAndDimsUpdated,
  kChartConfigsUpdated,
  kResetCharts,
  kChartRetentionUpdated,
  kNodeInstanceInfo,
  kAlarmLogV2,
  kAlarmCheckpoint,
  kAlarmConfig,
  kAlarmSnapshotV2,
  kNodeInstanceCollectors,
  kContextsSnapshot,
  kContextsUpdated,
  kNodeInstanceManifest,  // optional
  kCount,
};

std::string_view topicName(TopicId id);
std::optional<TopicId> topicIdByName(std::string_view name);
bool topicIsCompulsory(TopicId id);

// The final topics of one session: templates from /password with the first `#{claim_id}`
// replaced by the claimed ID. `ordered` keeps the list order (for topic aliases, §5.6).
struct TopicMap {
  std::array<std::optional<std::string>, static_cast<size_t>(TopicId::kCount)> byId;
  std::vector<std::string> ordered;  // every usable final topic, in list order

  const std::optional<std::string>& get(TopicId id) const {
    return byId[static_cast<size_t>(id)];
  }
};

// The message type of an inbound topic: the text after its last '/' (empty when none).
std::string_view messageTypeOfTopic(std::string_view topic);

}  // namespace aclkd::aclk
