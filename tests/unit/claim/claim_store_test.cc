#include "claim/claim_store.h"

#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/stat.h>

#include "common/ini_file.h"
#include "unit/test_util.h"

namespace aclkd::claim {
namespace {

namespace fs = std::filesystem;

constexpr const char* kClaimedId = "0f3c9a52-7d1e-4b8a-9c2e-5a6b7c8d9e0f";
constexpr const char* kSecondId = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
constexpr const char* kMachineGuid = "11111111-2222-4333-8444-555555555555";

// Generation costs tens of milliseconds: two keys serve every test.
const RsaKey& firstKey() {
  static const RsaKey key = RsaKey::generate();
  return key;
}
const RsaKey& secondKey() {
  static const RsaKey key = RsaKey::generate();
  return key;
}

Identity identityOf(const RsaKey& key, const std::string& claimedId) {
  Identity id;
  id.claimedId = claimedId;
  id.privatePem = key.privatePem();
  id.publicPem = key.publicPem();
  id.url = "https://app.netdata.cloud";
  id.proxy = "env";
  id.token = "tok";
  id.rooms = {"r1", "r2"};
  id.insecure = false;
  id.machineGuid = kMachineGuid;
  id.hostname = "gw1";
  return id;
}

ino_t inodeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// Whether this file system can swap two folders in one step (ext4, xfs, tmpfs, btrfs can).
bool exchangeSupported(const std::string& scratch) {
  const std::string a = scratch + "/xa", b = scratch + "/xb";
  fs::create_directory(a);
  fs::create_directory(b);
  const bool ok = ::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0;
  fs::remove_all(a);
  fs::remove_all(b);
  return ok;
}

class ClaimStoreTest : public testing::Test {
 protected:
  test::TempDir state_;
  ClaimStore store_{state_.path()};
  std::string error_;  // why a commit() failed
};

TEST_F(ClaimStoreTest, Paths) {
  EXPECT_EQ(store_.dir(), state_.path() + "/cloud.d");
  EXPECT_EQ(store_.path("private.pem"), state_.path() + "/cloud.d/private.pem");
}

TEST_F(ClaimStoreTest, LoadOnEmptyStateIsUnclaimed) {
  const StoredClaim s = store_.load();
  EXPECT_FALSE(s.claimedId.has_value());
  EXPECT_EQ(s.keyState, KeyState::kMissing);
  EXPECT_FALSE(s.key.has_value());
  EXPECT_NE(s.keyError.find(store_.path("private.pem")), std::string::npos) << s.keyError;
  EXPECT_EQ(s.url, "");
  EXPECT_EQ(s.proxy, "");
  EXPECT_FALSE(s.insecure);
  EXPECT_TRUE(s.warnings.empty());
}

TEST_F(ClaimStoreTest, CommitWritesEveryFile) {
  const Identity id = identityOf(firstKey(), kClaimedId);
  ASSERT_TRUE(store_.commit(id, &error_)) << error_;

  EXPECT_EQ(test::readText(store_.path("private.pem")), id.privatePem);
  EXPECT_EQ(test::modeOf(store_.path("private.pem")), 0600);
  EXPECT_EQ(test::readText(store_.path("public.pem")), id.publicPem);
  EXPECT_EQ(test::readText(store_.path("claimed_id")), kClaimedId);  // no trailing newline
  EXPECT_EQ(test::modeOf(store_.path("cloud.conf")), 0600);

  const IniDocument conf = parseIni(test::readText(store_.path("cloud.conf")), "cloud.conf");
  EXPECT_TRUE(conf.errors.empty());
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"url", "https://app.netdata.cloud"}, {"proxy", "env"}, {"token", "tok"},
      {"rooms", "r1,r2"}, {"insecure", "no"}, {"machine_guid", kMachineGuid},
      {"claimed_id", kClaimedId}, {"hostname", "gw1"}};
  ASSERT_EQ(conf.entries.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(conf.entries[i].section, "global");
    EXPECT_EQ(conf.entries[i].key, expected[i].first);
    EXPECT_EQ(conf.entries[i].value, expected[i].second) << expected[i].first;
  }
  // Nothing of the commit's machinery is left behind.
  EXPECT_FALSE(fs::exists(store_.dir() + ".new"));
  for (const auto& entry : fs::directory_iterator(store_.dir())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos)
        << entry.path();
  }
}

TEST_F(ClaimStoreTest, CommitCreatesMissingStateDir) {
  test::TempDir root;
  ClaimStore nested(root.file("a/b"));
  ASSERT_TRUE(nested.commit(identityOf(firstKey(), kClaimedId), &error_)) << error_;
  EXPECT_EQ(nested.load().claimedId, kClaimedId);
}

