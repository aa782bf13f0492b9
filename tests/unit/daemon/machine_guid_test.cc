#include "daemon/machine_guid.h"

#include <gtest/gtest.h>

#include "common/uuid.h"
#include "unit/test_util.h"

namespace aclkd::daemon {
namespace {

TEST(MachineGuidTest, CreatedOnceThenReused) {
  test::TempDir state;
  std::string error;
  const std::string first = loadOrCreateMachineGuid(state.path(), &error).value_or("");
  EXPECT_EQ(error, "");
  EXPECT_TRUE(isUuid(first)) << first;
  EXPECT_EQ(test::readText(state.file("machine_guid")), first);
  EXPECT_EQ(test::modeOf(state.file("machine_guid")), 0644);

  const std::string second = loadOrCreateMachineGuid(state.path(), &error).value_or("");
  EXPECT_EQ(second, first);
  EXPECT_EQ(test::readText(state.file("machine_guid")), first);
}

TEST(MachineGuidTest, ExistingGuidWithNewlineIsKept) {
  test::TempDir state;
  const std::string guid = "11111111-2222-4333-8444-555555555555";
  test::writeText(state.file("machine_guid"), guid + "\n");
  std::string error;
  EXPECT_EQ(loadOrCreateMachineGuid(state.path(), &error), guid);
  // Not rewritten.
  EXPECT_EQ(test::readText(state.file("machine_guid")), guid + "\n");
}

TEST(MachineGuidTest, GarbageIsReplaced) {
  for (const std::string garbage : {"not a guid", "", "11111111-2222-4333-8444-55555555555z",
                                    "11111111-2222-4333-8444-555555555555-extra"}) {
    test::TempDir state;
    test::writeText(state.file("machine_guid"), garbage);
    std::string error;
    const std::string guid = loadOrCreateMachineGuid(state.path(), &error).value_or("");
    EXPECT_TRUE(isUuid(guid)) << garbage;
    EXPECT_EQ(test::readText(state.file("machine_guid")), guid) << garbage;
    // And it sticks.
    EXPECT_EQ(loadOrCreateMachineGuid(state.path(), &error), guid);
  }
}

TEST(MachineGuidTest, DifferentStateDirsGetDifferentGuids) {
  test::TempDir a, b;
  std::string error;
  EXPECT_NE(loadOrCreateMachineGuid(a.path(), &error), loadOrCreateMachineGuid(b.path(), &error));
}

TEST(MachineGuidTest, UnwritableStateDirIsAnError) {
  test::TempDir root;
  std::string error;
  EXPECT_EQ(loadOrCreateMachineGuid(root.file("missing"), &error), std::nullopt);
  EXPECT_NE(error.find(root.file("missing")), std::string::npos) << error;
}

}  // namespace
}  // namespace aclkd::daemon
