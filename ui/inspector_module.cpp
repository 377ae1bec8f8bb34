// The web inspector's HTTP server, on cpp-httplib. Built as a shared object
// that `listen` loads only when the inspector is asked for: linking
// cpp-httplib into the tool would add its loading time to every command.
// It only carries bytes; what they mean is lib/epilot/inspector's.

#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "lib/epilot/inspector_service.hpp"
#include "ui/bounded_server.hpp"

namespace epilot::ui {

namespace {

// How long an event stream waits for a request before it writes a comment:
// a client that went away is found then, and its thread freed.
constexpr std::chrono::seconds k_event_wait{2};
// One thread per connection: the event streams of a few tabs, and the rest.
constexpr std::size_t k_threads = 16;
// The API takes small JSON bodies only (a longer Content-Length is a 413).
constexpr std::size_t k_max_body = 64 * 1024;
// What one connection may cost: a request's head (cpp-httplib refuses a line
// over 8 KiB itself) and body, chunk sizes included, in 10 s; 5 s without
// progress; 2 s between requests, and 20 requests.
constexpr ConnectionLimits k_limits{
    .max_request_bytes = 32 * 1024 + k_max_body + 8 * 1024,
    .request_timeout = std::chrono::seconds(10),
    .io_timeout = std::chrono::seconds(5),
    .keep_alive = std::chrono::seconds(2),
    .max_requests = 20,
};

InspectorRequest to_request(const httplib::Request& request) {
  InspectorRequest out;
  out.method = request.method;
  out.path = request.path;
  out.query.assign(request.params.begin(), request.params.end());
  out.headers.assign(request.headers.begin(), request.headers.end());
  out.body = request.body;
  return out;
}

void stream_events(InspectorService* service, std::uint64_t after, httplib::Response& response) {
  const auto next = [service, after](std::size_t, httplib::DataSink& sink) mutable {
    auto text = service->next_events(after, k_event_wait);
    if (!text) {
      sink.done();  // the inspector is closing
      return true;
    }
    if (text->empty()) {
      *text = ": idle\n\n";
    }
    return sink.write(text->data(), text->size());
  };
  const auto ended = [service](bool) { service->stream_ended(); };
  response.set_chunked_content_provider("text/event-stream", next, ended);
}

void serve(InspectorService* service, const httplib::Request& request, httplib::Response& response) {
  auto answer = service->handle(to_request(request));
  response.status = answer.status;
  for (const auto& [name, value] : answer.headers) {
    response.headers.erase(name);  // the default of the same name (below)
    response.set_header(name, value);
  }
  if (answer.event_stream) {
    stream_events(service, answer.stream_after, response);
  } else {
    response.set_content(answer.body, answer.content_type);
  }
}

class HttplibInspector final : public InspectorServer {
 public:
  explicit HttplibInspector(InspectorService* service) : m_server(k_limits) {
    m_server.new_task_queue = [] { return new httplib::ThreadPool(k_threads); };
    const auto handler = [service](const httplib::Request& request, httplib::Response& response) {
      serve(service, request, response);
    };
    m_server.Get(".*", handler).Post(".*", handler).Put(".*", handler).Patch(".*", handler);
    m_server.Delete(".*", handler).Options(".*", handler);
    m_server.set_payload_max_length(k_max_body);
    // For the answers cpp-httplib gives itself (400, 413, 415): the service
    // gives the same on all of its own.
    m_server.set_default_headers({{"Cache-Control", "no-store"},
                                  {"X-Content-Type-Options", "nosniff"},
                                  {"Cross-Origin-Resource-Policy", "same-origin"}});
    // cpp-httplib's default adds SO_REUSEPORT, with which a second program
    // could bind the same port and take a share of the page's connections.
    m_server.set_socket_options([](socket_t sock) {
      const int on = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    });
  }

  bool start(int port) {
    m_port = port == 0 ? m_server.bind_to_any_port("127.0.0.1") : port;
    if (m_port <= 0 || (port != 0 && !m_server.bind_to_port("127.0.0.1", port))) {
      return false;
    }
    m_thread = std::thread([this] {
      // A page closed mid-answer must not raise SIGPIPE and end listen.
      // BoundedServer's writes say MSG_NOSIGNAL; the mask is for anything
      // cpp-httplib might write by itself. Its pool threads, started from
      // this one, inherit it.
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
      m_server.listen_after_bind();
      m_done = true;
    });
    // stop() does nothing to a server that is not yet running, and the
    // thread would then serve for ever: wait until it runs.
    while (!m_server.is_running() && !m_done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return !m_done;
  }

  ~HttplibInspector() override { stop(); }

  int port() const override { return m_port; }

  void stop() override {
    m_server.stop();
    // stop() waits for every connection to end, and one whose client sends
    // nothing more would hold it up to its timeouts.
    m_server.shut_connections();
    if (m_thread.joinable()) {
      m_thread.join();
    }
  }

 private:
  BoundedServer m_server;
  std::thread m_thread;
  std::atomic<bool> m_done{false};
  int m_port = 0;
};

}  // namespace

}  // namespace epilot::ui

extern "C" __attribute__((visibility("default"))) epilot::InspectorServer* epilot_start_inspector_v2(
    epilot::InspectorService* service, int port, std::string* error) {
  auto server = std::make_unique<epilot::ui::HttplibInspector>(service);
  if (!server->start(port)) {
    *error = "cannot listen on 127.0.0.1:" + std::to_string(port) + " (another program may have it)";
    return nullptr;
  }
  return server.release();
}
