#include "lib/epilot/templates.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/unit/support.hpp"

namespace epilot {
namespace {

FillContext context() {
  FillContext c;
  c.now_ms = 1749649159123;
  std::uint8_t next = 0;
  c.random = [next](std::uint8_t* out, std::size_t n) mutable {
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = next++;
    }
  };
  c.env = [](const std::string& name) -> std::optional<std::string> {
    return name == "TENANT" ? std::optional<std::string>("acme \"north\"") : std::nullopt;
  };
  c.options = {{"org_id", "42"}};
  return c;
}

TEST(BuiltinPayload, IsTheFixtureByteForByte) {
  EXPECT_EQ(builtin_payload(), test::read_fixture("payloads/custom-action.json"));
}

TEST(BuiltinPayload, IsACompactExternalIntegrationRequest) {
  const auto text = std::string(builtin_payload());
  const auto doc = nlohmann::ordered_json::parse(text);
  // Compact, as JSON.stringify sends it: re-encoding without indentation changes nothing.
  EXPECT_EQ(doc.dump(), text);
  EXPECT_EQ(doc["type"], "external_integration");
  const auto& data = doc["data"];
  for (const char* field : {"org_id", "entity", "action_config", "app_config", "app_options", "execution_id",
                            "execution_status", "exection_action_id", "trigger_event"}) {
    EXPECT_TRUE(data.contains(field)) << field;
  }
  EXPECT_TRUE(data["entity"].is_object());
  EXPECT_TRUE(data["entity"].contains("_schema"));
}

TEST(BuiltinFixtures, AreEveryFileUnderFixturesPayloads) {
  std::vector<std::string> names;
  for (const auto& f : builtin_fixtures()) {
    names.emplace_back(f.name);
    EXPECT_EQ(f.text, test::read_fixture("payloads/" + std::string(f.name) + ".json")) << f.name;
  }
  EXPECT_GE(names.size(), 8u);
  EXPECT_NE(find_fixture("wait-for-callback.json"), nullptr);
  EXPECT_EQ(find_fixture("nope"), nullptr);
}

TEST(BuiltinFixtures, EachInstantiatesToAFullCustomActionRequest) {
  for (const auto& f : builtin_fixtures()) {
    const auto r = instantiate_fixture(f, context(), {});
    ASSERT_TRUE(r.ok()) << f.name << ": " << r.error().message;
    EXPECT_EQ(r->body.find("{{"), std::string::npos) << f.name;
    const auto doc = nlohmann::json::parse(r->body);
    EXPECT_EQ(doc["type"], "external_integration") << f.name;
    EXPECT_TRUE(doc["data"].contains("exection_action_id")) << f.name;
    EXPECT_TRUE(doc["data"]["entity"].is_object()) << f.name;
  }
  const auto big = instantiate_fixture(*find_fixture("large-entity"), context(), {});
  EXPECT_GE(big->body.size(), 18000u);
  const auto callback =
      nlohmann::json::parse(instantiate_fixture(*find_fixture("wait-for-callback"), context(), {})->body);
  EXPECT_EQ(callback["data"]["action_config"]["wait_for_callback"], true);
  EXPECT_TRUE(callback["data"].contains("resume_token"));
  EXPECT_TRUE(callback["data"].contains("callback_post_url"));
  const auto headers = instantiate_fixture(*find_fixture("custom-headers.request"), context(), {});
  ASSERT_EQ(headers->headers.size(), 2u);
  EXPECT_EQ(headers->headers[0].name, "x-api-key");
  EXPECT_EQ(headers->headers[1].value, "42");  // {{option.org_id|739224}} with org_id=42
}

TEST(FillPlaceholders, FillsEachKind) {
  const auto r = fill_placeholders(
      R"({"t":"{{now}}","u":{{unix}},"id":"{{uuid}}","e":"{{env.TENANT}}","o":"{{option.org_id}}","d":"{{option.x|dflt}}"})",
      context());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(
      *r,
      R"({"t":"2025-06-11T13:39:19.123Z","u":1749649159,"id":"00010203-0405-4607-8809-0a0b0c0d0e0f","e":"acme \"north\"","o":"42","d":"dflt"})");
  // Each {{uuid}} is fresh.
  const auto two = fill_placeholders("{{uuid}} {{uuid}}", context());
  EXPECT_NE(two->substr(0, 36), two->substr(37));
}

TEST(FillPlaceholders, NamesWhatIsMissing) {
  const auto missing = fill_placeholders("{{option.api_key}}", context());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("{{option.api_key}}"), std::string::npos);
  EXPECT_EQ(missing.error().about, Subject::missing_option);
  EXPECT_EQ(missing.error().detail, "api_key");
  EXPECT_FALSE(fill_placeholders("{{env.NOPE}}", context()).ok());
  EXPECT_EQ(*fill_placeholders("no placeholders } {", context()), "no placeholders } {");
}

// A payload may carry {{...}} of its own (a Handlebars email template): only
// the five forms are placeholders; everything else is the payload's.
TEST(FillPlaceholders, KeepsTextThatIsNoPlaceholder) {
  EXPECT_EQ(*fill_placeholders(R"({"t":"Hi {{contact.name}}, {{today}}"})", context()),
            R"({"t":"Hi {{contact.name}}, {{today}}"})");
  EXPECT_EQ(*fill_placeholders("{{now", context()), "{{now");
  EXPECT_EQ(*fill_placeholders("{{uuid|x}} {{env.}} {{option.a b}}", context()), "{{uuid|x}} {{env.}} {{option.a b}}");
  const auto mixed = fill_placeholders("{{a {{unix}}", context());
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(mixed->substr(0, 4), "{{a ");
  EXPECT_NE(mixed->find_first_of("0123456789"), std::string::npos);
  EXPECT_EQ(mixed->find("unix"), std::string::npos);
}

