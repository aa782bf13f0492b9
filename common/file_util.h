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
// rename itself is durable. False with *error (what failed and why) on failure.
bool writeFileAtomic(const std::string& path, const std::string& data, mode_t mode,
                     std::string* error);

// Removes `path` and fsyncs its folder; a missing file is not an error.
bool removeFileDurable(const std::string& path, std::string* error);

// fsyncs the folder `dir`, so that a rename or an unlink in it survives a crash.
bool syncDir(const std::string& dir, std::string* error);

// mkdir -p with `mode` for the folders it creates.
bool makeDirs(const std::string& path, mode_t mode, std::string* error);

}  // namespace aclkd
