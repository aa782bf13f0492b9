#pragma once

#include <string>

namespace aclkd {

// Sets the process-wide spdlog logger: stderr, plus `file` when not empty. `level` is one of
// trace, debug, info, warning, error, critical. False with *error when the file cannot be opened.
bool setupLogging(const std::string& level, const std::string& file, std::string* error);

// Changes the level at run time (hot reload).
void setLogLevel(const std::string& level);

// Reopens the log file under its configured name (SIGUSR1, after logrotate moved it away).
// True when no file is configured; false with *error when the file cannot be opened again.
bool reopenLogFile(std::string* error);

}  // namespace aclkd
