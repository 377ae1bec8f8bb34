// The web inspector's HTTP server, on cpp-httplib. Built as a shared object
// that `listen` loads only when the inspector is asked for: linking
// cpp-httplib into the tool would add its loading time to every command.
// It only carries bytes; what they mean is lib/epilot/inspector's.

#include <arpa/inet.h>
#include <dirent.h>
#include <httplib.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include <memory>
#include <string>
#include <thread>

#include "lib/epilot/inspector_service.hpp"

namespace epilot::ui {

namespace {

// How long an event stream waits for a request before it writes a comment:
// a client that went away is found then, and its thread freed.
constexpr std::chrono::seconds k_event_wait{2};
// One thread per connection: the event streams of a few tabs, and the rest.
constexpr std::size_t k_threads = 16;
// The API takes small JSON bodies only.
constexpr std::size_t k_max_body = 64 * 1024;

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
    response.set_header(name, value);
  }
  if (answer.event_stream) {
    stream_events(service, answer.stream_after, response);
  } else {
    response.set_content(answer.body, answer.content_type);
  }
}

// Shut every connection the server accepted on `port`: its stop() waits for
// each to end, and one that sends a byte every few seconds never would (its
// read timeout starts again with every byte). cpp-httplib tells no one of
// its connections, so they are found among the process's descriptors: the
// sockets whose local end is 127.0.0.1:`port` (once the listening socket is
// closed, only those the server accepted).
void shut_connections(int port) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) {
    return;
  }
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == ::dirfd(dir)) {
      continue;
    }
    sockaddr_in local{};
    socklen_t size = sizeof local;
    if (::getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local), &size) == 0 &&
        local.sin_family == AF_INET && ntohs(local.sin_port) == port &&
        local.sin_addr.s_addr == htonl(INADDR_LOOPBACK)) {
      ::shutdown(static_cast<int>(fd), SHUT_RDWR);
    }
  }
  ::closedir(dir);
}

class HttplibInspector final : public InspectorServer {
 public:
  explicit HttplibInspector(InspectorService* service) {
    m_server.new_task_queue = [] { return new httplib::ThreadPool(k_threads); };
    const auto handler = [service](const httplib::Request& request, httplib::Response& response) {
      serve(service, request, response);
    };
    m_server.Get(".*", handler).Post(".*", handler).Put(".*", handler).Patch(".*", handler);
    m_server.Delete(".*", handler).Options(".*", handler);
    m_server.set_payload_max_length(k_max_body);
    m_server.set_read_timeout(std::chrono::seconds(5));
    m_server.set_keep_alive_timeout(2);
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
      // cpp-httplib writes without MSG_NOSIGNAL: a page closed mid-answer
      // would raise SIGPIPE and end listen. Its pool threads, started from
      // this one, inherit the mask.
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
    // Only a server that ran has connections: after a failed bind the port
    // is another's, perhaps listen's own.
    if (m_thread.joinable()) {
      shut_connections(m_port);
      m_thread.join();
    }
  }

 private:
  httplib::Server m_server;
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