TEST_F(ClaimStoreTest, InsecureIsWrittenAndRead) {
  Identity id = identityOf(firstKey(), kClaimedId);
  id.insecure = true;
  id.proxy = "none";
  id.url = "https://cloud.example:8443";
  ASSERT_TRUE(store_.commit(id, &error_)) << error_;
  const StoredClaim s = store_.load();
  EXPECT_TRUE(s.insecure);
  EXPECT_EQ(s.proxy, "none");
  EXPECT_EQ(s.url, "https://cloud.example:8443");
}

TEST_F(ClaimStoreTest, LoadAfterCommitIsClaimed) {
  ASSERT_TRUE(store_.commit(identityOf(firstKey(), kClaimedId), &error_)) << error_;
  const StoredClaim s = store_.load();
  ASSERT_TRUE(s.claimedId.has_value());
  EXPECT_EQ(*s.claimedId, kClaimedId);
  EXPECT_EQ(s.keyState, KeyState::kLoaded);
  ASSERT_TRUE(s.key.has_value());
  EXPECT_EQ(s.key->publicPem(), firstKey().publicPem());
  EXPECT_EQ(s.url, "https://app.netdata.cloud");
  EXPECT_EQ(s.proxy, "env");
  EXPECT_FALSE(s.insecure);
  EXPECT_TRUE(s.warnings.empty());
}

TEST_F(ClaimStoreTest, SecondCommitReplacesIdentity) {
  ASSERT_TRUE(store_.commit(identityOf(firstKey(), kClaimedId), &error_)) << error_;
  test::writeText(store_.path("token"), "split-token");
  test::writeText(store_.path("rooms"), "r9");
  test::writeText(store_.path("trusted.pem"), "CA BUNDLE\n");
  const ino_t before = inodeOf(store_.dir());

  ASSERT_TRUE(store_.commit(identityOf(secondKey(), kSecondId), &error_)) << error_;

  if (exchangeSupported(state_.path())) {
    // The whole folder was swapped in one step, not rewritten file by file.
    EXPECT_NE(inodeOf(store_.dir()), before);
  }
  const StoredClaim s = store_.load();
  EXPECT_EQ(s.claimedId, kSecondId);
  ASSERT_TRUE(s.key.has_value());
  EXPECT_EQ(s.key->publicPem(), secondKey().publicPem());
  EXPECT_EQ(test::readText(store_.path("public.pem")), secondKey().publicPem());
  EXPECT_EQ(test::readText(store_.path("claimed_id")), kSecondId);
  EXPECT_EQ(test::modeOf(store_.path("private.pem")), 0600);
  EXPECT_EQ(test::modeOf(store_.path("cloud.conf")), 0600);
  // The split files were consumed by the claim; the CA bundle belongs to the user.
  EXPECT_FALSE(fs::exists(store_.path("token")));
  EXPECT_FALSE(fs::exists(store_.path("rooms")));
  ASSERT_TRUE(fs::exists(store_.path("trusted.pem")));
  EXPECT_EQ(test::readText(store_.path("trusted.pem")), "CA BUNDLE\n");
  // The previous generation is gone.
  EXPECT_FALSE(fs::exists(store_.dir() + ".new"));
  EXPECT_FALSE(fs::exists(store_.dir() + ".old"));
}

TEST_F(ClaimStoreTest, LegacyFullchainIsCarriedOver) {
  ASSERT_TRUE(store_.commit(identityOf(firstKey(), kClaimedId), &error_)) << error_;
  test::writeText(store_.path("cloud_fullchain.pem"), "LEGACY CA\n");
  ASSERT_TRUE(store_.commit(identityOf(secondKey(), kSecondId), &error_)) << error_;
  EXPECT_EQ(test::readText(store_.path("cloud_fullchain.pem")), "LEGACY CA\n");
  EXPECT_EQ(store_.trustedCaFile(), store_.path("cloud_fullchain.pem"));
}

TEST_F(ClaimStoreTest, FirstCommitRemovesSplitFilesToo) {
  // Split-file claiming: the user created cloud.d with only token and rooms.
  fs::create_directories(store_.dir());
  test::writeText(store_.path("token"), "tok");
  test::writeText(store_.path("rooms"), "r1");
  ASSERT_TRUE(store_.commit(identityOf(firstKey(), kClaimedId), &error_)) << error_;
  EXPECT_FALSE(fs::exists(store_.path("token")));
  EXPECT_FALSE(fs::exists(store_.path("rooms")));
  EXPECT_EQ(store_.load().claimedId, kClaimedId);
}

