#include "daemon/metrics.h"

#include <charconv>
#include <vector>

#include "daemon/statistics.h"

namespace aclkd::daemon {
namespace {

// Escapes into `out`. Nearly every value needs none: it is then appended whole.
void appendEscapedLabel(std::string& out, const std::string& v) {
  if (v.find_first_of("\\\"\n") == std::string::npos) {
    out += v;
    return;
  }
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
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
    // The shortest text that reads back as the same double (to_chars): counts print as integers,
    // at a fraction of printf's cost (a scrape at 10,000 streams prints 20,000 values).
    char buf[64];
    buf[0] = ' ';
    const auto end = std::to_chars(buf + 1, buf + sizeof buf - 1, value).ptr;
    *end = '\n';
    out_.append(buf, end + 1);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string renderMetrics(const SurfaceSnapshot& s) {
  Exposition e;
  const auto stats = gatewayStatistics();
  std::vector<std::string> streamLabels;
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
    if (streamLabels.empty() && !s.streams.empty()) {
      // Each stream's labels once, for every per-stream family.
      streamLabels.reserve(s.streams.size());
      for (const auto& st : s.streams) {
        std::string& l = streamLabels.emplace_back("machine_guid=\"");
        appendEscapedLabel(l, st.machineGuid);
        l += "\",hostname=\"";
        appendEscapedLabel(l, st.hostname);
        l += '"';
      }
    }
    for (size_t i = 0; i < s.streams.size(); ++i) {
      e.sample(stat.metric, static_cast<double>(s.streams[i].*stat.perStream), streamLabels[i]);
    }
  }
  return e.take() + s.queryMetrics + s.alertMetrics;
}

}  // namespace aclkd::daemon
