#include "lib/webhook/capture_sink.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lib/util/file.hpp"
#include "tests/unit/support.hpp"

namespace epilot::webhook {
namespace {

class CaptureSinkTest : public test::TempDirTest {
 protected:
  std::string read(const std::string& name) const {
    auto text = util::read_file(path(name), 1 << 20);
    EXPECT_TRUE(text.ok()) << name;
    return text.ok() ? *text : std::string();
  }
};

TEST_F(CaptureSinkTest, StoresNothingUntilOpened) {
  CaptureSink sink;
  EXPECT_FALSE(sink.enabled());
  EXPECT_TRUE(sink.store("{}\n", "msg_1").ok());
}

TEST_F(CaptureSinkTest, AppendsRecordsByteForByte) {
  CaptureSink sink;
  ASSERT_TRUE(sink.open({path("out.jsonl"), ""}).ok());
  EXPECT_TRUE(sink.enabled());
  ASSERT_TRUE(sink.store("{\"a\":1}\n", "msg_1").ok());
  ASSERT_TRUE(sink.store(std::string("{\"b\":\"\xff\0\"}\n", 11), "msg_2").ok());
  EXPECT_EQ(read("out.jsonl"), std::string("{\"a\":1}\n{\"b\":\"\xff\0\"}\n", 19));
  struct stat st {};
  ASSERT_EQ(::stat(path("out.jsonl").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(sink.file_readable_by_others());
}

TEST_F(CaptureSinkTest, AppendsToWhatTheFileHeldAndNotesWhoMayReadIt) {
  ASSERT_TRUE(write_file_atomic(path("out.jsonl"), "old\n", 0644, util::Overwrite::no).ok());
  ASSERT_EQ(::chmod(path("out.jsonl").c_str(), 0644), 0);
  CaptureSink sink;
  ASSERT_TRUE(sink.open({path("out.jsonl"), ""}).ok());
  EXPECT_TRUE(sink.file_readable_by_others());
  ASSERT_TRUE(sink.store("new\n", "").ok());
  EXPECT_EQ(read("out.jsonl"), "old\nnew\n");
}

TEST_F(CaptureSinkTest, NamesDirectoryFilesByCountAndSafeId) {
  CaptureSink sink;
  ASSERT_TRUE(sink.open({"", path("caps/deep")}).ok());
  ASSERT_TRUE(sink.store("one", "msg_1").ok());
  ASSERT_TRUE(sink.store("two", "").ok());
  ASSERT_TRUE(sink.store("three", "../x y/" + std::string(100, 'z')).ok());
  EXPECT_EQ(read("caps/deep/000001-msg_1.json"), "one");
  EXPECT_EQ(read("caps/deep/000002.json"), "two");
  EXPECT_EQ(read("caps/deep/000003-___x_y_" + std::string(57, 'z') + ".json"), "three");
  struct stat st {};
  ASSERT_EQ(::stat(path("caps/deep").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(CaptureSinkTest, FileAndDirectoryTogetherCountTheSameRecords) {
  CaptureSink sink;
  ASSERT_TRUE(sink.open({path("out.jsonl"), path("caps")}).ok());
  ASSERT_TRUE(sink.store("r1\n", "a").ok());
  ASSERT_TRUE(sink.store("r2\n", "b").ok());
  EXPECT_EQ(read("out.jsonl"), "r1\nr2\n");
  EXPECT_EQ(read("caps/000001-a.json"), "r1\n");
  EXPECT_EQ(read("caps/000002-b.json"), "r2\n");
}

// Many receivers' threads at once: every record whole, once, in the file and
// in the directory, whatever order they came in.
TEST_F(CaptureSinkTest, ConcurrentWritersKeepEveryRecordWhole) {
  CaptureSink sink;
  ASSERT_TRUE(sink.open({path("out.jsonl"), path("caps")}).ok());
  constexpr int k_threads = 8;
  constexpr int k_each = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&sink, t] {
      for (int i = 0; i < k_each; ++i) {
        const auto id = std::to_string(t) + "_" + std::to_string(i);
        EXPECT_TRUE(sink.store("{\"id\":\"" + id + "\",\"pad\":\"" + std::string(500, 'p') + "\"}\n", id).ok());
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  const auto text = read("out.jsonl");
  std::set<std::string> lines;
  for (std::size_t pos = 0; pos < text.size();) {
    const auto eol = text.find('\n', pos);
    ASSERT_NE(eol, std::string::npos);
    lines.insert(text.substr(pos, eol - pos));
    pos = eol + 1;
  }
  EXPECT_EQ(lines.size(), static_cast<std::size_t>(k_threads * k_each));
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path("caps"))) {
    ++files;
    EXPECT_EQ(entry.file_size(), 519u + entry.path().filename().string().size() - 12u);
  }
  EXPECT_EQ(files, static_cast<std::size_t>(k_threads * k_each));
}

TEST_F(CaptureSinkTest, ADirectoryThatVanishedIsAnErrorForThatRecord) {
  CaptureSink sink;
  ASSERT_TRUE(sink.open({"", path("caps")}).ok());
  ASSERT_TRUE(sink.store("one", "a").ok());
  std::filesystem::remove_all(path("caps"));
  const auto stored = sink.store("two", "b");
  ASSERT_FALSE(stored.ok());
  EXPECT_EQ(stored.error().code, ErrorCode::io);
}

TEST_F(CaptureSinkTest, RefusesWhatCannotBeOpened) {
  CaptureSink file_sink;
  const auto file = file_sink.open({path("missing/out.jsonl"), ""});
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code, ErrorCode::io);
  EXPECT_NE(file.error().message.find("cannot open"), std::string::npos);
  ASSERT_TRUE(write_file_atomic(path("plain"), "x", 0600, util::Overwrite::no).ok());
  CaptureSink dir_sink;
  EXPECT_FALSE(dir_sink.open({"", path("plain/caps")}).ok());
}

// A write that fails (here: a full device) is an error, and stores after it
// still work on whole lines.
TEST_F(CaptureSinkTest, AFailedWriteIsAnError) {
  if (::access("/dev/full", W_OK) != 0) {
    GTEST_SKIP() << "no /dev/full";
  }
  CaptureSink sink;
  ASSERT_TRUE(sink.open({"/dev/full", ""}).ok());
  const auto stored = sink.store("record\n", "a");
  ASSERT_FALSE(stored.ok());
  EXPECT_EQ(stored.error().code, ErrorCode::io);
  EXPECT_NE(stored.error().message.find("cannot write the capture"), std::string::npos);
}

}  // namespace
}  // namespace epilot::webhook
