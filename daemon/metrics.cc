#include "daemon/metrics.h"

#include <cstdio>

#include "daemon/statistics.h"

namespace aclkd::daemon {
namespace {

std::string escapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(std::string_view name, double value, std::string_view labels) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, " %.17g\n", value);
    out_ += buf;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string renderMetrics(const SurfaceSnapshot& s) {
  Exposition e;
  const auto stats = gatewayStatistics();
  for (size_t row = 0; row < stats.size(); ++row) {
    const auto& stat = stats[row];
    if (stat.metric.empty()) continue;  // an `aclk-state` counter only
    if (!stat.help.empty()) {
      e.family(stat.metric, stat.type == StatisticType::kGauge ? "gauge" : "counter", stat.help);
    }
    if (!stat.perStream) {
      e.sample(stat.metric, statisticValue(row, s), stat.labels);
      continue;
    }
    for (const auto& st : s.streams) {
      e.sample(stat.metric, static_cast<double>(st.*stat.perStream),
               "machine_guid=\"" + escapeLabel(st.machineGuid) + "\",hostname=\"" +
                   escapeLabel(st.hostname) + "\"");
    }
  }
  return e.take() + s.queryMetrics + s.alertMetrics;
}

}  // namespace aclkd::daemon
