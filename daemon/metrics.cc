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

// The shortest text that reads back as the same double (to_chars): counts print as integers, at
// a fraction of printf's cost (a scrape at 10,000 streams prints 20,000 values).
void appendValue(std::string& out, double value) {
  char buf[64];
  buf[0] = ' ';
  const auto end = std::to_chars(buf + 1, buf + sizeof buf - 1, value).ptr;
  *end = '\n';
  out.append(buf, end + 1);
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
    appendValue(out_, value);
  }
  void reserve(size_t bytes) { out_.reserve(bytes); }
  void append(std::string_view text) { out_ += text; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// The rows of gatewayStatistics() with a per-stream reader, in order: found once, not per stream.
const std::vector<const Statistic*>& perStreamStatistics() {
  static const std::vector<const Statistic*> rows = [] {
    std::vector<const Statistic*> out;
    for (const auto& stat : gatewayStatistics()) {
      if (!stat.metric.empty() && stat.perStream) out.push_back(&stat);
    }
    return out;
  }();
  return rows;
}

}  // namespace

size_t streamSeriesFamilies() { return perStreamStatistics().size(); }

// A stream's sample: its labels escaped straight into the text (no string of its own each).
void writeStreamSeries(const stream_bridge::StreamView& st, std::vector<std::string>& parts) {
  const auto& rows = perStreamStatistics();
  for (size_t f = 0; f < rows.size() && f < parts.size(); ++f) {
    std::string& out = parts[f];
    out += rows[f]->metric;
    out += "{machine_guid=\"";
    appendEscapedLabel(out, st.machineGuid);
    out += "\",hostname=\"";
    appendEscapedLabel(out, st.hostname);
    out += "\"}";
    appendValue(out, static_cast<double>(st.*rows[f]->perStream));
  }
}

stream_bridge::StreamServer::StreamTextParts streamSeriesOf(
    const std::vector<stream_bridge::StreamView>& streams) {
  auto text = std::make_shared<stream_bridge::StreamServer::StreamText>();
  text->parts.resize(streamSeriesFamilies());
  for (const auto& st : streams) {
    writeStreamSeries(st, text->parts);
    text->samplesPerSecond += st.samplesPerSecond;
  }
  text->streams = streams.size();
  return {std::move(text)};
}

std::string renderMetrics(const SurfaceSnapshot& s) {
  Exposition e;
  const auto stats = gatewayStatistics();
  size_t perStreamBytes = 0;
  for (const auto& loop : s.streamSeries) {
    for (const auto& part : loop->parts) perStreamBytes += part.size();
  }
  e.reserve(16384 + perStreamBytes);
  size_t family = 0;  // of the per-stream ones
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
    for (const auto& loop : s.streamSeries) {
      if (family < loop->parts.size()) e.append(loop->parts[family]);
    }
    ++family;
  }
  e.append(s.queryMetrics);
  e.append(s.alertMetrics);
  return e.take();
}

}  // namespace aclkd::daemon
