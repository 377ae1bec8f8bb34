#include "lib/payload.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/unit/support.hpp"

namespace epilot {
namespace {

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

}  // namespace
}  // namespace epilot
