#pragma once

// The seam between the web inspector's logic (lib/epilot/inspector) and the
// module that serves it over HTTP (ui/, on cpp-httplib). The module is a
// shared object that `listen` loads only when the inspector is asked for,
// so that no other command pays for loading cpp-httplib: this header is all
// the module sees, standard types and virtual calls only.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace epilot {

using TextPairs = std::vector<std::pair<std::string, std::string>>;

struct InspectorRequest {
  std::string method;
  std::string path;  // decoded, without the query
  TextPairs query;   // decoded
  TextPairs headers;
  std::string body;

  // Inline: the module links nothing of the library.
  const std::string* header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key.size() == name.size() && std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          })) {
        return &value;
      }
    }
    return nullptr;
  }
  const std::string* param(std::string_view name) const {
    for (const auto& [key, value] : query) {
      if (key == name) {
        return &value;
      }
    }
    return nullptr;
  }
};

struct InspectorAnswer {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  TextPairs headers;
  // A stream of Server-Sent Events: the module writes next_events() from
  // `stream_after` on, until the client leaves or the inspector closes.
  bool event_stream = false;
  std::uint64_t stream_after = 0;
};

class InspectorService {
 public:
  virtual ~InspectorService() = default;
  virtual InspectorAnswer handle(const InspectorRequest& request) = 0;
  // The events after `after` as Server-Sent Events text, moving `after` on;
  // waits up to `wait` for one. "" when none came, nullopt once closed.
  virtual std::optional<std::string> next_events(std::uint64_t& after, std::chrono::milliseconds wait) = 0;
  // An event stream handle() opened has ended (the client left, or the
  // inspector closed): each such answer is followed by exactly one call.
  virtual void stream_ended() = 0;
};

// What the module returns: a server running on its own threads.
class InspectorServer {
 public:
  virtual ~InspectorServer() = default;
  virtual int port() const = 0;
  // Stops accepting and waits for the requests in progress; an event
  // stream ends once its service is closed.
  virtual void stop() = 0;
};

// The module's one entry point, with C linkage so that dlsym finds it by
// this name: serve `service` on 127.0.0.1:`port` (0: a free one). Null,
// with `error` set, when it cannot listen. The version of this seam is in
// the name, raised whenever it changes: a module of another version is not
// found rather than misused.
using StartInspector = InspectorServer* (*)(InspectorService* service, int port, std::string* error);
inline constexpr const char* k_start_inspector_symbol = "epilot_start_inspector_v2";

}  // namespace epilot
