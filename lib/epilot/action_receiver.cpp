#include "lib/epilot/action_receiver.hpp"

#include <nlohmann/json.hpp>

#include "lib/webhook/capture_json.hpp"

namespace epilot {

http::HttpResponse to_http_response(Answer answer) {
  http::HttpResponse response;
  response.status = answer.status;
  response.body = std::move(answer.body);
  response.content_type = "application/json";
  return response;
}

namespace {

using Json = nlohmann::ordered_json;

std::string dump(const Json& doc) { return doc.dump(-1, ' ', false, Json::error_handler_t::replace); }

Json reasons_json(const std::vector<webhook::Reason>& reasons) {
  auto list = Json::array();
  for (const auto& r : reasons) {
    list.push_back({{"code", to_code(r.code)}, {"message", r.message}});
  }
  return list;
}

}  // namespace

bool Receiver::seen_before(const std::string& id, std::int64_t now) {
  std::lock_guard lock(m_mutex);
  // A replay older than the tolerance fails the timestamp check anyway, so ids
  // need only be kept that long (twice, for clocks running ahead).
  const auto window = 2 * m_config.tolerance;
  if (now - m_last_prune > window) {
    std::erase_if(m_seen, [&](const auto& entry) { return now - entry.second > window; });
    m_last_prune = now;
  }
  const auto [it, inserted] = m_seen.try_emplace(id, now);
  if (!inserted && now - it->second <= window) {
    return true;
  }
  it->second = now;
  return false;
}

void Receiver::forget(const std::string& id) {
  std::lock_guard lock(m_mutex);
  m_seen.erase(id);
}

Received Receiver::handle(webhook::Capture request, std::int64_t now) {
  Received out;
  out.received_at = now;
  webhook::VerifyPolicy policy;
  policy.now = now;
  policy.tolerance = m_config.tolerance;
  out.result = verify_one(request, m_config.keys, m_config.other_keys, policy);
  out.request = std::move(request);
  const bool verified = out.result.verification.ok();

  if (!verified && !m_config.accept_unsigned) {
    Json body;
    body["error"] = "unauthorized";
    body["verdict"] = to_code(out.result.verification.verdict);
    body["reasons"] = reasons_json(out.result.reasons);
    out.answer = {401, dump(body)};
    return out;
  }
  if (verified && !m_config.allow_duplicates && seen_before(out.result.verification.id, now)) {
    out.duplicate = true;
    Json body;
    body["error"] = "duplicate";
    body["webhook_id"] = out.result.verification.id;
    body["message"] = "this webhook-id was already received within the tolerance window";
    out.answer = {k_duplicate_status, dump(body)};
    return out;
  }
  Answer answer;
  switch (m_config.shape) {
    case AnswerShape::success:
      answer = {200, "{}"};
      break;
    case AnswerShape::skip:
      answer = {200, dump(Json{{"skip_reason", m_config.reason}})};
      break;
    case AnswerShape::fail:
      answer = {422, dump(Json{{"error_output",
                                {{"error_reason", m_config.reason},
                                 {"error_info", {{"details", Json::array({{{"explanation", m_config.reason}}})}}}}}})};
      break;
  }
  if (m_config.status != 0) {
    answer.status = m_config.status;
  }
  if (m_config.body) {
    answer.body = *m_config.body;
  }
  out.answer = std::move(answer);
  return out;
}

std::string received_record(const Received& received) {
  // The native capture, so that every capture reader reads it, plus the outcome.
  auto doc = capture_to_json(received.request);
  const auto& v = received.result.verification;
  doc["received_at"] = received.received_at;
  doc["verdict"] = to_code(v.verdict);
  if (v.match) {
    doc["matched"] = {{"version", v.match->version}, {"key", v.match->key_name}};
  }
  doc["reasons"] = reasons_json(received.result.reasons);
  doc["duplicate"] = received.duplicate;
  doc["status"] = received.answer.status;
  if (const auto& f = received.forwarded) {
    Json note;
    note["outcome"] = http::to_code(f->outcome);
    note["status"] = f->outcome == http::ForwardOutcome::answered ? Json(f->status) : Json();
    note["ms"] = f->milliseconds;
    if (!f->error.empty()) {
      note["error"] = f->error;
    }
    note["unverified"] = f->unverified;
    doc["forwarded"] = std::move(note);
  }
  return dump(doc) + "\n";
}

}  // namespace epilot
