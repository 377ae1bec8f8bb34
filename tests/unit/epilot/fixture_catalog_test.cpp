#include "lib/epilot/fixture_catalog.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace epilot {
namespace {

class FixtureCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = std::filesystem::temp_directory_path() /
            ("fixture-catalog-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(m_dir);
  }
  void TearDown() override { std::filesystem::remove_all(m_dir); }
  void write(const std::string& name, const std::string& text) { std::ofstream(m_dir / name) << text; }
  std::filesystem::path m_dir;
};

TEST_F(FixtureCatalogTest, HasTheBuiltInOnes) {
  FixtureCatalog catalog;
  ASSERT_NE(catalog.find("custom-action"), nullptr);
  EXPECT_EQ(catalog.find("custom-action.json"), catalog.find("custom-action"));
  EXPECT_TRUE(catalog.find("custom-action")->origin.empty());
  EXPECT_EQ(catalog.find("nope"), nullptr);
  EXPECT_EQ(catalog.all().size(), builtin_fixtures().size());
}

TEST_F(FixtureCatalogTest, AFolderAddsFixturesAndShadowsBuiltInNames) {
  write("mine.json", R"({"id":"{{uuid}}"})");
  write("custom-action.json", R"({"mine":true})");
  write("with-headers.request.json", R"({"headers":{"x-a":"1"},"body":{}})");
  write("README.md", "not a fixture");
  write(".hidden.json", "{}");
  FixtureCatalog catalog;
  ASSERT_TRUE(catalog.add_directory(m_dir.string()).ok());
  ASSERT_NE(catalog.find("mine"), nullptr);
  EXPECT_EQ(catalog.find("mine")->text, R"({"id":"{{uuid}}"})");
  EXPECT_EQ(catalog.find("mine")->origin, (m_dir / "mine.json").string());
  EXPECT_EQ(catalog.find("custom-action")->text, R"({"mine":true})");
  ASSERT_NE(catalog.find("with-headers.request"), nullptr);
  EXPECT_TRUE(is_request_form(*catalog.find("with-headers.request")));
  EXPECT_EQ(catalog.find("with-headers"), catalog.find("with-headers.request"));
  EXPECT_EQ(catalog.find("custom-headers"), catalog.find("custom-headers.request"));
  EXPECT_EQ(catalog.find("README"), nullptr);
  EXPECT_EQ(catalog.find(".hidden"), nullptr);
  // One entry per name, sorted: the user's custom-action in place of the built-in one.
  const auto all = catalog.all();
  EXPECT_EQ(all.size(), builtin_fixtures().size() + 2);
  EXPECT_TRUE(
      std::is_sorted(all.begin(), all.end(), [](const Fixture* a, const Fixture* b) { return a->name < b->name; }));
}

TEST_F(FixtureCatalogTest, AMissingFolderIsAnErrorNamingIt) {
  FixtureCatalog catalog;
  const auto status = catalog.add_directory((m_dir / "absent").string());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::io);
  EXPECT_NE(status.error().message.find("absent"), std::string::npos);
}

TEST_F(FixtureCatalogTest, FixturesHandedOutStayValidAsMoreAreAdded) {
  FixtureCatalog catalog;
  const Fixture& first = catalog.add("first", "{}", "first.json");
  for (int i = 0; i < 1000; ++i) {
    catalog.add(std::to_string(i) + ".f", std::string(100, 'x'), "");
  }
  EXPECT_EQ(first.name, "first");
  EXPECT_EQ(first.text, "{}");
}

// replay custom-action.json custom-action: the file by its path, the
// built-in one by its name.
TEST_F(FixtureCatalogTest, AFileNamedByPathShadowsNoName) {
  FixtureCatalog catalog;
  const Fixture& file = catalog.add_file("custom-action", R"({"mine":true})", "custom-action.json");
  EXPECT_EQ(file.text, R"({"mine":true})");
  EXPECT_TRUE(catalog.find("custom-action")->origin.empty());
  EXPECT_EQ(catalog.all().size(), builtin_fixtures().size());
}

TEST_F(FixtureCatalogTest, SuggestsCloseNames) {
  FixtureCatalog catalog;
  const auto close = catalog.similar("contct-updated");
  ASSERT_FALSE(close.empty());
  EXPECT_EQ(close.front(), "contact-updated");
  EXPECT_EQ(catalog.similar("wait")[0], "wait-for-callback");
  EXPECT_TRUE(catalog.similar("zzzzzzzzzzzz").empty());
}

}  // namespace
}  // namespace epilot
