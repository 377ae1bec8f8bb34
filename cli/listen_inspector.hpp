#pragma once

// `listen --ui`: the web inspector of the requests listen receives, served
// by the module in ui/ (on cpp-httplib), which is loaded only here.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lib/epilot/inspector.hpp"
#include "lib/epilot/request_log.hpp"

namespace epilot::cli {

struct InspectorSettings {
  int port = 0;                                      // 0: a free one
  std::string listen_url;                            // where a replay to listen goes: listen's own address
  std::string app_url;                               // --forward-to; empty: none
  std::chrono::milliseconds listen_timeout{10'000};  // how long a replay to listen may take
  std::chrono::milliseconds app_timeout{10'000};     // and one to the app
  webhook::VerifyKeys keys;
  std::int64_t tolerance = k_default_tolerance_seconds;
  std::optional<webhook::PrivateKey> private_key;  // re-signs v1a
  std::string ca_cert;                             // for an https app
  std::size_t max_bytes = 256 * 1024 * 1024;       // kept in memory, the oldest dropped beyond
};

class ListenInspector {
 public:
  // Load the module and serve the inspector; fails (exit 2) when the
  // module is missing or the port is taken.
  static std::unique_ptr<ListenInspector> start(const InspectorSettings& settings);
  ~ListenInspector();
  ListenInspector(const ListenInspector&) = delete;
  ListenInspector& operator=(const ListenInspector&) = delete;

  std::string url() const;
  void add(LoggedRequest request) { m_log.add(std::move(request)); }
  // Ends the event streams and stops serving; the page's requests in
  // progress finish first.
  void stop();

 private:
  explicit ListenInspector(const InspectorSettings& settings) : m_log(settings.max_bytes) {}
  http::Forwarded send(ReplayTarget target, const http::wire::Request& request);

  RequestLog m_log;
  std::unique_ptr<http::Forwarder> m_to_listen;
  std::unique_ptr<http::Forwarder> m_to_app;
  std::unique_ptr<Inspector> m_inspector;
  std::unique_ptr<InspectorServer> m_server;
};

// The page, embedded at build time from ui/inspector.html.
std::string_view inspector_page();

}  // namespace epilot::cli