TEST_F(ClaimStoreTest, CorruptPrivateKey) {
  ASSERT_TRUE(store_.commit(identityOf(firstKey(), kClaimedId), &error_)) << error_;
  test::writeText(store_.path("private.pem"), "-----BEGIN PRIVATE KEY-----\ngarbage\n");
  const StoredClaim s = store_.load();
  EXPECT_EQ(s.claimedId, kClaimedId);
  EXPECT_EQ(s.keyState, KeyState::kCorrupt);
  EXPECT_FALSE(s.key.has_value());
  EXPECT_EQ(s.keyError.rfind(store_.path("private.pem") + ": ", 0), 0u) << s.keyError;
}

TEST_F(ClaimStoreTest, MissingPrivateKeyWhileClaimed) {
  ASSERT_TRUE(store_.commit(identityOf(firstKey(), kClaimedId), &error_)) << error_;
  fs::remove(store_.path("private.pem"));
  const StoredClaim s = store_.load();
  EXPECT_EQ(s.claimedId, kClaimedId);
  EXPECT_EQ(s.keyState, KeyState::kMissing);
  EXPECT_NE(s.keyError.find(store_.path("private.pem")), std::string::npos);
}

TEST_F(ClaimStoreTest, ClaimedIdFileFallback) {
  fs::create_directories(store_.dir());
  test::writeText(store_.path("cloud.conf"), "[global]\n\turl = https://u\n");
  test::writeText(store_.path("claimed_id"), std::string(kClaimedId) + "\n");
  const StoredClaim s = store_.load();
  EXPECT_EQ(s.claimedId, kClaimedId);
  EXPECT_EQ(s.url, "https://u");
}

TEST_F(ClaimStoreTest, ClaimedIdFileWithoutCloudConf) {
  fs::create_directories(store_.dir());
  test::writeText(store_.path("claimed_id"), kClaimedId);
  EXPECT_EQ(store_.load().claimedId, kClaimedId);
}

TEST_F(ClaimStoreTest, CloudConfWinsOverClaimedIdFile) {
  fs::create_directories(store_.dir());
  test::writeText(store_.path("cloud.conf"),
                  std::string("[global]\n\tclaimed_id = ") + kSecondId + "\n");
  test::writeText(store_.path("claimed_id"), kClaimedId);
  EXPECT_EQ(store_.load().claimedId, kSecondId);
}

// A broken identity is never replaced silently: the store names the files and what to do, and
// the manager refuses to claim again by itself (claim_manager does not re-claim on it).
TEST_F(ClaimStoreTest, NonUuidClaimedIdsAreACorruptIdentity) {
  fs::create_directories(store_.dir());
  test::writeText(store_.path("cloud.conf"), "[global]\n\tclaimed_id = nope\n");
  test::writeText(store_.path("claimed_id"), "also-nope");
  const StoredClaim s = store_.load();
  EXPECT_FALSE(s.claimedId.has_value());
  const auto& c = s.corruptIdentity;
  EXPECT_NE(c.find(store_.path("cloud.conf") + ": claimed_id 'nope' is not a UUID"),
            std::string::npos) << c;
  EXPECT_NE(c.find(store_.path("claimed_id") + ": content is not a UUID"), std::string::npos);
  EXPECT_NE(c.find("aclkctl reload-claiming-state"), std::string::npos) << c;
  EXPECT_NE(c.find("aclkctl claim"), std::string::npos) << c;
}

TEST_F(ClaimStoreTest, AValidIdInTheOtherSourceIsNotCorrupt) {
  fs::create_directories(store_.dir());
  test::writeText(store_.path("cloud.conf"), "[global]\n\tclaimed_id = nope\n");
  test::writeText(store_.path("claimed_id"), kClaimedId);
  const StoredClaim s = store_.load();
  EXPECT_EQ(s.claimedId, kClaimedId);
  EXPECT_EQ(s.corruptIdentity, "");
}

TEST_F(ClaimStoreTest, PrivateKeyReadableByOthersIsAWarning) {
  fs::create_directories(store_.dir());
  test::writeText(store_.path("private.pem"), RsaKey::generate().privatePem());
  ::chmod(store_.path("private.pem").c_str(), 0644);
  StoredClaim s = store_.load();
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("permissions 0644 for '" + store_.path("private.pem") +
                               "' are too open"),
            std::string::npos) << s.warnings[0];
  ::chmod(store_.path("private.pem").c_str(), 0600);
  EXPECT_TRUE(store_.load().warnings.empty());
}

