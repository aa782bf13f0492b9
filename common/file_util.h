#pragma once

#include <optional>
#include <string>
#include <sys/types.h>

namespace aclkd {

// Whole-file read. nullopt with an empty `error` when the file does not exist; nullopt with
// `error` set (strerror text) for any other failure.
std::optional<std::string> readFile(const std::string& path, std::string* error = nullptr);

// Writes `data` to `path` so that a crash at any moment leaves either the old file or the new one:
// a temporary file in the same folder, fsync, rename over `path`, then fsync of the folder so the
// rename itself is durable. Returns an empty string on success, else what failed and why.
std::string writeFileAtomic(const std::string& path, const std::string& data, mode_t mode);

// Removes `path` and fsyncs its folder; a missing file is not an error.
std::string removeFileDurable(const std::string& path);

// mkdir -p with `mode` for the folders it creates.
std::string makeDirs(const std::string& path, mode_t mode);

}  // namespace aclkd
