#include "claim/claim_store.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <filesystem>
#include <unistd.h>

#include "common/fail_with.h"
#include "common/file_util.h"
#include "common/ini_file.h"
#include "common/config_table.h"
#include "common/untrusted_text.h"
#include "common/uuid.h"

namespace aclkd::claim {
namespace {

namespace fs = std::filesystem;

std::string joinRooms(const std::vector<std::string>& rooms) {
  std::string out;
  for (const auto& r : rooms) {
    out += (out.empty() ? "" : ",") + r;
  }
  return out;
}

std::string trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.pop_back();
  }
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) {
    ++i;
  }
  return s.substr(i);
}

std::string cloudConfText(const Identity& id) {
  return renderIni({IniSection{"global",
                               {{"url", id.url},
                                {"proxy", id.proxy},
                                {"token", id.token},
                                {"rooms", joinRooms(id.rooms)},
                                {"insecure", id.insecure ? "yes" : "no"},
                                {"machine_guid", id.machineGuid},
                                {"claimed_id", id.claimedId},
                                {"hostname", id.hostname}}}});
}

// The files of one generation, in the order the per-file fallback writes them.
struct FileSpec {
  const char* name;
  std::string data;
  mode_t mode;
};

std::vector<FileSpec> filesOf(const Identity& id) {
  return {{"private.pem", id.privatePem, 0600},
          {"public.pem", id.publicPem, 0644},
          {"claimed_id", id.claimedId, 0644},
          {"cloud.conf", cloudConfText(id), 0600}};
}

}  // namespace

ClaimStore::ClaimStore(std::string stateDir)
    : stateDir_(std::move(stateDir)), dir_(stateDir_ + "/cloud.d") {}

StoredClaim ClaimStore::load() const {
  StoredClaim out;
  if (auto doc = readIniFile(path("cloud.conf"))) {
    for (const auto& e : doc->errors) {
      out.warnings.push_back("CLAIM: cannot load cloud config '" + path("cloud.conf") +
                             "'. Running with internal defaults. (" + e + ")");
    }
    auto get = [&](const char* key) -> std::string {
      const IniEntry* e = doc->find("global", key);
      return e ? e->value : std::string();
    };
    out.url = get("url");
    if (out.url.empty()) {
      out.url = get("cloud base url");  // shell-claiming era name
    }
    out.proxy = get("proxy");
    out.insecure = parseBool(get("insecure")).value_or(false);
    const std::string id = get("claimed_id");
    if (!id.empty()) {
      if (isUuid(id)) {
        out.claimedId = id;
      } else {
        out.corruptIdentity = path("cloud.conf") + ": claimed_id '" + escapeUntrusted(id) +
                              "' is not a UUID";
      }
    }
  }
  if (!out.claimedId) {
    std::string error;
    if (auto text = readFile(path("claimed_id"), &error)) {
      const std::string id = trimmed(*text);
      if (isUuid(id)) {
        out.claimedId = id;
      } else if (!id.empty()) {
        out.corruptIdentity += (out.corruptIdentity.empty() ? "" : "; ") + path("claimed_id") +
                               ": content is not a UUID";
      }
    }
  }
  if (out.claimedId) {
    out.corruptIdentity.clear();  // the other source holds a valid one
  } else if (!out.corruptIdentity.empty()) {
    out.corruptIdentity +=
        "; the gateway will not claim itself again with a new identity. Fix the file and run "
        "`aclkctl reload-claiming-state`, or claim again explicitly with `aclkctl claim "
        "--token=...` (a new claimed_id)";
  }
  // As ssh does: a private key others can read is a key others may have copied.
  struct stat st {};
  if (::stat(path("private.pem").c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    out.warnings.push_back("CLAIM: permissions " + std::string(mode) + " for '" +
                           path("private.pem") +
                           "' are too open: the private key must not be accessible by others "
                           "(chmod 600 it)");
  }
  std::string error;
  const auto pem = readFile(path("private.pem"), &error);
  if (!pem) {
    out.keyState = KeyState::kMissing;
    out.keyError = path("private.pem") + ": " + (error.empty() ? "no such file" : error);
  } else if (auto key = RsaKey::fromPrivatePem(*pem, &error)) {
    out.keyState = KeyState::kLoaded;
    out.key = std::move(key);
  } else {
    out.keyState = KeyState::kCorrupt;
    out.keyError = path("private.pem") + ": " + error;
  }
  return out;
}

RsaKey ClaimStore::keyForClaim(bool* generated) const {
  *generated = false;
  if (::access(path("public.pem").c_str(), F_OK) == 0) {
    if (auto pem = readFile(path("private.pem"))) {
      if (auto key = RsaKey::fromPrivatePem(*pem, nullptr)) {
        return *key;
      }
    }
  }
  *generated = true;
  return RsaKey::generate();
}

std::string ClaimStore::trustedCaFile() const {
  for (const char* name : {"trusted.pem", "cloud_fullchain.pem"}) {
    if (::access(path(name).c_str(), R_OK) == 0) {
      return path(name);
    }
  }
  return "";
}

void ClaimStore::cleanupInterrupted() const {
  std::error_code ec;
  fs::remove_all(dir_ + ".new", ec);
  fs::remove_all(dir_ + ".old", ec);
  if (fs::is_directory(dir_, ec)) {
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
      if (entry.path().filename().string().find(".tmp.") != std::string::npos) {
        fs::remove(entry.path(), ec);
      }
    }
  }
}

bool ClaimStore::commit(const Identity& identity, std::string* error) const {
  if (!makeDirs(stateDir_, 0755, error)) {
    return false;
  }
  cleanupInterrupted();
  const std::string fresh = dir_ + ".new";
  if (!makeDirs(fresh, 0700, error)) {
    return false;
  }
  for (const auto& f : filesOf(identity)) {
    if (!writeFileAtomic(fresh + "/" + f.name, f.data, f.mode, error)) {
      return false;
    }
  }
  std::error_code ec;
  for (const char* carried : {"trusted.pem", "cloud_fullchain.pem"}) {
    if (fs::exists(path(carried), ec)) {
      if (auto data = readFile(path(carried))) {
        if (!writeFileAtomic(fresh + "/" + carried, *data, 0644, error)) {
          return false;
        }
      }
    }
  }
  if (!fs::exists(dir_, ec)) {
    if (::rename(fresh.c_str(), dir_.c_str()) != 0) {
      return failWith(error,
                      "cannot rename " + fresh + " to " + dir_ + ": " + std::strerror(errno));
    }
    return syncDir(stateDir_, error);
  }
  if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, dir_.c_str(), RENAME_EXCHANGE) == 0) {
    if (!syncDir(stateDir_, error)) {
      return false;
    }
    fs::remove_all(fresh, ec);  // now holds the previous generation
    return true;
  }
  // Fallback: replace file by file. Each file is atomic; the order makes every intermediate state
  // load as either the old claim or the new one (cloud.conf, read first, goes last).
  fs::remove_all(fresh, ec);
  for (const auto& f : filesOf(identity)) {
    if (!writeFileAtomic(path(f.name), f.data, f.mode, error)) {
      return false;
    }
  }
  // The claim is in place; a token or rooms file left behind is consumed input, harmless.
  removeFileDurable(path("token"), nullptr);
  removeFileDurable(path("rooms"), nullptr);
  return true;
}

}  // namespace aclkd::claim
