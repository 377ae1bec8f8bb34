#include "lib/epilot/check_battery.hpp"

#include <gtest/gtest.h>

#include <set>

#include "tests/unit/check_support.hpp"

namespace epilot {
namespace {

using namespace epilot::test;

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

// --- Judging ---

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
  const auto closed = judge(CaseId::forged_key, {failure(http::Delivery::broken)});
  EXPECT_EQ(closed.verdict, CaseVerdict::pass) << "not fooled either";
  EXPECT_NE(closed.why.find("closing the connection"), std::string::npos);
  EXPECT_EQ(judge(CaseId::forged_key, {failure(http::Delivery::timeout)}).verdict, CaseVerdict::inconclusive);
  EXPECT_EQ(judge(CaseId::forged_key, {failure(http::Delivery::unreachable)}).verdict, CaseVerdict::inconclusive);
}

TEST(CheckJudge, GenuineCasesWantA2xx) {
  EXPECT_EQ(judge(CaseId::genuine, {answer(204, "")}).verdict, CaseVerdict::pass);
  EXPECT_EQ(judge(CaseId::genuine_near_edge, {answer(200, R"({"skip_reason":"x"})")}).verdict, CaseVerdict::pass);
  const auto refused = judge(CaseId::genuine_noncanonical_json, {answer(401, R"({"error":"bad"})")});
  EXPECT_EQ(refused.verdict, CaseVerdict::fail);
  EXPECT_EQ(refused.why, R"(expected 2xx, got 401 other: HTTP 401: {"error":"bad"})");
  EXPECT_EQ(judge(CaseId::genuine, {failure(http::Delivery::timeout)}).verdict, CaseVerdict::fail);
}

TEST(CheckJudge, RobustnessCasesWantA4xxNotACrashOrAHang) {
  EXPECT_EQ(judge(CaseId::missing_id, {answer(400)}).verdict, CaseVerdict::pass);
  EXPECT_EQ(judge(CaseId::missing_id, {answer(500)}).verdict, CaseVerdict::fail);
  EXPECT_EQ(judge(CaseId::missing_id, {answer(200)}).verdict, CaseVerdict::fail);
  EXPECT_NE(judge(CaseId::missing_id, {failure(http::Delivery::timeout)}).why.find("hangs"), std::string::npos);
  EXPECT_NE(judge(CaseId::missing_id, {failure(http::Delivery::broken)}).why.find("crashed"), std::string::npos);
  EXPECT_EQ(judge(CaseId::oversized, {failure(http::Delivery::broken)}).verdict, CaseVerdict::pass);
  EXPECT_EQ(judge(CaseId::oversized, {answer(413)}).verdict, CaseVerdict::pass);
  EXPECT_EQ(judge(CaseId::oversized, {answer(200)}).verdict, CaseVerdict::fail);
  EXPECT_EQ(judge(CaseId::oversized, {failure(http::Delivery::timeout)}).verdict, CaseVerdict::fail);
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

  DuplicateAnswer silent;
  silent.expectation.any_of = {{200, 0, std::nullopt}};
  silent.body_text = "duplicate";
  EXPECT_EQ(
      judge(CaseId::replayed, {answer(200, R"({"ok":1})"), answer(200, R"({"duplicate":true})")}, &silent).verdict,
      CaseVerdict::pass);
  EXPECT_EQ(judge(CaseId::replayed, {answer(200, R"({"ok":1})"), answer(200, R"({"ok":1})")}, &silent).verdict,
            CaseVerdict::fail);
  DuplicateAnswer vague;
  vague.expectation.any_of = {{0, 2, std::nullopt}};
  EXPECT_EQ(judge(CaseId::replayed, {answer(200), answer(200)}, &vague).verdict, CaseVerdict::inconclusive);
}

}  // namespace
}  // namespace epilot
