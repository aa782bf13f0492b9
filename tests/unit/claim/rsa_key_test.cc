#include "claim/rsa_key.h"

#include <cstdio>
#include <gtest/gtest.h>

namespace aclkd::claim {
namespace {

// Output of a shell command, or "" when it failed (the openssl CLI makes keys in formats that
// RsaKey itself never writes).
std::string runCommand(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return out;
  }
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) {
    out.append(buf, n);
  }
  return ::pclose(pipe) == 0 ? out : std::string();
}

bool startsWith(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

// Key generation costs tens of milliseconds; one key serves every test that only reads it.
const RsaKey& sharedKey() {
  static const RsaKey key = RsaKey::generate();
  return key;
}

TEST(RsaKeyTest, GenerateIs2048Bits) {
  EXPECT_EQ(sharedKey().bits(), 2048);
}

TEST(RsaKeyTest, PemForms) {
  const std::string priv = sharedKey().privatePem();
  const std::string pub = sharedKey().publicPem();
  EXPECT_TRUE(startsWith(priv, "-----BEGIN PRIVATE KEY-----\n")) << priv.substr(0, 40);
  EXPECT_TRUE(startsWith(pub, "-----BEGIN PUBLIC KEY-----\n")) << pub.substr(0, 40);
  EXPECT_NE(priv.find("-----END PRIVATE KEY-----\n"), std::string::npos);
  EXPECT_NE(pub.find("-----END PUBLIC KEY-----\n"), std::string::npos);
}

TEST(RsaKeyTest, TwoGeneratedKeysDiffer) {
  EXPECT_NE(RsaKey::generate().publicPem(), sharedKey().publicPem());
}

TEST(RsaKeyTest, PrivatePemRoundTrip) {
  std::string error;
  const auto loaded = RsaKey::fromPrivatePem(sharedKey().privatePem(), &error);
  ASSERT_TRUE(loaded.has_value()) << error;
  EXPECT_EQ(loaded->bits(), 2048);
  EXPECT_EQ(loaded->privatePem(), sharedKey().privatePem());
  EXPECT_EQ(loaded->publicPem(), sharedKey().publicPem());
}

TEST(RsaKeyTest, LoadsTraditionalPem) {
  const std::string pem = runCommand("openssl genrsa -traditional 2048 2>/dev/null");
  if (pem.empty()) {
    GTEST_SKIP() << "the openssl command is not available";
  }
  ASSERT_TRUE(startsWith(pem, "-----BEGIN RSA PRIVATE KEY-----")) << pem.substr(0, 40);
  std::string error;
  const auto key = RsaKey::fromPrivatePem(pem, &error);
  ASSERT_TRUE(key.has_value()) << error;
  EXPECT_EQ(key->bits(), 2048);
  // Written back in the agent's current form.
  EXPECT_TRUE(startsWith(key->privatePem(), "-----BEGIN PRIVATE KEY-----"));
}

TEST(RsaKeyTest, LoadsPkcs8PemFromOpenssl) {
  const std::string pem =
      runCommand("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null");
  if (pem.empty()) {
    GTEST_SKIP() << "the openssl command is not available";
  }
  ASSERT_TRUE(startsWith(pem, "-----BEGIN PRIVATE KEY-----")) << pem.substr(0, 40);
  std::string error;
  const auto key = RsaKey::fromPrivatePem(pem, &error);
  ASSERT_TRUE(key.has_value()) << error;
  EXPECT_EQ(key->bits(), 2048);
}

TEST(RsaKeyTest, RejectsGarbage) {
  for (const std::string& garbage :
       {std::string(), std::string("hello"), std::string("-----BEGIN PRIVATE KEY-----\nAAAA\n"
                                                         "-----END PRIVATE KEY-----\n"),
        sharedKey().publicPem(), std::string(3000, '\xff')}) {
    std::string error;
    EXPECT_FALSE(RsaKey::fromPrivatePem(garbage, &error).has_value());
    EXPECT_NE(error, "");
    EXPECT_NE(error.find("not a PEM private key"), std::string::npos) << error;
  }
}

TEST(RsaKeyTest, RejectsTruncatedPem) {
  const std::string pem = sharedKey().privatePem();
  std::string error;
  EXPECT_FALSE(RsaKey::fromPrivatePem(pem.substr(0, pem.size() / 2), &error).has_value());
  EXPECT_NE(error, "");
}

TEST(RsaKeyTest, RejectsEcKey) {
  const std::string pem =
      runCommand("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null");
  if (pem.empty()) {
    GTEST_SKIP() << "the openssl command is not available";
  }
  std::string error;
  EXPECT_FALSE(RsaKey::fromPrivatePem(pem, &error).has_value());
  EXPECT_EQ(error, "the private key is not an RSA key");
}

TEST(RsaKeyTest, ErrorPointerIsOptional) {
  EXPECT_FALSE(RsaKey::fromPrivatePem("junk", nullptr).has_value());
}

TEST(RsaKeyTest, EncryptDecryptRoundTrip) {
  // The cloud's OTP challenge: 32 random-looking bytes, including NULs.
  const std::string challenge("\x00\x01secret challenge\xfe\xff\x00tail-of-32-bytes", 37);
  std::string error;
  const auto cipher =
      RsaKey::encryptOaepSha1ForPublicPem(sharedKey().publicPem(), challenge, &error);
  ASSERT_TRUE(cipher.has_value()) << error;
  EXPECT_EQ(cipher->size(), 256u);  // 2048-bit modulus
  const auto plain = sharedKey().decryptOaepSha1(*cipher, &error);
  ASSERT_TRUE(plain.has_value()) << error;
  EXPECT_EQ(*plain, challenge);
}

TEST(RsaKeyTest, EncryptIsRandomised) {
  const auto a = RsaKey::encryptOaepSha1ForPublicPem(sharedKey().publicPem(), "x", nullptr);
  const auto b = RsaKey::encryptOaepSha1ForPublicPem(sharedKey().publicPem(), "x", nullptr);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
}

TEST(RsaKeyTest, EncryptWithBadPublicPemFails) {
  std::string error;
  EXPECT_FALSE(RsaKey::encryptOaepSha1ForPublicPem("not a key", "x", &error).has_value());
  EXPECT_NE(error.find("not a PEM public key"), std::string::npos) << error;
}

TEST(RsaKeyTest, EncryptTooLongPlainFails) {
  // OAEP-SHA1 with a 256-byte modulus fits at most 214 bytes.
  std::string error;
  EXPECT_FALSE(RsaKey::encryptOaepSha1ForPublicPem(sharedKey().publicPem(), std::string(215, 'a'),
                                                   &error)
                   .has_value());
  EXPECT_NE(error, "");
}

TEST(RsaKeyTest, DecryptGarbageFailsWithError) {
  for (const std::string& garbage :
       {std::string(), std::string("short"), std::string(256, '\x5a'), std::string(300, '\x01')}) {
    std::string error;
    EXPECT_FALSE(sharedKey().decryptOaepSha1(garbage, &error).has_value()) << garbage.size();
    EXPECT_NE(error, "") << garbage.size();
  }
}

TEST(RsaKeyTest, DecryptWithOtherKeyFails) {
  const auto cipher = RsaKey::encryptOaepSha1ForPublicPem(RsaKey::generate().publicPem(),
                                                          "challenge", nullptr);
  ASSERT_TRUE(cipher.has_value());
  std::string error;
  EXPECT_FALSE(sharedKey().decryptOaepSha1(*cipher, &error).has_value());
  EXPECT_NE(error, "");
}

TEST(RsaKeyTest, CopiesShareTheKey) {
  const RsaKey copy = sharedKey();
  EXPECT_EQ(copy.publicPem(), sharedKey().publicPem());
}

}  // namespace
}  // namespace aclkd::claim
