#pragma once

// What `replay` sends: the requests it was given (fixtures and captures),
// and turning request N into bytes at the moment it is sent: re-signed with
// a fresh webhook-id and timestamp (or exactly as captured), placeholders
// filled, the callback URL pointed at the local callback endpoint, and an
// x-epilot-token passed through or made up.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/epilot/templates.hpp"
#include "lib/http/load_client.hpp"
#include "lib/util/error.hpp"
#include "lib/webhook/capture.hpp"
#include "lib/webhook/keys.hpp"

namespace epilot {

struct ReplayItem {
  std::string name;          // for reports and expectations: a fixture's name, a path, path#N in a file of several
  std::string source;        // the input it came from (a path, or the fixture's name)
  webhook::Capture capture;  // for a fixture: its headers, and its body when it has no placeholders
  const Fixture* fixture = nullptr;  // set for fixtures
};

enum class SendMode { resign, as_is };
enum class TokenMode { keep, given, mock };

struct ReplayRequestOptions {
  std::string host;    // the Host header
  std::string target;  // path and query every request goes to
  SendMode mode = SendMode::resign;
  std::optional<webhook::PrivateKey> private_key;         // v1a
  std::vector<webhook::Secret> secrets;                   // v1, one entry each
  bool keep_id = false;                                   // reuse each request's webhook-id on every send
  std::vector<http::Header> headers;                      // added to, or replacing, every request's own
  std::vector<std::pair<std::string, std::string>> sets;  // field overrides, applied to every body
  TokenMode token_mode = TokenMode::keep;
  std::string token;                             // TokenMode::given
  std::optional<webhook::PrivateKey> token_key;  // TokenMode::mock: the run's throwaway signing key
  std::string user_agent;                        // sent unless the request has its own
  std::string callback_url;                      // empty: no callback flow
};

// The clock, randomness and placeholder values, passed in.
struct SendContext {
  std::function<std::int64_t()> now_ms;  // unix milliseconds
  FillContext fill;                      // its now_ms is replaced at every send
};

struct CallbackRequest {
  std::uint64_t job = 0;
  std::string resume_token;
};

class RequestRenderer {
 public:
  // Checks every item once (headers, placeholders, JSON for the overrides); the
  // first problem is the error. `threads` is how many worker threads render.
  static Result<std::unique_ptr<RequestRenderer>> create(std::vector<ReplayItem> items, ReplayRequestOptions options,
                                                         SendContext context, unsigned threads);

  // Job N sends item N % size(). Runs on worker thread `thread`; never fails
  // (create() checked everything that could). A callback request reports its
  // resume token through `on_callback` before it is sent.
  void render(unsigned thread, std::uint64_t job, http::OutgoingRequest& out);

  std::function<void(const CallbackRequest&)> on_callback;

  const std::vector<ReplayItem>& items() const { return m_items; }
  std::size_t item_of(std::uint64_t job) const { return static_cast<std::size_t>(job % m_items.size()); }
  bool is_callback(std::size_t item) const { return m_prepared[item].callback; }
  // True when job N sends a webhook-id an earlier job sent (keep_id on a
  // second round, captures sent as they are, two inputs with one id): what
  // an endpoint that deduplicates must recognise.
  bool is_repeat(std::uint64_t job) const;

 private:
  struct Prepared {
    std::string prefix;            // request line and the headers that never change
    std::string body;              // the body (for a dynamic fixture, as filled by create())
    bool dynamic = false;          // a fixture with placeholders: filled at every send
    bool callback = false;         // wait_for_callback: callback_post_url and resume_token are set per send
    std::string kept_id;           // for keep_id
    bool repeats_earlier = false;  // an earlier item sends the same kept id
    std::string org_id;            // for TokenMode::mock
  };
  struct ThreadState {
    // Random bytes drawn from the RandomSource in blocks: OpenSSL's
    // RAND_bytes checks getpid() on every call, a syscall per request.
    std::array<std::uint8_t, 4096> pool{};
    std::size_t pool_used = 4096;
    std::int64_t second = -1;
    std::string timestamp;
    std::string scratch;
    std::vector<std::pair<std::int64_t, std::string>> tokens;  // per item: issued at, mock token
  };

  RequestRenderer() = default;
  bool ids_kept(std::size_t item) const;
  void mark_repeated_ids();
  // The header lines but host and the signature's; a Content-Type for `body`
  // when the request has none.
  Result<std::string> header_lines(const ReplayItem& item, const std::vector<http::Header>& own,
                                   std::string_view body) const;
  Result<std::string> body_for_send(std::size_t index, const SendContext& context,
                                    std::vector<http::Header>* headers) const;
  void random_bytes(ThreadState& state, std::uint8_t* out, std::size_t size) const;
  std::string message_id(ThreadState& state) const;
  void sign_into(ThreadState& state, std::string_view id, std::string_view body, std::string& head) const;

  std::vector<ReplayItem> m_items;
  std::vector<Prepared> m_prepared;
  ReplayRequestOptions m_options;
  SendContext m_context;
  std::vector<ThreadState> m_threads;
};

// True when `body` is a custom action that waits for a callback: it carries
// data.callback_post_url or data.resume_token, or its action_config says
// wait_for_callback.
bool waits_for_callback(std::string_view body);

// `body` with data.callback_post_url and data.resume_token set (compact JSON).
Result<std::string> with_callback(std::string_view body, const std::string& url, const std::string& token);

// The org a mock x-epilot-token names: the body's data.org_id, else
// epilot's example org.
std::string org_id_of(std::string_view body);

// HTTP framing and connection headers a captured request carries that must
// not be sent again as they were (Host, Content-Length, Transfer-Encoding,
// Connection, ...), and HTTP/2 pseudo-headers.
bool is_transport_header(std::string_view name);

}  // namespace epilot
