// The web inspector's API (lib/epilot/inspector) over any request the page's
// port may get: every method, path, query, header and body is answered with
// a known status and, for JSON answers, JSON; never a crash.
//
// Input: "METHOD PATH" on the first line, then "?name=value" lines (the
// query, decoded), then "Name: value" lines (headers, after a right Host),
// a blank line and the body. The run's token is 32 zeros (the randomness
// is all zero bytes), so inputs can reach a replay.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "lib/epilot/inspector.hpp"

namespace {

epilot::InspectorRequest parse(std::string_view text) {
  epilot::InspectorRequest request;
  request.headers.emplace_back("Host", "127.0.0.1:4040");
  auto next_line = [&] {
    const auto eol = text.find('\n');
    const auto line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    return line;
  };
  const auto first = next_line();
  const auto space = first.find(' ');
  request.method = std::string(first.substr(0, space));
  request.path = space == std::string_view::npos ? "/" : std::string(first.substr(space + 1));
  for (auto line = next_line(); !line.empty(); line = next_line()) {
    const auto cut = line.find(line.front() == '?' ? '=' : ':');
    const auto name = std::string(line.substr(line.front() == '?' ? 1 : 0,
                                              cut == std::string_view::npos ? 0 : cut - (line.front() == '?' ? 1 : 0)));
    const auto value = cut == std::string_view::npos ? std::string(line) : std::string(line.substr(cut + 1));
    (line.front() == '?' ? request.query : request.headers).emplace_back(name, value);
  }
  request.body = std::string(text);
  return request;
}

epilot::LoggedRequest logged(std::optional<epilot::webhook::Capture> capture, std::string verdict) {
  epilot::LoggedRequest r;
  r.at_ms = 1700000000000;
  r.method = "POST";
  r.path = "/hook";
  r.verdict = std::move(verdict);
  if (capture) {
    r.received = epilot::Received{};
    r.received->request = std::move(*capture);
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static epilot::RequestLog log(1 << 20);
  static std::unique_ptr<epilot::Inspector> inspector = [] {
    epilot::webhook::Capture c;
    c.method = "POST";
    c.url = "http://127.0.0.1:3000/hook?x=1";
    c.headers = {{"webhook-id", "msg_1"}, {"webhook-timestamp", "1700000000"}, {"webhook-signature", "v1,AAAA"}};
    c.body = "{\"a\":[1,2,{\"b\":\"\xff\"}]}";
    log.add(logged(c, "signature_mismatch"));
    log.add(logged(std::nullopt, "refused"));
    epilot::InspectorConfig config;
    config.page = "<meta content=\"{{token}}\">{{nonce}}";
    config.listen_url = "http://127.0.0.1:3000";
    config.app_url = "http://127.0.0.1:8080";
    config.secrets.push_back(*epilot::webhook::parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    config.now = [] { return std::int64_t{1700000000}; };
    config.random = [](std::uint8_t* out, std::size_t n) { std::fill(out, out + n, 0); };
    config.send = [](epilot::ReplayTarget, const epilot::http::wire::Request&) {
      epilot::http::Forwarded f;
      f.answer.status = 200;
      return f;
    };
    auto made = std::make_unique<epilot::Inspector>(std::move(config), log);
    made->set_port(4040);
    return made;
  }();
  const auto request = parse(std::string_view(reinterpret_cast<const char*>(data), size));
  const auto answer = inspector->handle(request);
  switch (answer.status) {
    case 200:
    case 400:
    case 403:
    case 404:
    case 405:
    case 409:
    case 503:
      break;
    default:
      std::abort();
  }
  if (answer.content_type == "application/json" && nlohmann::json::parse(answer.body, nullptr, false).is_discarded()) {
    std::abort();
  }
  if (answer.event_stream) {
    auto after = answer.stream_after;
    if (!inspector->next_events(after, std::chrono::milliseconds(0))) {
      std::abort();
    }
    inspector->stream_ended();  // as the module does once a stream ends
  }
  return 0;
}
