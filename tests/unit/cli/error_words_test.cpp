// cli/error_words: the library's typed errors in the command line's words.
#include <gtest/gtest.h>

#include "cli/error_words.hpp"
#include "lib/epilot/key_endpoint.hpp"
#include "lib/epilot/templates.hpp"
#include "lib/webhook/input_formats.hpp"
#include "lib/webhook/keys.hpp"

namespace epilot::cli {
namespace {

TEST(InCliWords, NamesTheFlagWhereTheMessageNamesTheOverrides) {
  const auto error = apply_overrides("{}", {{"a..b", "1"}});
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(in_cli_words(error.error()).message, "--set path 'a..b' has an empty part");
  // Context put in front keeps the place of the name.
  EXPECT_EQ(in_cli_words(with_context(error.error(), "x.json")).message, "x.json: --set path 'a..b' has an empty part");
  const auto utf8 = apply_overrides("{}", {{"a", "\xff"}});
  ASSERT_FALSE(utf8.ok());
  EXPECT_EQ(in_cli_words(utf8.error()).message, "--set: the body or a value set in it is not valid UTF-8");
}

TEST(InCliWords, PutsTheHintNamingTheFlagFirst) {
  const auto secret = webhook::parse_secret("whsk_abc");
  ASSERT_FALSE(secret.ok());
  const auto said = in_cli_words(secret.error());
  ASSERT_EQ(said.hints.size(), 1u);
  EXPECT_EQ(said.hints[0], "Ed25519 keys go to --private-key (sign) or --public-key (verify)");
  EXPECT_EQ(said.message, secret.error().message);
  const auto key = webhook::parse_private_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(in_cli_words(key.error()).hints.at(0),
            "HMAC secrets go to --secret, --secret-file or EPILOT_ACTION_SECRET");

  FillContext context;
  const auto missing = fill_placeholders("{{option.api_key}}", context);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(in_cli_words(missing.error()).hints.at(0), "give it with --option api_key=VALUE");

  auto existing = make_error(ErrorCode::io, Subject::existing_file, "out.pem already exists");
  existing.hints.push_back("a later hint");
  const auto twice = in_cli_words(in_cli_words(existing));
  EXPECT_EQ(twice.hints, (std::vector<std::string>{"use --force to replace it", "a later hint"}));
}

TEST(InCliWords, SaysWhatWritesACapture) {
  const auto payload = webhook::parse_capture(R"({"event": "x"})");
  ASSERT_FALSE(payload.ok());
  const auto said = in_cli_words(payload.error());
  ASSERT_EQ(said.hints.size(), 1U);
  EXPECT_EQ(said.hints[0],
            "a capture is a request as received, headers and body (what 'epilot-action sign' or 'listen' writes)");

  const auto neither = webhook::parse_capture("not a request");
  ASSERT_FALSE(neither.ok());
  const auto hints = in_cli_words(neither.error()).hints;
  ASSERT_EQ(hints.size(), 2U);  // the CLI's first, then the library's own
  EXPECT_NE(hints[0].find("'epilot-action sign'"), std::string::npos);
  EXPECT_NE(hints[1].find("'POST /hook HTTP/1.1'"), std::string::npos);
}

TEST(InCliWords, SaysTheOrganisationIdErrorsInFlags) {
  const auto missing = key_endpoint_url(KeyEndpoint::webhooks, "", "");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(in_cli_words(missing.error()).message,
            "the webhooks endpoint serves a key per organisation: give --org-id");
  const auto bad = key_endpoint_url(KeyEndpoint::webhooks, "a b", "");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(in_cli_words(bad.error()).message, "--org-id 'a b' is not an organisation id");
  const auto unwanted = key_endpoint_url(KeyEndpoint::app, "739224", "");
  ASSERT_FALSE(unwanted.ok());
  EXPECT_EQ(in_cli_words(unwanted.error()).message,
            "--org-id is only for --endpoint webhooks (the app keys are global)");
}

TEST(InCliWords, LeavesOtherErrorsAsTheyAre) {
  const auto plain = make_error(ErrorCode::bad_input, "not JSON", {"a hint"});
  const auto said = in_cli_words(plain);
  EXPECT_EQ(said.message, "not JSON");
  EXPECT_EQ(said.hints, plain.hints);
}

}  // namespace
}  // namespace epilot::cli
