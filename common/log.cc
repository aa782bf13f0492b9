#include "common/log.h"

#include <spdlog/details/file_helper.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

#include "common/fail_with.h"

namespace aclkd {
namespace {

// A file sink that can reopen its file by name: logrotate moves the file away and sends
// SIGUSR1, and the next line goes to a fresh file (spdlog's basic_file_sink cannot reopen).
class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ReopenableFileSink(const std::string& path) { file_.open(path, false); }
  void reopen() {
    std::lock_guard lock(mutex_);
    file_.reopen(false);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    file_.write(formatted);
  }
  void flush_() override { file_.flush(); }

 private:
  spdlog::details::file_helper file_;
};

std::shared_ptr<ReopenableFileSink>& fileSink() {
  static std::shared_ptr<ReopenableFileSink> sink;
  return sink;
}

spdlog::level::level_enum toLevel(const std::string& level) {
  if (level == "warning") {
    return spdlog::level::warn;
  }
  return spdlog::level::from_str(level);
}

}  // namespace

bool setupLogging(const std::string& level, const std::string& file, std::string* error) {
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (!file.empty()) {
    try {
      fileSink() = std::make_shared<ReopenableFileSink>(file);
      sinks.push_back(fileSink());
    } catch (const spdlog::spdlog_ex& e) {
      return failWith(error, std::string("cannot open log file: ") + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>("aclkd", sinks.begin(), sinks.end());
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ [%t] %v");
  logger->set_level(toLevel(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return true;
}

void setLogLevel(const std::string& level) { spdlog::set_level(toLevel(level)); }

bool reopenLogFile(std::string* error) {
  if (!fileSink()) return true;
  try {
    fileSink()->reopen();
  } catch (const spdlog::spdlog_ex& e) {
    return failWith(error, std::string("cannot reopen the log file: ") + e.what());
  }
  return true;
}

}  // namespace aclkd
