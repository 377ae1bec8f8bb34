#pragma once

// The local resume endpoint on 127.0.0.1 that requests waiting for a
// callback point their data.callback_post_url at (replay judges what comes
// back; check only answers it, so that the app's callback succeeds).

#include <memory>
#include <string>
#include <thread>

#include "cli/output.hpp"
#include "lib/epilot/resume_endpoint.hpp"
#include "lib/http/server.hpp"
#include "lib/util/constants.hpp"

namespace epilot::cli {

// The local resume endpoint on 127.0.0.1, served on a thread of its own for
// as long as this lives (an error anywhere stops it cleanly).
struct CallbackEndpoint {
  CallbackBoard board;
  std::unique_ptr<http::HttpServer> server;
  std::thread thread;

  // Returns the callback URL to put into requests.
  std::string start() {
    http::ServerLimits limits;
    limits.threads = 1;
    server = std::make_unique<http::HttpServer>(limits);
    const auto port = take(server->bind("127.0.0.1", 0));
    thread =
        std::thread([this] { server->run([this](http::wire::Request&& request) { return board.receive(request); }); });
    return "http://127.0.0.1:" + std::to_string(port) + std::string(k_callback_path);
  }
  void stop() {
    if (thread.joinable()) {
      server->stop();
      thread.join();
    }
  }
  CallbackEndpoint() = default;
  CallbackEndpoint(const CallbackEndpoint&) = delete;
  CallbackEndpoint& operator=(const CallbackEndpoint&) = delete;
  ~CallbackEndpoint() { stop(); }
};

}  // namespace epilot::cli
