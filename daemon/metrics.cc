#include "daemon/metrics.h"

#include <algorithm>
#include <charconv>

#include "daemon/statistics.h"

namespace aclkd::daemon {
namespace {

// Escapes into `out`. Nearly every value needs none: it is then appended whole (one pass to
// look, no allocation).
void appendEscapedLabel(std::string& out, const std::string& v) {
  const bool plain =
      std::none_of(v.begin(), v.end(), [](char c) { return c == '\\' || c == '"' || c == '\n'; });
  if (plain) {
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
    appendValue(value);
  }
  // A stream's sample: its labels escaped straight into the text (a scrape at 10,000 streams
  // writes 20,000 of them: no string of its own each).
  void streamSample(std::string_view name, double value, const stream_bridge::StreamView& st) {
    out_ += name;
    out_ += "{machine_guid=\"";
    appendEscapedLabel(out_, st.machineGuid);
    out_ += "\",hostname=\"";
    appendEscapedLabel(out_, st.hostname);
    out_ += "\"}";
    appendValue(value);
  }
  void reserve(size_t bytes) { out_.reserve(bytes); }
  void append(std::string_view text) { out_ += text; }
  std::string take() { return std::move(out_); }

 private:
  void appendValue(double value) {
    // The shortest text that reads back as the same double (to_chars): counts print as integers,
    // at a fraction of printf's cost (a scrape at 10,000 streams prints 20,000 values).
    char buf[64];
    buf[0] = ' ';
    const auto end = std::to_chars(buf + 1, buf + sizeof buf - 1, value).ptr;
    *end = '\n';
    out_.append(buf, end + 1);
  }
  std::string out_;
};

}  // namespace

std::string renderMetrics(const SurfaceSnapshot& s) {
  Exposition e;
  const auto stats = gatewayStatistics();
  // About 110 bytes a stream and family: sized once instead of doubling through megabytes.
  e.reserve(16384 + s.streams.size() * 240);
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
      e.streamSample(stat.metric, static_cast<double>(st.*stat.perStream), st);
    }
  }
  e.append(s.queryMetrics);
  e.append(s.alertMetrics);
  return e.take();
}

}  // namespace aclkd::daemon
