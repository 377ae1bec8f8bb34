#include "lib/util/file.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "tests/unit/support.hpp"

namespace epilot::util {
namespace {

class FileTest : public test::TempDirTest {
 protected:
  std::size_t entries() const {
    return static_cast<std::size_t>(
        std::distance(std::filesystem::directory_iterator(m_dir), std::filesystem::directory_iterator()));
  }
};

TEST_F(FileTest, WriteThenReadBack) {
  ASSERT_TRUE(write_file_atomic(path("a"), std::string_view("x\0y", 3), 0644, Overwrite::no).ok());
  const auto text = read_file(path("a"), 100);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, std::string("x\0y", 3));
  EXPECT_EQ(entries(), 1u);  // no temporary file left behind
}

TEST_F(FileTest, NeverClobbersWithoutOverwrite) {
  ASSERT_TRUE(write_file_atomic(path("k"), "first", 0600, Overwrite::no).ok());
  const auto second = write_file_atomic(path("k"), "second", 0600, Overwrite::no);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("already exists"), std::string::npos);
  EXPECT_EQ(*read_file(path("k"), 100), "first");
  ASSERT_TRUE(write_file_atomic(path("k"), "third", 0600, Overwrite::yes).ok());
  EXPECT_EQ(*read_file(path("k"), 100), "third");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(FileTest, SecretFilesAre0600) {
  ASSERT_TRUE(write_file_atomic(path("secret"), "s", 0600, Overwrite::no).ok());
  EXPECT_EQ(file_mode(path("secret")), 0600);
  // Whatever the umask lets through, a secret is 0600.
  const auto old = ::umask(0);
  const auto written = write_file_atomic(path("open-umask"), "s", 0600, Overwrite::no);
  ::umask(old);
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(file_mode(path("open-umask")), 0600);
}

TEST_F(FileTest, ReplacesTheFileBehindASymlinkAndKeepsTheLink) {
  ASSERT_TRUE(write_file_atomic(path("real"), "old", 0644, Overwrite::no).ok());
  ASSERT_EQ(::symlink(path("real").c_str(), path("link").c_str()), 0);
  ASSERT_TRUE(write_file_atomic(path("link"), "new", 0644, Overwrite::yes).ok());
  struct stat st {};
  ASSERT_EQ(::lstat(path("link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(*read_file(path("real"), 100), "new");
  EXPECT_EQ(entries(), 2u);
}

TEST_F(FileTest, WritesIntoAFifoInsteadOfReplacingIt) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] { got = *read_file(path("fifo"), 100); });
  ASSERT_TRUE(write_file_atomic(path("fifo"), "through", 0644, Overwrite::yes).ok());
  reader.join();
  EXPECT_EQ(got, "through");
  struct stat st {};
  ASSERT_EQ(::lstat(path("fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST_F(FileTest, SameFileSeesThroughSpellingsAndLinks) {
  EXPECT_TRUE(same_file(path("k"), path("./k")));
  ASSERT_EQ(::mkdir(path("sub").c_str(), 0700), 0);
  EXPECT_TRUE(same_file(path("k"), m_dir + "/sub/../k"));
  EXPECT_FALSE(same_file(path("k"), path("l")));
  ASSERT_TRUE(write_file_atomic(path("k"), "x", 0600, Overwrite::no).ok());
  ASSERT_EQ(::link(path("k").c_str(), path("hard").c_str()), 0);
  EXPECT_TRUE(same_file(path("k"), path("hard")));
}

TEST_F(FileTest, ReadRefusesOversizedDirectoriesAndMissingFiles) {
  ASSERT_TRUE(write_file_atomic(path("big"), std::string(1000, 'x'), 0644, Overwrite::no).ok());
  const auto big = read_file(path("big"), 999);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("larger"), std::string::npos);
  EXPECT_FALSE(read_file(m_dir, 100).ok());
  const auto missing = read_file(path("nope"), 100);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::io);
  EXPECT_NE(missing.error().message.find("No such file"), std::string::npos);
}

TEST_F(FileTest, WriteIntoMissingDirectoryFailsCleanly) {
  const auto result = write_file_atomic(path("no/such/dir/file"), "x", 0644, Overwrite::no);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::io);
}

TEST_F(FileTest, MakeDirectoriesCreatesParents) {
  ASSERT_TRUE(make_directories(path("a/b/c"), 0700).ok());
  EXPECT_TRUE(std::filesystem::is_directory(path("a/b/c")));
  EXPECT_EQ(file_mode(path("a/b/c")) & 0777, 0700 & ~0);
}

}  // namespace
}  // namespace epilot::util
