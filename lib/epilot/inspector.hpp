#pragma once

// The web inspector of `listen`, apart from HTTP: its page, its JSON API
// over the request log, and its guards. The module that serves it
// (lib/epilot/inspector_service.hpp) hands every request here.
//
//   GET  /                         the page (one document, nothing external)
//   GET  /api/info                 what listen does: its URL, the app, what re-signs
//   GET  /api/requests             the list, newest first: limit, before, after,
//                                  verdict (all|ok|failed|duplicate), q
//   GET  /api/requests/N           one request in full
//   GET  /api/requests/N/capture   its capture record, as a file
//   POST /api/requests/N/replay    send it again: {"to": "listen"|"app", "as_captured": bool}
//   GET  /api/events               Server-Sent Events, one `request` event each
//
// Guards: the Host must name the inspector itself (127.0.0.1 or localhost
// and its port), so that a web page whose name was re-pointed at 127.0.0.1
// (DNS rebinding) is refused; a browser's request from another site (its
// Sec-Fetch-Site) is refused, so that no web page can make the inspector
// work or hold its threads; a POST must carry the run's token, which only
// the inspector's own page can read, and come from that page's origin if
// it says one (CSRF).

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/epilot/inspector_service.hpp"
#include "lib/epilot/request_log.hpp"
#include "lib/http/forwarder.hpp"
#include "lib/util/crypto.hpp"
#include "lib/webhook/keys.hpp"
#include "lib/webhook/signature.hpp"

namespace epilot {

enum class ReplayTarget { listen, app };

struct InspectorConfig {
  std::string page;          // the HTML; {{token}} and {{nonce}} are filled per answer
  std::string listen_url;    // where a replay "to listen" goes
  std::string app_url;       // the app behind listen; empty: none
  webhook::VerifyKeys keys;  // listen's, for what each signature entry came to
  std::int64_t tolerance = k_default_tolerance_seconds;
  // What a replay re-signs with: v1a with the key, v1 with each secret.
  std::optional<webhook::PrivateKey> private_key = {};
  std::vector<webhook::Secret> secrets = {};
  std::function<std::int64_t()> now;  // unix seconds
  util::RandomSource random;
  // Sends one request and waits for its answer.
  std::function<http::Forwarded(ReplayTarget, const http::wire::Request&)> send;
};

class Inspector final : public InspectorService {
 public:
  Inspector(InspectorConfig config, RequestLog& log);

  // The port it is served on, known once the module has bound it: the Host
  // check needs it.
  void set_port(int port) { m_port.store(port); }
  // Ends the event streams.
  void close() { m_log.close(); }

  InspectorAnswer handle(const InspectorRequest& request) override;
  std::optional<std::string> next_events(std::uint64_t& after, std::chrono::milliseconds wait) override;
  void stream_ended() override { --m_streams; }

 private:
  bool host_allowed(const InspectorRequest& request) const;
  bool origin_allowed(const InspectorRequest& request) const;
  InspectorAnswer route(const InspectorRequest& request);
  InspectorAnswer page();
  InspectorAnswer info() const;
  InspectorAnswer list(const InspectorRequest& request) const;
  InspectorAnswer one(std::uint64_t seq) const;
  InspectorAnswer capture_file(std::uint64_t seq) const;
  InspectorAnswer replay(std::uint64_t seq, const InspectorRequest& request);
  InspectorAnswer events(const InspectorRequest& request);
  std::optional<http::wire::Request> resigned(const webhook::Capture& capture) const;

  InspectorConfig m_config;
  RequestLog& m_log;
  std::string m_token;
  std::atomic<int> m_port{0};  // set once the module bound it, read by its threads
  std::atomic<int> m_streams{0};
};

// The body of a JSON error answer: {"error": code, "message": message}.
InspectorAnswer inspector_error(int status, std::string_view code, std::string_view message);

}  // namespace epilot
