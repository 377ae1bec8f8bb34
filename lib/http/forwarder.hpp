#pragma once

// The proxy in `listen`: each request goes on to one target (the app
// under development) as it came, over kept-alive connections, and the
// target's answer comes back whole, every field kept, for the server to
// relay. A request the target does not answer ends as unreachable, broken
// or timed out, never as silence.
//
// A pool of threads, each with its own connection, takes the requests in
// turn: forwarding waits on the app, so it runs off the server's event
// loops (which answer through a Responder when it is done).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "lib/http/response.hpp"
#include "lib/http/server.hpp"
#include "lib/http/transport.hpp"
#include "lib/http/url.hpp"
#include "lib/http/wire.hpp"
#include "lib/util/error.hpp"

namespace epilot::http {

struct ForwardOptions {
  std::chrono::milliseconds timeout{10000};  // connecting, sending and the whole answer, per request
  std::string ca_cert = {};  // extra trust anchors for an https target (= {}: designated initializers may leave it out)
  unsigned connections = 8;  // requests to the target at once; more wait their turn
  std::size_t max_answer = 16 * 1024 * 1024;  // a larger body is a broken answer
  // A kept-alive connection that breaks within this long of the request's
  // sending, unanswered, was closed by the target as the request went out.
  std::chrono::milliseconds at_once{100};
};

enum class ForwardOutcome {
  answered,     // a complete answer (any status)
  unreachable,  // no connection could be made
  timeout,      // no complete answer within the timeout
  broken,       // the connection broke, or the answer was not HTTP
};
std::string_view to_code(ForwardOutcome outcome);

struct Forwarded {
  ForwardOutcome outcome = ForwardOutcome::answered;
  HttpResponse answer;                  // answered: the target's, its fields in answer.headers
  std::string error;                    // otherwise: what went wrong, in words
  std::chrono::nanoseconds latency{0};  // from the first byte sent to the answer's last
};

// Where a request for `request_target` goes on the target whose URL has the
// path and query `base_target`: the paths joined ("/app" and "/hook" make
// "/app/hook"), then the base's query and the request's, joined by '&'
// ("/app?k=1" and "/hook?x=2" make "/app/hook?k=1&x=2").
std::string forwarded_target(std::string_view request_target, std::string_view base_target);

// What the target is sent for `request`: its method; forwarded_target();
// its end-to-end fields as they came (Host included); a Content-Length and
// its body.
std::string forwarded_request(const wire::Request& request, std::string_view base_target);

// The answer for the caller: the target's, relayed (its end-to-end fields
// kept), or 502 / 504 with a JSON body that names the problem.
ServerResponse relayed_answer(const Forwarded& forwarded);

class Forwarder {
 public:
  using Done = std::function<void(Forwarded&& forwarded)>;
  // yes: the request may reach the target twice (it carries an idempotency
  // key, a webhook-id that verified), so one that meets a kept-alive
  // connection the target closed just then is sent again on a new one.
  enum class Replayable { no, yes };

  // Fails when the target's host does not resolve or the CA file can't be
  // read; a target that is down is found per request.
  static Result<std::unique_ptr<Forwarder>> create(const ParsedUrl& target, const ForwardOptions& options);
  // Waits for the requests being sent; those still queued are not sent,
  // and end as broken ("not sent: listen is stopping").
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Queue `request`; `done` is called once, on one of the forwarder's threads.
  void forward(const wire::Request& request, Done done, Replayable replayable = Replayable::no);

 private:
  struct Job {
    std::string bytes;
    bool head = false;
    Replayable replayable = Replayable::no;
    Done done;
    std::chrono::steady_clock::time_point deadline;  // the timeout counts from queueing: waiting is waiting
  };
  struct Link;

  Forwarder(const ParsedUrl& target, const ForwardOptions& options);
  void serve();
  Forwarded send(Link& link, const Job& job);
  bool worth_retrying(const Job& job, const Forwarded& first, bool reused, bool silent) const;
  Forwarded connect_and_exchange(Link& link, const Job& job, bool& silent);
  Forwarded exchange(Link& link, const Job& job, bool& silent);

  ParsedUrl m_target;
  ForwardOptions m_options;
  std::vector<Address> m_addresses;
  std::unique_ptr<TlsClient> m_tls;
  std::mutex m_mutex;
  std::condition_variable m_ready;
  std::queue<Job> m_jobs;
  bool m_stopping = false;
  std::vector<std::thread> m_threads;
};

}  // namespace epilot::http
