#include "common/uuid.h"

#include <gtest/gtest.h>
#include <set>

namespace aclkd {
namespace {

TEST(UuidTest, FormatIsLowercase8_4_4_4_12) {
  const std::string id = newUuid();
  ASSERT_EQ(id.size(), 36u);
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      EXPECT_EQ(id[i], '-') << id;
    } else {
      EXPECT_TRUE((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')) << id;
    }
  }
  EXPECT_TRUE(isUuid(id));
}

TEST(UuidTest, VersionAndVariantNibbles) {
  for (int i = 0; i < 200; ++i) {
    const std::string id = newUuid();
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
  }
}

TEST(UuidTest, Unique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    seen.insert(newUuid());
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(UuidTest, IsUuidTable) {
  struct Case {
    std::string text;
    bool valid;
  };
  const std::vector<Case> cases = {
      {"0f3c9a52-7d1e-4b8a-9c2e-5a6b7c8d9e0f", true},
      {"0F3C9A52-7D1E-4B8A-9C2E-5A6B7C8D9E0F", true},
      {"00000000-0000-0000-0000-000000000000", true},
      {"", false},
      {"0f3c9a52-7d1e-4b8a-9c2e-5a6b7c8d9e0", false},     // 35 chars
      {"0f3c9a52-7d1e-4b8a-9c2e-5a6b7c8d9e0f0", false},   // 37 chars
      {"0f3c9a52a7d1e-4b8a-9c2e-5a6b7c8d9e0f", false},    // dash moved
      {"0f3c9a527d1e4b8a9c2e5a6b7c8d9e0f", false},        // no dashes
      {"0f3c9a52-7d1e-4b8a-9c2e-5a6b7c8d9e0g", false},    // g
      {"{f3c9a52-7d1e-4b8a-9c2e-5a6b7c8d9e0f", false},    // brace
      {" 0f3c9a52-7d1e-4b8a-9c2e-5a6b7c8d9e0", false},    // leading space
      {"0f3c9a52-7d1e-4b8a-9c2e-5a6b7c8d9e0\n", false},   // trailing newline
      {"0f3c9a52_7d1e_4b8a_9c2e_5a6b7c8d9e0f", false},    // underscores
  };
  for (const auto& c : cases) {
    EXPECT_EQ(isUuid(c.text), c.valid) << "'" << c.text << "'";
  }
}

}  // namespace
}  // namespace aclkd
