#pragma once

#include <string>

namespace aclkd {

// Sets the process-wide spdlog logger: stderr, plus `file` when not empty. `level` is one of
// trace, debug, info, warning, error, critical. Returns an error text, empty on success.
std::string setupLogging(const std::string& level, const std::string& file);

// Changes the level at run time (hot reload).
void setLogLevel(const std::string& level);

// Reopens the log file under its configured name (SIGUSR1, after logrotate moved it away).
// Returns an error text, empty on success or when no file is configured.
std::string reopenLogFile();

}  // namespace aclkd
