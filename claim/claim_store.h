#pragma once

#include <optional>
#include <string>
#include <vector>

#include "claim/rsa_key.h"

namespace aclkd::claim {

// What a successful claim leaves behind; everything in cloud.d that belongs together.
struct Identity {
  std::string claimedId;
  std::string privatePem;
  std::string publicPem;
  std::string url;
  std::string proxy;
  std::string token;
  std::vector<std::string> rooms;
  bool insecure = false;
  std::string machineGuid;
  std::string hostname;
};

enum class KeyState { kMissing, kCorrupt, kLoaded };

// cloud.d as the daemon finds it at start or at reload-claiming-state.
struct StoredClaim {
  std::optional<std::string> claimedId;  // cloud.conf first, then the claimed_id file
  std::string url;                       // cloud.conf [global] url (empty if absent)
  std::string proxy;                     // cloud.conf [global] proxy (empty if absent)
  bool insecure = false;
  KeyState keyState = KeyState::kMissing;
  std::string keyError;          // why the key is missing or corrupt (no key material)
  std::optional<RsaKey> key;     // when kLoaded
  std::vector<std::string> warnings;
  // A claimed_id is present (cloud.conf or the claimed_id file) but unusable: what is wrong and
  // what to do. The gateway then never re-claims by itself (a new identity would silently
  // replace the old one); "" when there is no such problem.
  std::string corruptIdentity;
};

// Owns STATE/cloud.d. A claim writes a whole new generation of the folder (cloud.d.new), fsyncs
// it, then swaps it in with one renameat2(RENAME_EXCHANGE), so a kill -9 at any moment leaves the
// old identity or the new one, never a mix of files from both. Where the exchange is not possible
// (cloud.d is itself a mount point, or the file system lacks it) each file is replaced atomically
// in dependency order instead: keys, then claimed_id, then cloud.conf, which is what the loader
// reads first.
class ClaimStore {
 public:
  explicit ClaimStore(std::string stateDir);

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  StoredClaim load() const;

  // The key pair to claim with: the existing one when public.pem exists and private.pem loads
  // (Netdata's rule), else a new pair. Nothing is written here; commit() writes it.
  RsaKey keyForClaim(bool* generated) const;

  // The CA bundle for claim requests (cloud.d/trusted.pem or cloud_fullchain.pem), or "".
  std::string trustedCaFile() const;

  // Installs `identity` as the new cloud.d; false with *error when it could not. The split
  // files `token` and `rooms` do not survive (they are consumed by a successful claim); any other
  // file the user placed there (trusted.pem) is carried over.
  bool commit(const Identity& identity, std::string* error) const;

  // Removes leftovers of a commit interrupted by a crash.
  void cleanupInterrupted() const;

 private:
  std::string stateDir_;
  std::string dir_;
};

}  // namespace aclkd::claim