TEST_F(ClaimStoreTest, ShellEraCloudBaseUrl) {
  fs::create_directories(store_.dir());
  test::writeText(store_.path("cloud.conf"),
                  "[global]\n  enabled = yes\n  cloud base url = https://old.example\n");
  EXPECT_EQ(store_.load().url, "https://old.example");
}

TEST_F(ClaimStoreTest, BrokenCloudConfIsAWarning) {
  fs::create_directories(store_.dir());
  test::writeText(store_.path("cloud.conf"),
                  std::string("[global\n[global]\n\tclaimed_id = ") + kClaimedId + "\n");
  const StoredClaim s = store_.load();
  EXPECT_EQ(s.claimedId, kClaimedId);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find(store_.path("cloud.conf") + ":1:"), std::string::npos)
      << s.warnings[0];
}

TEST_F(ClaimStoreTest, CleanupInterrupted) {
  fs::create_directories(store_.dir() + ".new");
  test::writeText(store_.dir() + ".new/private.pem", "half");
  fs::create_directories(store_.dir() + ".old");
  fs::create_directories(store_.dir());
  test::writeText(store_.path("cloud.conf.tmp.123.456"), "partial");
  test::writeText(store_.path("trusted.pem"), "keep");
  store_.cleanupInterrupted();
  EXPECT_FALSE(fs::exists(store_.dir() + ".new"));
  EXPECT_FALSE(fs::exists(store_.dir() + ".old"));
  EXPECT_FALSE(fs::exists(store_.path("cloud.conf.tmp.123.456")));
  EXPECT_TRUE(fs::exists(store_.path("trusted.pem")));
}

TEST_F(ClaimStoreTest, CleanupOnEmptyStateIsHarmless) {
  store_.cleanupInterrupted();
  EXPECT_FALSE(fs::exists(store_.dir()));
}

TEST_F(ClaimStoreTest, CommitAfterInterruptedCommit) {
  fs::create_directories(store_.dir() + ".new");
  test::writeText(store_.dir() + ".new/claimed_id", "stale");
  ASSERT_TRUE(store_.commit(identityOf(firstKey(), kClaimedId), &error_)) << error_;
  EXPECT_EQ(store_.load().claimedId, kClaimedId);
  EXPECT_FALSE(fs::exists(store_.dir() + ".new"));
}

TEST_F(ClaimStoreTest, KeyForClaimReusesExistingPair) {
  ASSERT_TRUE(store_.commit(identityOf(firstKey(), kClaimedId), &error_)) << error_;
  bool generated = true;
  const RsaKey key = store_.keyForClaim(&generated);
  EXPECT_FALSE(generated);
  EXPECT_EQ(key.publicPem(), firstKey().publicPem());
}

TEST_F(ClaimStoreTest, KeyForClaimGeneratesWithoutPublicPem) {
  ASSERT_TRUE(store_.commit(identityOf(firstKey(), kClaimedId), &error_)) << error_;
  fs::remove(store_.path("public.pem"));
  bool generated = false;
  const RsaKey key = store_.keyForClaim(&generated);
  EXPECT_TRUE(generated);
  EXPECT_NE(key.publicPem(), firstKey().publicPem());
  EXPECT_EQ(key.bits(), 2048);
  // Nothing is written before the claim succeeds.
  EXPECT_EQ(test::readText(store_.path("private.pem")), firstKey().privatePem());
}

TEST_F(ClaimStoreTest, KeyForClaimGeneratesOnEmptyState) {
  bool generated = false;
  store_.keyForClaim(&generated);
  EXPECT_TRUE(generated);
  EXPECT_FALSE(fs::exists(store_.dir()));
}

TEST_F(ClaimStoreTest, KeyForClaimGeneratesWhenPrivateKeyIsCorrupt) {
  ASSERT_TRUE(store_.commit(identityOf(firstKey(), kClaimedId), &error_)) << error_;
  test::writeText(store_.path("private.pem"), "garbage");
  bool generated = false;
  store_.keyForClaim(&generated);
  EXPECT_TRUE(generated);
}

TEST_F(ClaimStoreTest, TrustedCaFilePreference) {
  EXPECT_EQ(store_.trustedCaFile(), "");
  fs::create_directories(store_.dir());
  test::writeText(store_.path("cloud_fullchain.pem"), "b");
  EXPECT_EQ(store_.trustedCaFile(), store_.path("cloud_fullchain.pem"));
  test::writeText(store_.path("trusted.pem"), "a");
  EXPECT_EQ(store_.trustedCaFile(), store_.path("trusted.pem"));
}

}  // namespace
}  // namespace aclkd::claim
