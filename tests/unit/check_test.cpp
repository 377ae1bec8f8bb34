#include "lib/check.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "lib/constants.hpp"
#include "lib/signature.hpp"

namespace epilot {
namespace {

constexpr std::int64_t k_now = 1750000000;
constexpr std::string_view k_body = R"({"type":"external_integration","data":{"org_id":"739224","name":"Ada"}})";

// A deterministic stream of bytes, so every run builds the same requests;
// one stream for every context, so no two cases draw the same webhook-id.
RandomSource counting_random() {
  static auto counter = std::make_shared<std::uint32_t>(0);
  return [](std::uint8_t* out, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
      const auto n = (*counter)++;
      out[i] = static_cast<std::uint8_t>(n ^ (n >> 8) ^ (n >> 16));
    }
  };
}

PrivateKey test_key() {
  Ed25519Seed seed{};
  seed[0] = 7;
  return private_key_from_seed(seed);
}

Secret test_secret() { return Secret{Bytes(32, 0x42), ""}; }

CaseContext context(std::string_view body = k_body) {
  CaseContext c;
  c.base.method = "POST";
  c.base.url = "http://127.0.0.1:3000/hook";
  c.base.headers = {{"Host", "127.0.0.1:3000"}, {"Content-Type", "application/json"}};
  c.base.body = std::string(body);
  c.now = k_now;
  c.tolerance = 300;
  c.random = counting_random();
  return c;
}

CheckKeys v1a_keys() { return CheckKeys{test_key(), std::nullopt}; }

// How lib's own verifier sees a request, as an endpoint holding `keys` would.
Verification verify_as_endpoint(const Capture& request, bool with_secret = false) {
  VerifyKeys keys;
  keys.public_keys.push_back({"test", test_key().public_key});
  if (with_secret) {
    keys.secrets.push_back({"secret", test_secret()});
  }
  VerifyPolicy policy;
  policy.now = k_now;
  return verify_request(request, keys, policy);
}

const Capture& only(const CaseRequests& built) {
  EXPECT_EQ(built.requests.size(), 1u);
  return built.requests.front();
}

TEST(CheckBattery, IdsAreThePublicContractInOrder) {
  std::vector<std::string> names;
  std::size_t must = 0;
  for (const auto& info : check_battery()) {
    names.emplace_back(info.name);
    must += info.level == CheckLevel::must ? 1 : 0;
    EXPECT_EQ(&case_info(info.id), &info);
    EXPECT_EQ(find_case(info.name), &info);
    EXPECT_FALSE(info.summary.empty());
    EXPECT_FALSE(info.fix.empty());
  }
  EXPECT_EQ(names.front(), "genuine");
  EXPECT_EQ(names.back(), "oversized");
  EXPECT_EQ(names.size(), 25u);
  EXPECT_EQ(must, 11u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  EXPECT_EQ(find_case("stael"), nullptr);
}

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
  for (const auto id : {CaseId::genuine, CaseId::genuine_unknown_version, CaseId::genuine_header_case,
                        CaseId::genuine_near_edge, CaseId::genuine_noncanonical_json, CaseId::genuine_non_ascii,
                        CaseId::wrong_method, CaseId::oversized}) {
    const auto result = verify_as_endpoint(only(build_case(id, context(), keys)));
    EXPECT_EQ(result.verdict, Verdict::valid) << case_info(id).name;
  }
  for (const auto id : {CaseId::forged_key, CaseId::tampered_body, CaseId::tampered_id, CaseId::tampered_timestamp,
                        CaseId::wrong_scheme, CaseId::version_swap}) {
    const auto result = verify_as_endpoint(only(build_case(id, context(), keys)), true);
    EXPECT_EQ(result.verdict, Verdict::signature_mismatch) << case_info(id).name;
  }
  EXPECT_EQ(verify_as_endpoint(only(build_case(CaseId::unsigned_request, context(), keys))).verdict,
            Verdict::missing_header);
  EXPECT_EQ(verify_as_endpoint(only(build_case(CaseId::empty_signature, context(), keys))).verdict,
            Verdict::missing_header);
  EXPECT_EQ(verify_as_endpoint(only(build_case(CaseId::missing_id, context(), keys))).problem_header, "webhook-id");
  EXPECT_EQ(verify_as_endpoint(only(build_case(CaseId::missing_timestamp, context(), keys))).problem_header,
            "webhook-timestamp");
}

TEST(CheckBuild, StaleFutureAndNearEdgeSitWhereTheToleranceSays) {
  const auto keys = v1a_keys();
  const auto stale = verify_as_endpoint(only(build_case(CaseId::stale, context(), keys)));
  EXPECT_EQ(stale.verdict, Verdict::timestamp_too_old);
  EXPECT_EQ(stale.age, 360);
  EXPECT_TRUE(stale.match.has_value()) << "the signature itself is genuine";
  const auto future = verify_as_endpoint(only(build_case(CaseId::future, context(), keys)));
  EXPECT_EQ(future.verdict, Verdict::timestamp_too_new);
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
  Capture untampered = ts;
  untampered.set_header(k_header_timestamp, std::to_string(k_now));
  EXPECT_TRUE(verify_as_endpoint(untampered).ok());
  EXPECT_EQ(*genuine.find_header(k_header_timestamp), std::to_string(k_now));
}

TEST(CheckBuild, SignatureHeadersHaveTheShapesTheCasesName) {
  const CheckKeys both{test_key(), test_secret()};
  const auto keys = v1a_keys();
  const auto entries = [](const Capture& c) { return parse_signature_header(*c.find_header(k_header_signature)); };
  const auto many = entries(only(build_case(CaseId::genuine_last_of_many, context(), keys)));
  ASSERT_EQ(many.size(), 3u);
  EXPECT_TRUE(std::all_of(many.begin(), many.end(), [](const SignatureEntry& e) { return e.version == "v1a"; }));
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
  VerifyKeys secret_only;
  secret_only.secrets.push_back({"s", test_secret()});
  VerifyPolicy policy;
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
  VerifyKeys secret_only;
  secret_only.secrets.push_back({"s", test_secret()});
  VerifyPolicy policy;
  policy.now = k_now;
  EXPECT_TRUE(verify_request(only(build_case(CaseId::genuine, context(), hmac)), secret_only, policy).ok());
  const auto scheme = parse_signature_header(
      *only(build_case(CaseId::wrong_scheme, context(), hmac)).find_header(k_header_signature));
  ASSERT_EQ(scheme.size(), 1u);
  EXPECT_EQ(scheme[0].version, "v1a");
  const auto swap = parse_signature_header(
      *only(build_case(CaseId::version_swap, context(), hmac)).find_header(k_header_signature));
  EXPECT_EQ(swap[0].version, "v1a");
  EXPECT_EQ(swap[0].decoded.size(), 32u);
  EXPECT_EQ(verify_request(only(build_case(CaseId::forged_key, context(), hmac)), secret_only, policy).verdict,
            Verdict::signature_mismatch);
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
  EXPECT_EQ(verify_as_endpoint(garbage.requests[0]).verdict, Verdict::malformed_header);
  const auto millis = verify_as_endpoint(garbage.requests[1]);
  EXPECT_EQ(millis.verdict, Verdict::timestamp_too_new);
  EXPECT_TRUE(millis.match.has_value()) << "signed over the millisecond text itself";
  const auto malformed = build_case(CaseId::malformed_signature, context(), keys);
  for (const auto& request : malformed.requests) {
    const auto entries = parse_signature_header(*request.find_header(k_header_signature));
    EXPECT_TRUE(std::none_of(entries.begin(), entries.end(),
                             [](const SignatureEntry& e) { return e.status == EntryStatus::ok; }));
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

// --- Judging ---

CaseAnswer answer(int status, std::string body = "{}") {
  CaseAnswer a;
  a.delivered.answer.status = status;
  a.delivered.answer.body = std::move(body);
  a.classified = classify(a.delivered);
  return a;
}

CaseAnswer failure(Delivery delivery, std::string error = "it broke") {
  CaseAnswer a;
  a.delivered.delivery = delivery;
  a.delivered.error = std::move(error);
  a.classified = classify(a.delivered);
  return a;
}

Judgement judge(CaseId id, std::vector<CaseAnswer> answers, const DuplicateAnswer* duplicate = nullptr) {
  const std::vector<std::string> what{"a thing", "another thing"};
  return judge_case(case_info(id), answers, what, duplicate);
}

TEST(CheckJudge, MustRefusalsPassOnAnyRefusalAndFailOnlyWhenAccepted) {
  EXPECT_EQ(judge(CaseId::stale, {answer(401)}).verdict, CaseVerdict::pass);
  const auto accepted = judge(CaseId::stale, {answer(200)});
  EXPECT_EQ(accepted.verdict, CaseVerdict::fail);
  EXPECT_EQ(accepted.why, "accepted a thing (200 success)");
  EXPECT_EQ(judge(CaseId::stale, {answer(200, R"({"skip_reason":"x"})")}).verdict, CaseVerdict::fail);
  const auto server_error = judge(CaseId::forged_key, {answer(500)});
  EXPECT_EQ(server_error.verdict, CaseVerdict::pass) << "not fooled, if clumsy";
  EXPECT_NE(server_error.why.find("401 is the answer"), std::string::npos);
  EXPECT_EQ(judge(CaseId::forged_key, {answer(302)}).verdict, CaseVerdict::inconclusive);
  const auto closed = judge(CaseId::forged_key, {failure(Delivery::broken)});
  EXPECT_EQ(closed.verdict, CaseVerdict::pass) << "not fooled either";
  EXPECT_NE(closed.why.find("closing the connection"), std::string::npos);
  EXPECT_EQ(judge(CaseId::forged_key, {failure(Delivery::timeout)}).verdict, CaseVerdict::inconclusive);
  EXPECT_EQ(judge(CaseId::forged_key, {failure(Delivery::unreachable)}).verdict, CaseVerdict::inconclusive);
}

TEST(CheckJudge, GenuineCasesWantA2xx) {
  EXPECT_EQ(judge(CaseId::genuine, {answer(204, "")}).verdict, CaseVerdict::pass);
  EXPECT_EQ(judge(CaseId::genuine_near_edge, {answer(200, R"({"skip_reason":"x"})")}).verdict, CaseVerdict::pass);
  const auto refused = judge(CaseId::genuine_noncanonical_json, {answer(401, R"({"error":"bad"})")});
  EXPECT_EQ(refused.verdict, CaseVerdict::fail);
  EXPECT_EQ(refused.why, R"(expected 2xx, got 401 other: HTTP 401: {"error":"bad"})");
  EXPECT_EQ(judge(CaseId::genuine, {failure(Delivery::timeout)}).verdict, CaseVerdict::fail);
}

TEST(CheckJudge, RobustnessCasesWantA4xxNotACrashOrAHang) {
  EXPECT_EQ(judge(CaseId::missing_id, {answer(400)}).verdict, CaseVerdict::pass);
  EXPECT_EQ(judge(CaseId::missing_id, {answer(500)}).verdict, CaseVerdict::fail);
  EXPECT_EQ(judge(CaseId::missing_id, {answer(200)}).verdict, CaseVerdict::fail);
  EXPECT_NE(judge(CaseId::missing_id, {failure(Delivery::timeout)}).why.find("hangs"), std::string::npos);
  EXPECT_NE(judge(CaseId::missing_id, {failure(Delivery::broken)}).why.find("crashed"), std::string::npos);
  EXPECT_EQ(judge(CaseId::oversized, {failure(Delivery::broken)}).verdict, CaseVerdict::pass);
  EXPECT_EQ(judge(CaseId::oversized, {answer(413)}).verdict, CaseVerdict::pass);
  EXPECT_EQ(judge(CaseId::oversized, {answer(200)}).verdict, CaseVerdict::fail);
  EXPECT_EQ(judge(CaseId::oversized, {failure(Delivery::timeout)}).verdict, CaseVerdict::fail);
  // Two requests: the first that does not pass decides, and is named.
  const auto second = judge(CaseId::timestamp_garbage, {answer(401), answer(200)});
  EXPECT_EQ(second.verdict, CaseVerdict::fail);
  EXPECT_EQ(second.why, "accepted another thing (200 success)");
  EXPECT_EQ(second.deciding, 1u);
  EXPECT_EQ(judge(CaseId::timestamp_garbage, {answer(401), answer(400)}).verdict, CaseVerdict::pass);
  EXPECT_EQ(judge(CaseId::timestamp_garbage, {}).verdict, CaseVerdict::inconclusive);
}

TEST(CheckJudge, ARepeatMustBeRefusedSkippedOrTheDescribedDuplicateAnswer) {
  EXPECT_EQ(judge(CaseId::replayed, {answer(200), answer(409)}).verdict, CaseVerdict::pass);
  EXPECT_EQ(judge(CaseId::replayed, {answer(200), answer(200, R"({"skip_reason":"seen"})")}).verdict,
            CaseVerdict::pass);
  const auto twice = judge(CaseId::replayed, {answer(200), answer(200)});
  EXPECT_EQ(twice.verdict, CaseVerdict::fail);
  EXPECT_NE(twice.why.find("accepted the same request twice"), std::string::npos);
  EXPECT_EQ(judge(CaseId::replayed, {answer(200), answer(500)}).verdict, CaseVerdict::fail);
  EXPECT_EQ(judge(CaseId::replayed, {answer(401), answer(401)}).verdict, CaseVerdict::inconclusive);
  EXPECT_EQ(judge(CaseId::replayed, {answer(200)}).verdict, CaseVerdict::inconclusive);

  const auto silent = *parse_duplicate_answer("200:duplicate");
  EXPECT_EQ(judge(CaseId::replayed, {answer(200, R"({"ok":1})"), answer(200, R"({"duplicate":true})")}, &silent).verdict,
            CaseVerdict::pass);
  EXPECT_EQ(judge(CaseId::replayed, {answer(200, R"({"ok":1})"), answer(200, R"({"ok":1})")}, &silent).verdict,
            CaseVerdict::fail);
  const auto vague = *parse_duplicate_answer("2xx");
  EXPECT_EQ(judge(CaseId::replayed, {answer(200), answer(200)}, &vague).verdict, CaseVerdict::inconclusive);
  EXPECT_EQ(parse_duplicate_answer("208")->expectation.any_of.front().status, 208);
  EXPECT_FALSE(parse_duplicate_answer("200:").ok());
  EXPECT_FALSE(parse_duplicate_answer("abc").ok());
}

// --- Running ---

// Answers every request with `answer_for(request bytes)`, recording them.
class FakeSender : public CaseSender {
 public:
  std::function<CaseAnswer(const std::string& head)> answer_for;
  std::vector<std::string> heads;
  std::vector<std::uint64_t> batches;

  Status send(std::uint64_t count, const std::function<void(std::uint64_t, OutgoingRequest&)>& build,
              const std::function<void(Delivered&)>& done, const std::atomic<bool>& stop) override {
    batches.push_back(count);
    for (std::uint64_t job = 0; job < count && !stop.load(); ++job) {
      OutgoingRequest out;
      build(job, out);
      heads.push_back(out.head);
      auto delivered = answer_for(out.head).delivered;
      delivered.job = job;
      done(delivered);
    }
    return ok_status();
  }
};

BatteryRun battery_run(std::vector<std::string>* order) {
  BatteryRun run;
  run.keys = v1a_keys();
  run.context = [] { return context(); };
  run.on_case = [order](const CaseResult& r) { order->emplace_back(r.info->name); };
  return run;
}

TEST(CheckRun, EveryCaseIsReportedOnceInBatteryOrder) {
  std::vector<std::string> order;
  auto run = battery_run(&order);
  FakeSender sender;
  // genuine needs a 2xx: answer it by its place (the first request).
  bool first = true;
  sender.answer_for = [&first](const std::string& head) {
    const bool was_first = first;
    first = false;
    return answer(was_first ? 200 : (head.rfind("GET", 0) == 0 ? 405 : 401));
  };
  const auto results = *run_battery(run, sender);
  ASSERT_EQ(order.size(), 25u);
  for (std::size_t i = 0; i < order.size(); ++i) {
    EXPECT_EQ(order[i], check_battery()[i].name);
  }
  EXPECT_EQ(sender.batches, (std::vector<std::uint64_t>{1, 26})) << "genuine alone, then the rest (skip: v1a-and-v1)";
  EXPECT_EQ(results[static_cast<std::size_t>(CaseId::genuine_v1a_and_v1)].judgement.verdict, CaseVerdict::skipped);
  EXPECT_EQ(results[static_cast<std::size_t>(CaseId::stale)].judgement.verdict, CaseVerdict::pass);
  EXPECT_EQ(results[static_cast<std::size_t>(CaseId::genuine_near_edge)].judgement.verdict, CaseVerdict::fail);
  EXPECT_EQ(results[static_cast<std::size_t>(CaseId::replayed)].answers.size(), 2u);
}

TEST(CheckRun, ARefusedGenuineRequestSendsNothingElse) {
  std::vector<std::string> order;
  auto run = battery_run(&order);
  FakeSender sender;
  sender.answer_for = [](const std::string&) { return answer(401); };
  const auto results = *run_battery(run, sender);
  EXPECT_EQ(sender.heads.size(), 1u);
  EXPECT_EQ(results[0].judgement.verdict, CaseVerdict::fail);
  for (std::size_t i = 1; i < results.size(); ++i) {
    EXPECT_EQ(results[i].judgement.verdict, CaseVerdict::inconclusive) << results[i].info->name;
    EXPECT_TRUE(results[i].answers.empty());
  }
  EXPECT_EQ(order.size(), 25u);
}

TEST(CheckRun, EveryRequestOfARunHasItsOwnWebhookId) {
  std::vector<std::string> order;
  auto run = battery_run(&order);
  FakeSender sender;
  bool first = true;
  sender.answer_for = [&first](const std::string&) {
    const bool was_first = first;
    first = false;
    return answer(was_first ? 200 : 401);
  };
  (void)*run_battery(run, sender);
  std::set<std::string> ids;
  std::size_t with_id = 0;
  for (const auto& head : sender.heads) {
    const auto at = head.find("\r\nwebhook-id: ");
    if (at != std::string::npos) {
      ++with_id;
      ids.insert(head.substr(at + 14, 36));
    }
  }
  EXPECT_GT(with_id, 20u);
  EXPECT_EQ(ids.size() + 1, with_id) << "only replayed sends one id twice";
}

// Fails the second batch: nothing can be sent after genuine.
class FailingSender : public FakeSender {
 public:
  Status send(std::uint64_t count, const std::function<void(std::uint64_t, OutgoingRequest&)>& build,
              const std::function<void(Delivered&)>& done, const std::atomic<bool>& stop) override {
    if (!batches.empty()) {
      return make_error(ErrorCode::network, "gone");
    }
    return FakeSender::send(count, build, done, stop);
  }
};

TEST(CheckRun, ASenderThatFailsLaterIsTheRunsError) {
  std::vector<std::string> order;
  auto run = battery_run(&order);
  FailingSender sender;
  sender.answer_for = [](const std::string&) { return answer(200); };
  const auto results = run_battery(run, sender);
  ASSERT_FALSE(results.ok());
  EXPECT_EQ(results.error().message, "gone");
  EXPECT_EQ(order.front(), "genuine") << "what was judged before was reported";
}

TEST(CheckBuild, EachCaseGetsAFreshExecutionId) {
  const std::string body = R"({"data":{"org_id":"1","execution_id":"fixed"},"x":"Köln"})";
  const auto a = only(build_case(CaseId::genuine, context(body), v1a_keys()));
  const auto b = only(build_case(CaseId::genuine, context(body), v1a_keys()));
  const auto id_of = [](const Capture& c) { return nlohmann::json::parse(c.body)["data"]["execution_id"].get<std::string>(); };
  EXPECT_NE(id_of(a), "fixed");
  EXPECT_NE(id_of(a), id_of(b));
  EXPECT_EQ(a.body.substr(a.body.size() - 12), R"("x":"Köln"})") << "the rest as it was, compact";
  const auto replayed = build_case(CaseId::replayed, context(body), v1a_keys());
  EXPECT_EQ(id_of(replayed.requests[0]), id_of(replayed.requests[1]));
  EXPECT_EQ(with_fresh_execution_id(k_body, counting_random()), k_body) << "no execution_id: byte for byte";
  EXPECT_EQ(with_fresh_execution_id("[1]", counting_random()), "[1]");
}

TEST(CheckRun, AnEndpointThatGoesAwayIsNotSentTheRest) {
  std::vector<std::string> order;
  auto run = battery_run(&order);
  FakeSender sender;
  int n = 0;
  sender.answer_for = [&n](const std::string&) {
    ++n;
    return n == 1 ? answer(200) : (n < 4 ? answer(401) : failure(Delivery::unreachable, "can't connect"));
  };
  const auto results = *run_battery(run, sender);
  EXPECT_EQ(sender.heads.size(), 4u) << "genuine, two answered, the one that found nobody";
  const auto& gone = results[static_cast<std::size_t>(CaseId::tampered_id)];
  EXPECT_EQ(gone.judgement.verdict, CaseVerdict::inconclusive);
  EXPECT_EQ(gone.judgement.why, "the endpoint could not be reached: can't connect");
  const auto& after = results[static_cast<std::size_t>(CaseId::stale)];
  EXPECT_EQ(after.judgement.verdict, CaseVerdict::inconclusive);
  EXPECT_EQ(after.judgement.why, "not run: the endpoint could not be reached after tampered-id");
  EXPECT_TRUE(after.answers.empty());
  EXPECT_EQ(order.size(), 25u);
}

TEST(CheckRun, LeftOutCasesAreSkippedWithTheirReason) {
  std::vector<std::string> order;
  auto run = battery_run(&order);
  run.left_out.assign(check_battery().size(), "not named");
  run.left_out[0].clear();
  run.left_out[static_cast<std::size_t>(CaseId::stale)].clear();
  FakeSender sender;
  sender.answer_for = [](const std::string& head) {
    return answer(head.find("webhook-timestamp: 1750000000\r\n") != std::string::npos ? 200 : 401);
  };
  const auto results = *run_battery(run, sender);
  EXPECT_EQ(sender.heads.size(), 2u);
  EXPECT_EQ(results[static_cast<std::size_t>(CaseId::stale)].judgement.verdict, CaseVerdict::pass);
  EXPECT_EQ(results[static_cast<std::size_t>(CaseId::oversized)].judgement.verdict, CaseVerdict::skipped);
  EXPECT_EQ(results[static_cast<std::size_t>(CaseId::oversized)].judgement.why, "not named");
  EXPECT_EQ(results[static_cast<std::size_t>(CaseId::stale)].requests.size(), 1u);
  EXPECT_EQ(results[static_cast<std::size_t>(CaseId::stale)].sent, "a request signed 360 s ago (tolerance 300 s)");
}

}  // namespace
}  // namespace epilot
