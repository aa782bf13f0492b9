#include "common/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace aclkd {
namespace {

spdlog::level::level_enum toLevel(const std::string& level) {
  if (level == "warning") {
    return spdlog::level::warn;
  }
  return spdlog::level::from_str(level);
}

}  // namespace

std::string setupLogging(const std::string& level, const std::string& file) {
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (!file.empty()) {
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, false));
    } catch (const spdlog::spdlog_ex& e) {
      return std::string("cannot open log file: ") + e.what();
    }
  }
  auto logger = std::make_shared<spdlog::logger>("aclkd", sinks.begin(), sinks.end());
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ [%t] %v");
  logger->set_level(toLevel(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return "";
}

void setLogLevel(const std::string& level) { spdlog::set_level(toLevel(level)); }

}  // namespace aclkd
