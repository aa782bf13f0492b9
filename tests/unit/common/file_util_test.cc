#include "common/file_util.h"

#include <filesystem>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "unit/test_util.h"

namespace aclkd {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> listDir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Sets the umask for one test and puts the previous one back.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

TEST(FileUtilTest, WriteAtomicContentAndExactMode) {
  ScopedUmask mask(022);
  test::TempDir dir;
  const std::string path = dir.file("private.pem");
  ASSERT_TRUE(writeFileAtomic(path, "secret\n", 0600, nullptr));
  EXPECT_EQ(test::readText(path), "secret\n");
  EXPECT_EQ(test::modeOf(path), 0600);
}

TEST(FileUtilTest, WriteAtomicModeIsNotReducedByUmask) {
  // open() would give 0644 & ~027 = 0640; the file must still be 0644.
  ScopedUmask mask(027);
  test::TempDir dir;
  const std::string path = dir.file("public.pem");
  ASSERT_TRUE(writeFileAtomic(path, "x", 0644, nullptr));
  EXPECT_EQ(test::modeOf(path), 0644);
}

TEST(FileUtilTest, WriteAtomicReplacesExistingFile) {
  test::TempDir dir;
  const std::string path = dir.file("cloud.conf");
  test::writeText(path, "old content that is longer than the new one\n");
  ::chmod(path.c_str(), 0644);
  ASSERT_TRUE(writeFileAtomic(path, "new", 0600, nullptr));
  EXPECT_EQ(test::readText(path), "new");
  EXPECT_EQ(test::modeOf(path), 0600);
}

TEST(FileUtilTest, WriteAtomicEmptyData) {
  test::TempDir dir;
  ASSERT_TRUE(writeFileAtomic(dir.file("empty"), "", 0644, nullptr));
  EXPECT_EQ(test::readText(dir.file("empty")), "");
}

TEST(FileUtilTest, WriteAtomicBinaryData) {
  test::TempDir dir;
  const std::string data("a\0b\xff\n", 5);
  ASSERT_TRUE(writeFileAtomic(dir.file("bin"), data, 0644, nullptr));
  EXPECT_EQ(test::readText(dir.file("bin")), data);
}

TEST(FileUtilTest, WriteAtomicLeavesNoTempFiles) {
  test::TempDir dir;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(writeFileAtomic(dir.file("a"), "v" + std::to_string(i), 0600, nullptr));
  }
  ASSERT_TRUE(writeFileAtomic(dir.file("b"), "w", 0600, nullptr));
  EXPECT_EQ(listDir(dir.path()), (std::vector<std::string>{"a", "b"}));
}

TEST(FileUtilTest, WriteAtomicFailsClearlyInMissingFolder) {
  test::TempDir dir;
  const std::string path = dir.file("missing/file");
  std::string error;
  ASSERT_FALSE(writeFileAtomic(path, "x", 0600, &error));
  EXPECT_NE(error.find(dir.file("missing/")), std::string::npos) << error;
  EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;
  EXPECT_EQ(listDir(dir.path()), std::vector<std::string>{});
}

TEST(FileUtilTest, ReadFile) {
  test::TempDir dir;
  test::writeText(dir.file("f"), "hello\nworld");
  std::string error = "stale";
  const auto text = readFile(dir.file("f"), &error);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "hello\nworld");
  EXPECT_EQ(error, "");
}

TEST(FileUtilTest, ReadLargeFile) {
  test::TempDir dir;
  std::string big;
  for (int i = 0; i < 100000; ++i) {
    big += std::to_string(i) + ",";
  }
  test::writeText(dir.file("big"), big);
  const auto text = readFile(dir.file("big"));
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, big);
}

TEST(FileUtilTest, ReadMissingFileHasNoError) {
  test::TempDir dir;
  std::string error = "stale";
  EXPECT_FALSE(readFile(dir.file("absent"), &error).has_value());
  EXPECT_EQ(error, "");
  // The error argument is optional.
  EXPECT_FALSE(readFile(dir.file("absent")).has_value());
}

TEST(FileUtilTest, ReadFolderIsAnError) {
  test::TempDir dir;
  std::string error;
  EXPECT_FALSE(readFile(dir.path(), &error).has_value());
  EXPECT_NE(error, "");
}

TEST(FileUtilTest, RemoveFileDurable) {
  test::TempDir dir;
  test::writeText(dir.file("token"), "t");
  EXPECT_TRUE(removeFileDurable(dir.file("token"), nullptr));
  EXPECT_FALSE(fs::exists(dir.file("token")));
}

TEST(FileUtilTest, RemoveMissingFileIsFine) {
  test::TempDir dir;
  EXPECT_TRUE(removeFileDurable(dir.file("absent"), nullptr));
}

TEST(FileUtilTest, RemoveInMissingFolderIsFine) {
  test::TempDir dir;
  EXPECT_TRUE(removeFileDurable(dir.file("no/such/file"), nullptr));
}

TEST(FileUtilTest, MakeDirsCreatesNestedFolders) {
  test::TempDir dir;
  const std::string path = dir.file("a/b/c");
  EXPECT_TRUE(makeDirs(path, 0755, nullptr));
  EXPECT_TRUE(fs::is_directory(path));
  // Existing folders are fine.
  EXPECT_TRUE(makeDirs(path, 0755, nullptr));
  EXPECT_TRUE(makeDirs(dir.path(), 0755, nullptr));
}

TEST(FileUtilTest, MakeDirsWithTrailingSlash) {
  test::TempDir dir;
  EXPECT_TRUE(makeDirs(dir.file("x/y/"), 0700, nullptr));
  EXPECT_TRUE(fs::is_directory(dir.file("x/y")));
}

TEST(FileUtilTest, MakeDirsAppliesMode) {
  ScopedUmask mask(0);
  test::TempDir dir;
  ASSERT_TRUE(makeDirs(dir.file("p/q"), 0700, nullptr));
  EXPECT_EQ(test::modeOf(dir.file("p")), 0700);
  EXPECT_EQ(test::modeOf(dir.file("p/q")), 0700);
}

TEST(FileUtilTest, MakeDirsOverAFileFails) {
  test::TempDir dir;
  test::writeText(dir.file("file"), "");
  std::string onFile, below;
  EXPECT_FALSE(makeDirs(dir.file("file"), 0755, &onFile));
  EXPECT_NE(onFile.find(dir.file("file")), std::string::npos) << onFile;
  EXPECT_FALSE(makeDirs(dir.file("file/sub"), 0755, &below));
  EXPECT_NE(below.find(dir.file("file")), std::string::npos) << below;
}

}  // namespace
}  // namespace aclkd
