#pragma once

// The client under `replay`: keep-alive HTTP/1.1 connections driven by one
// epoll loop per thread, as wrk does, so that the cost of a request is the
// cost of building it (signing) and two syscalls. cpp-httplib's client blocks
// a thread per connection and sets up OpenSSL in every process; this sets up
// TLS (OpenSSL, non-blocking, certificates and host names always verified)
// only for https.
//
// Jobs are numbered 0, 1, 2, ...; whichever connection is free takes the next
// one and asks the caller to build its bytes (on that connection's thread,
// so signing runs on every core). Each job sent ends in exactly one Delivered.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/http/response_reader.hpp"
#include "lib/util/error.hpp"

namespace epilot::http {

struct LoadPlan {
  std::string host;  // a name or address; every address it resolves to is tried
  int port = 80;
  bool tls = false;     // https: the server's certificate is verified for `host`
  std::string ca_cert;  // extra trust anchors (PEM file) besides the system's
  unsigned connections = 1;
  unsigned threads = 1;                      // at most `connections` are used
  std::uint64_t total = 0;                   // jobs to run; 0 = until the deadline or stop
  double rate = 0;                           // jobs started per second, all connections together; 0 = no limit
  std::chrono::milliseconds duration{0};     // stop starting jobs after this; 0 = no deadline
  std::chrono::milliseconds timeout{10000};  // per attempt: connect, send and the whole answer
  unsigned retries = 2;                      // extra attempts after a connection error
  std::chrono::milliseconds backoff{100};    // before retry n: backoff * 2^(n-1)
  std::chrono::milliseconds max_backoff{0};  // no wait between attempts is longer than this; 0 = no cap
  // Build a job's bytes again for each retry (they carry the time of signing).
  bool rebuild_on_retry = false;
};

struct OutgoingRequest {
  std::string head;  // request line and headers, through the blank line
  std::string_view
      body;  // must stay valid until the job is delivered (point it at `storage` or at data that outlives the run)
  std::string storage;
  bool head_method = false;  // a HEAD request: its answer has no body
  std::string label;         // handed back in Delivered (replay puts the webhook-id here)
};

enum class Delivery {
  answered,     // a complete HTTP answer (any status)
  timeout,      // no complete answer within the timeout
  unreachable,  // could not connect, after the retries
  broken,       // connected, but the connection broke or the answer was not HTTP
};

std::string_view to_code(Delivery delivery);

struct Delivered {
  std::uint64_t job = 0;
  Delivery delivery = Delivery::answered;
  HttpResponse answer;                  // when answered
  std::string error;                    // otherwise: what went wrong
  std::chrono::nanoseconds latency{0};  // from the first byte sent to the last byte of the answer (last attempt)
  unsigned attempts = 0;
  std::string label;
  bool untrusted = false;  // unreachable because the certificate is not trusted (never retried)
  bool not_tls = false;    // unreachable because the server does not speak TLS there (never retried)
  enum class Failure { other, untrusted, not_tls };
};

// Called on worker thread `thread` (0 .. threads-1); calls on one thread
// never overlap, calls on different threads do.
using BuildRequest = std::function<void(unsigned thread, std::uint64_t job, OutgoingRequest& out)>;
using OnDelivered = std::function<void(unsigned thread, Delivered& delivered)>;

// Counters another thread may read while the run goes on (for a progress bar).
struct LoadProgress {
  std::atomic<std::uint64_t> delivered{0};
};

struct LoadStats {
  std::chrono::nanoseconds elapsed{0};
  std::uint64_t jobs = 0;
  std::uint64_t connections_opened = 0;
};

// Run the plan. Fails only when nothing can start (the host does not
// resolve, the CA file can't be read); every per-request failure is a Delivered. `stop`,
// when set, ends the run early (noticed within 100 ms): no new job starts, a
// job not yet sent (waiting for its rate slot, a retry, a connection or a TLS
// handshake) is dropped without a Delivered, and requests on the wire are
// delivered as usual, with their answers or their timeouts.
Result<LoadStats> run_load(const LoadPlan& plan, const BuildRequest& build, const OnDelivered& on_delivered,
                           LoadProgress* progress = nullptr, const std::atomic<bool>* stop = nullptr);

}  // namespace epilot::http