// A template from someone else must not carry the tool's own secrets away:
// the caller names the prefix of its variables.
TEST(FillPlaceholders, NeverFillsTheToolsOwnVariables) {
  auto c = context();
  c.env = [](const std::string&) -> std::optional<std::string> { return "whsec_secret"; };
  c.reserved_env_prefix = "MYTOOL_";
  const auto r = fill_placeholders(R"({"s":"{{env.MYTOOL_SECRET}}"})", c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("never filled"), std::string::npos);
  EXPECT_EQ(r.error().message.find("whsec_secret"), std::string::npos);
  EXPECT_TRUE(fill_placeholders(R"({"h":"{{env.HOME}}"})", c).ok());
}

// Many "{{" with one "}}" far away: linear, not quadratic (it would take hours).
TEST(Placeholders, ScanInLinearTime) {
  std::string text;
  for (int i = 0; i < 2000000; ++i) {
    text += "{{";
  }
  text += "}}";
  EXPECT_FALSE(has_placeholders(text));
  EXPECT_TRUE(unknown_placeholders(text).empty());
  EXPECT_EQ(*fill_placeholders(text, context()), text);
}

TEST(Placeholders, TellTemplatesFromPayloads) {
  EXPECT_TRUE(has_placeholders(R"({"id":"{{uuid}}"})"));
  EXPECT_TRUE(has_placeholders("{{env.HOME|/}}"));
  EXPECT_TRUE(has_placeholders("{{option.org_id}}"));
  EXPECT_FALSE(has_placeholders(R"({"t":"{{contact.name}}"})"));
  EXPECT_FALSE(has_placeholders("{{now"));
  EXPECT_FALSE(has_placeholders(""));
  EXPECT_EQ(unknown_placeholders("{{uuidd}} {{uuid}} {{contact.name}} {{uuidd}}"),
            (std::vector<std::string>{"{{uuidd}}", "{{contact.name}}"}));
  // A stretch of JSON between two braces is not taken for a word.
  EXPECT_TRUE(unknown_placeholders(R"({{"a":1}})").empty());
}

TEST(ContentTypeFor, JsonTextOrBytes) {
  EXPECT_EQ(content_type_for(R"({"a":1})"), "application/json");
  EXPECT_EQ(content_type_for("[1, 2]\n"), "application/json");
  EXPECT_EQ(content_type_for("hello"), "text/plain; charset=utf-8");
  EXPECT_EQ(content_type_for(R"({"a":)"), "text/plain; charset=utf-8");
  EXPECT_EQ(content_type_for(std::string_view("\xff\x00", 2)), "application/octet-stream");
  EXPECT_EQ(content_type_for(std::string(300000, '[') + std::string(300000, ']')), "application/json");
}

TEST(ApplyOverrides, SetsStringsOrJsonAndCreatesObjects) {
  const auto r = apply_overrides(R"({"data":{"org_id":"1"}})",
                                 {{"data.org_id", "123"}, {"data.n:", "5"}, {"data.new.deep", "x"}, {"flag:", "true"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, R"({"data":{"org_id":"123","n":5,"new":{"deep":"x"}},"flag":true})");
  const auto not_json = apply_overrides("not json", {{"a", "b"}});
  ASSERT_FALSE(not_json.ok());
  // The message names the overrides where a caller may put its own name.
  EXPECT_EQ(not_json.error().about, Subject::field_overrides);
  EXPECT_EQ(not_json.error().message.compare(not_json.error().named_at, 14, "field override"), 0);
  EXPECT_FALSE(apply_overrides(R"({"a":1})", {{"a.b", "c"}}).ok());
  EXPECT_FALSE(apply_overrides(R"({"a":1})", {{"a:", "{oops"}}).ok());
  EXPECT_EQ(*apply_overrides("anything, untouched", {}), "anything, untouched");
}

// Found by fuzz_set_path: a path of 2,500 parts nested the body 2,500 deep,
// past what every reader of it takes.
TEST(ApplyOverrides, BoundsTheNestingItCreates) {
  std::string path = "data";
  for (int i = 0; i < 2500; ++i) {
    path += ".a";
  }
  const auto long_path = apply_overrides("{}", {{path, "1"}});
  ASSERT_FALSE(long_path.ok());
  EXPECT_NE(long_path.error().message.find("parts"), std::string::npos);
  std::string deep_value = std::string(100, '[') + std::string(100, ']');
  std::string deep_path = "a";
  for (int i = 0; i < 40; ++i) {
    deep_path += ".a";
  }
  const auto deep = apply_overrides("{}", {{deep_path + ":", deep_value}});
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.error().message.find("deeper"), std::string::npos);
  EXPECT_FALSE(apply_overrides("{}", {{"a:", std::string(200, '[') + std::string(200, ']')}}).ok());
  EXPECT_FALSE(apply_overrides("{}", {{"a", "\xff"}}).ok()) << "not UTF-8: an error, not a throw";
}

}  // namespace
}  // namespace epilot
