#include "lib/epilot/check_requests.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "lib/util/constants.hpp"
#include "lib/webhook/raw_http.hpp"
#include "lib/webhook/signature.hpp"
#include "tests/unit/check_support.hpp"

namespace epilot {
namespace {

using namespace epilot::test;

TEST(CheckBattery, EveryCaseBuildsAsManyRequestsAsItSays) {
  const CheckKeys both{test_key(), test_secret()};
  for (const auto& info : check_battery()) {
    const auto built = build_case(info.id, context(), both);
    EXPECT_TRUE(built.skipped.empty()) << info.name;
    EXPECT_EQ(built.requests.size(), request_count(info.id)) << info.name;
    EXPECT_FALSE(built.sent.empty()) << info.name;
  }
}

TEST(CheckBuild, GenuineCasesVerifyAndForgeriesDoNot) {
  const auto keys = v1a_keys();
  for (const auto id :
       {CaseId::genuine, CaseId::genuine_unknown_version, CaseId::genuine_header_case, CaseId::genuine_near_edge,
        CaseId::genuine_noncanonical_json, CaseId::genuine_non_ascii, CaseId::wrong_method, CaseId::oversized}) {
    const auto result = verify_as_endpoint(only(build_case(id, context(), keys)));
    EXPECT_EQ(result.verdict, webhook::Verdict::valid) << case_info(id).name;
  }
  for (const auto id : {CaseId::forged_key, CaseId::tampered_body, CaseId::tampered_id, CaseId::tampered_timestamp,
                        CaseId::wrong_scheme, CaseId::version_swap}) {
    const auto result = verify_as_endpoint(only(build_case(id, context(), keys)), true);
    EXPECT_EQ(result.verdict, webhook::Verdict::signature_mismatch) << case_info(id).name;
  }
  EXPECT_EQ(verify_as_endpoint(only(build_case(CaseId::unsigned_request, context(), keys))).verdict,
            webhook::Verdict::missing_header);
  EXPECT_EQ(verify_as_endpoint(only(build_case(CaseId::empty_signature, context(), keys))).verdict,
            webhook::Verdict::missing_header);
  EXPECT_EQ(verify_as_endpoint(only(build_case(CaseId::missing_id, context(), keys))).problem_header, "webhook-id");
  EXPECT_EQ(verify_as_endpoint(only(build_case(CaseId::missing_timestamp, context(), keys))).problem_header,
            "webhook-timestamp");
}

TEST(CheckBuild, StaleFutureAndNearEdgeSitWhereTheToleranceSays) {
  const auto keys = v1a_keys();
  const auto stale = verify_as_endpoint(only(build_case(CaseId::stale, context(), keys)));
  EXPECT_EQ(stale.verdict, webhook::Verdict::timestamp_too_old);
  EXPECT_EQ(stale.age, 360);
  EXPECT_TRUE(stale.match.has_value()) << "the signature itself is genuine";
  const auto future = verify_as_endpoint(only(build_case(CaseId::future, context(), keys)));
  EXPECT_EQ(future.verdict, webhook::Verdict::timestamp_too_new);
  EXPECT_EQ(future.age, -360);
  EXPECT_EQ(verify_as_endpoint(only(build_case(CaseId::genuine_near_edge, context(), keys))).age, 270);
  EXPECT_EQ(near_edge_age(300), 270);
  EXPECT_EQ(near_edge_age(40), 20);
}

TEST(CheckBuild, TamperingChangesOneThingAfterSigning) {
  const auto keys = v1a_keys();
  const auto genuine = only(build_case(CaseId::genuine, context(), keys));
  const auto body = only(build_case(CaseId::tampered_body, context(), keys));
  ASSERT_EQ(body.body.size(), k_body.size());
  EXPECT_EQ(std::mismatch(body.body.begin(), body.body.end(), k_body.begin()).first - body.body.begin(),
            static_cast<std::ptrdiff_t>(std::string_view(k_body).find("external")));
  EXPECT_FALSE(nlohmann::json::parse(body.body, nullptr, false).is_discarded()) << "still JSON";
  const auto ts = only(build_case(CaseId::tampered_timestamp, context(), keys));
  EXPECT_EQ(*ts.find_header(k_header_timestamp), std::to_string(k_now + 1));
  // The genuine signature of the original timestamp: re-timed, it verifies.
  webhook::Capture untampered = ts;
  untampered.set_header(k_header_timestamp, std::to_string(k_now));
  EXPECT_TRUE(verify_as_endpoint(untampered).ok());
  EXPECT_EQ(*genuine.find_header(k_header_timestamp), std::to_string(k_now));
}

TEST(CheckBuild, SignatureHeadersHaveTheShapesTheCasesName) {
  const CheckKeys both{test_key(), test_secret()};
  const auto keys = v1a_keys();
  const auto entries = [](const webhook::Capture& c) {
    return webhook::parse_signature_header(*c.find_header(k_header_signature));
  };
  const auto many = entries(only(build_case(CaseId::genuine_last_of_many, context(), keys)));
  ASSERT_EQ(many.size(), 3u);
  EXPECT_TRUE(
      std::all_of(many.begin(), many.end(), [](const webhook::SignatureEntry& e) { return e.version == "v1a"; }));
  EXPECT_EQ(verify_as_endpoint(only(build_case(CaseId::genuine_last_of_many, context(), keys))).match->entry_index, 2u);
  const auto unknown = entries(only(build_case(CaseId::genuine_unknown_version, context(), keys)));
  ASSERT_EQ(unknown.size(), 2u);
  EXPECT_EQ(unknown[0].version, "v2");
  const auto scheme = entries(only(build_case(CaseId::wrong_scheme, context(), keys)));
  ASSERT_EQ(scheme.size(), 1u);
  EXPECT_EQ(scheme[0].version, "v1");
  const auto swap = entries(only(build_case(CaseId::version_swap, context(), keys)));
  ASSERT_EQ(swap.size(), 1u);
  EXPECT_EQ(swap[0].version, "v1");
  EXPECT_EQ(swap[0].decoded.size(), 64u) << "the Ed25519 bytes, relabelled";
  const auto pair = only(build_case(CaseId::genuine_v1a_and_v1, context(), both));
  EXPECT_EQ(entries(pair).size(), 2u);
  webhook::VerifyKeys secret_only;
  secret_only.secrets.push_back({"s", test_secret()});
  webhook::VerifyPolicy policy;
  policy.now = k_now;
  EXPECT_TRUE(verify_request(pair, secret_only, policy).ok()) << "the v1 entry verifies on its own";
  const auto header_case = only(build_case(CaseId::genuine_header_case, context(), keys));
  std::vector<std::string> names;
  for (const auto& h : header_case.headers) {
    names.push_back(h.name);
  }
  EXPECT_NE(std::find(names.begin(), names.end(), "Webhook-Id"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "WEBHOOK-TIMESTAMP"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "Webhook-Signature"), names.end());
}

TEST(CheckBuild, TestingV1SwapsTheRolesOfTheSchemes) {
  const CheckKeys hmac{std::nullopt, test_secret()};
  webhook::VerifyKeys secret_only;
  secret_only.secrets.push_back({"s", test_secret()});
  webhook::VerifyPolicy policy;
  policy.now = k_now;
  EXPECT_TRUE(verify_request(only(build_case(CaseId::genuine, context(), hmac)), secret_only, policy).ok());
  const auto scheme = webhook::parse_signature_header(
      *only(build_case(CaseId::wrong_scheme, context(), hmac)).find_header(k_header_signature));
  ASSERT_EQ(scheme.size(), 1u);
  EXPECT_EQ(scheme[0].version, "v1a");
  const auto swap = webhook::parse_signature_header(
      *only(build_case(CaseId::version_swap, context(), hmac)).find_header(k_header_signature));
  EXPECT_EQ(swap[0].version, "v1a");
  EXPECT_EQ(swap[0].decoded.size(), 32u);
  EXPECT_EQ(verify_request(only(build_case(CaseId::forged_key, context(), hmac)), secret_only, policy).verdict,
            webhook::Verdict::signature_mismatch);
  EXPECT_EQ(build_case(CaseId::genuine_v1a_and_v1, context(), hmac).skipped, "it needs a private key and a secret");
}

TEST(CheckBuild, RequestsThatRepeatOrComeInPairs) {
  const auto keys = v1a_keys();
  const auto replayed = build_case(CaseId::replayed, context(), keys);
  ASSERT_EQ(replayed.requests.size(), 2u);
  EXPECT_EQ(write_raw_http(replayed.requests[0]), write_raw_http(replayed.requests[1]));
  EXPECT_EQ(replayed.requests[0].body, replayed.requests[1].body);
  const auto garbage = build_case(CaseId::timestamp_garbage, context(), keys);
  ASSERT_EQ(garbage.requests.size(), 2u);
  EXPECT_EQ(verify_as_endpoint(garbage.requests[0]).verdict, webhook::Verdict::malformed_header);
  const auto millis = verify_as_endpoint(garbage.requests[1]);
  EXPECT_EQ(millis.verdict, webhook::Verdict::timestamp_too_new);
  EXPECT_TRUE(millis.match.has_value()) << "signed over the millisecond text itself";
  const auto malformed = build_case(CaseId::malformed_signature, context(), keys);
  for (const auto& request : malformed.requests) {
    const auto entries = webhook::parse_signature_header(*request.find_header(k_header_signature));
    EXPECT_TRUE(std::none_of(entries.begin(), entries.end(),
                             [](const webhook::SignatureEntry& e) { return e.status == webhook::EntryStatus::ok; }));
  }
  const auto get = only(build_case(CaseId::wrong_method, context(), keys));
  EXPECT_EQ(get.method, "GET");
  EXPECT_TRUE(get.body.empty());
  EXPECT_EQ(get.find_header("content-type"), nullptr);
  EXPECT_GE(only(build_case(CaseId::oversized, context(), keys)).body.size(), k_oversized_body - 64);
}

TEST(CheckBuild, BodiesThatAreNotObjectsSkipTheCasesThatNeedOne) {
  for (const auto id : {CaseId::genuine_noncanonical_json, CaseId::genuine_non_ascii}) {
    const auto built = build_case(id, context("plain text"), v1a_keys());
    EXPECT_TRUE(built.requests.empty());
    EXPECT_EQ(built.skipped, "the genuine body is not a JSON object");
  }
  const auto big = only(build_case(CaseId::oversized, context("plain text"), v1a_keys()));
  EXPECT_EQ(big.body.substr(0, 10), "plain text");
  EXPECT_EQ(big.body.size(), k_oversized_body);
}

TEST(CheckBodies, TamperChangesExactlyOneByteAndKeepsJson) {
  for (const std::string& body : {std::string(k_body), std::string(R"({"a":"\"zz","b":"Z9"})"), std::string("[]"),
                                  std::string("{}"), std::string("x"), std::string("\x01\x02")}) {
    const auto out = tamper_one_byte(body);
    ASSERT_EQ(out.size(), body.size()) << body;
    std::size_t differ = 0;
    for (std::size_t i = 0; i < body.size(); ++i) {
      differ += out[i] != body[i] ? 1 : 0;
    }
    EXPECT_EQ(differ, 1u) << body;
    if (body.front() == '{' && body.size() > 2) {
      EXPECT_FALSE(nlohmann::json::parse(out, nullptr, false).is_discarded()) << out;
    }
  }
  // The first value's letter, past the escape; z wraps to a.
  EXPECT_EQ(tamper_one_byte(R"({"a":"\"zz"})"), R"({"a":"\"az"})");
  EXPECT_EQ(tamper_one_byte(""), " ");
}

TEST(CheckBodies, LeadingMemberLeavesTheRestByteForByte) {
  EXPECT_EQ(*with_leading_member(R"( { "a" : 1 } )", "m", "2"), R"( {"m":2, "a" : 1 } )");
  EXPECT_EQ(*with_leading_member("{}", "m", "2"), R"({"m":2})");
  EXPECT_EQ(*with_leading_member("{ \n}", "m", "2"), "{\"m\":2 \n}");
  EXPECT_FALSE(with_leading_member("[1]", "m", "2"));
  EXPECT_FALSE(with_leading_member("{", "m", "2"));
}

TEST(CheckBodies, NoncanonicalJsonMeansTheSameButSurvivesNoSerialiser) {
  const std::string body = R"({"path":"/a/b","name":"Jürgen","n":[1,2],"e":{}})";
  const auto out = noncanonical_json(body);
  ASSERT_TRUE(out);
  EXPECT_NE(out->find(R"("\/a\/b")"), std::string::npos);
  EXPECT_NE(out->find(R"(J\u00fcrgen)"), std::string::npos);
  EXPECT_NE(out->find("1.50"), std::string::npos);
  EXPECT_NE(out->find("\n    \""), std::string::npos) << "pretty, four spaces";
  auto parsed = nlohmann::ordered_json::parse(*out);
  EXPECT_EQ(parsed["path"], "/a/b");
  EXPECT_EQ(parsed["name"], "Jürgen");
  EXPECT_EQ(parsed[std::string(k_check_member)]["amount"], 1.5);
  parsed.erase(std::string(k_check_member));
  EXPECT_EQ(parsed.dump(), body);
  EXPECT_NE(nlohmann::ordered_json::parse(*out).dump(), *out);
  ASSERT_TRUE(noncanonical_json("{}"));
  EXPECT_EQ(nlohmann::json::parse(*noncanonical_json("{}")).size(), 1u);
  EXPECT_FALSE(noncanonical_json("[]"));
}

TEST(CheckBuild, EachCaseGetsAFreshExecutionId) {
  const std::string body = R"({"data":{"org_id":"1","execution_id":"fixed"},"x":"Köln"})";
  const auto a = only(build_case(CaseId::genuine, context(body), v1a_keys()));
  const auto b = only(build_case(CaseId::genuine, context(body), v1a_keys()));
  const auto id_of = [](const webhook::Capture& c) {
    return nlohmann::json::parse(c.body)["data"]["execution_id"].get<std::string>();
  };
  EXPECT_NE(id_of(a), "fixed");
  EXPECT_NE(id_of(a), id_of(b));
  EXPECT_EQ(a.body.substr(a.body.size() - 12), R"("x":"Köln"})") << "the rest as it was, compact";
  const auto replayed = build_case(CaseId::replayed, context(body), v1a_keys());
  EXPECT_EQ(id_of(replayed.requests[0]), id_of(replayed.requests[1]));
  EXPECT_EQ(with_fresh_execution_id(k_body, counting_random()), k_body) << "no execution_id: byte for byte";
  EXPECT_EQ(with_fresh_execution_id("[1]", counting_random()), "[1]");
}

}  // namespace
}  // namespace epilot
