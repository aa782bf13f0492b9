#include "aclk/topics.h"

namespace aclkd::aclk {
namespace {

constexpr std::string_view kNames[] = {
    "chart",
    "alarms",
    "meta",
    "inbox-cmd",
    "agent-connection",
    "inbox-cmd-v1",
    "create-node-instance",
    "node-instance-connection",
    "chart-and-dims-updated",
    "chart-configs-updated",
    "reset-charts",
    "chart-retention-updated",
    "node-instance-info",
    "alarm-log-v2",
    "alarm-checkpoint",
    "alarm-config",
    "alarm-snapshot-v2",
    "node-instance-collectors",
    "contexts-snapshot",
    "contexts-updated",
    "node-instance-manifest",
};
static_assert(std::size(kNames) == static_cast<size_t>(TopicId::kCount));

}  // namespace

std::string_view topicName(TopicId id) { return kNames[static_cast<size_t>(id)]; }

std::optional<TopicId> topicIdByName(std::string_view name) {
  for (size_t i = 0; i < std::size(kNames); ++i) {
    if (kNames[i] == name) return static_cast<TopicId>(i);
  }
  return std::nullopt;
}

bool topicIsCompulsory(TopicId id) { return id != TopicId::kNodeInstanceManifest; }

std::string_view messageTypeOfTopic(std::string_view topic) {
  const auto slash = topic.rfind('/');
  return slash == std::string_view::npos ? std::string_view{} : topic.substr(slash + 1);
}

}  // namespace aclkd::aclk
