#pragma once

// HTTP/1.1 message framing (RFC 9112), written once: where a head ends, its
// start line and field lines, what the fields say about the body, and an
// incremental chunked decoder with limits. `listen`'s server, `replay`'s
// response reader and the raw-HTTP capture reader all read through this, so
// the three cannot disagree about where a message ends.
//
// Everything here takes bytes from outside: nothing recurses, every buffer
// has a bound, and no error message quotes a raw byte (see `printable`).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/http/header.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/error.hpp"

namespace epilot::http {

// Check that `name` is an HTTP token and `value` a field value of at most
// k_max_header_line bytes: what a header must be to go onto the wire.
Status validate_header(std::string_view name, std::string_view value);

namespace wire {

enum class Version { http10, http11 };

// A request as a server received it: the target as sent, the body decoded
// from its transfer coding.
struct Request {
  std::string method;
  std::string target;
  Version version = Version::http11;
  std::vector<Header> headers;
  std::string body;
};

// Bounds that hold for every reader (lib/util/constants.hpp has the numbers).
inline constexpr std::size_t k_max_head = k_max_head_size;  // start line and fields, blank line included
inline constexpr std::size_t k_max_fields = k_max_header_count;
inline constexpr std::size_t k_max_chunk_line = 4096;     // chunk size and extensions
inline constexpr std::size_t k_max_trailers = 16 * 1024;  // all trailer lines together
inline constexpr unsigned k_max_interim_answers = 16;     // 1xx answers before the real one

// `text` shortened to `max` bytes with every byte outside printable ASCII
// written as \xNN: safe in an error message, a terminal and a JSON string.
std::string printable(std::string_view text, std::size_t max = 80);

// Finds the blank line that ends a head in a buffer that grows between
// calls, resuming where the last call stopped (never rescanning). Empty
// lines before the start line are skipped (RFC 9112 section 2.2). A head
// ends at its first empty line, CRLF or bare LF.
class HeadScanner {
 public:
  // The size of the head, its blank line included, counted from the start
  // of `buffer`; nullopt while the blank line has not arrived. `buffer` must
  // begin with the bytes of the previous calls.
  std::optional<std::size_t> scan(std::string_view buffer);
  // Where the start line begins (after skipped empty lines).
  std::size_t start() const { return m_start; }
  void reset() { *this = HeadScanner{}; }

 private:
  std::size_t m_start = 0;
  std::size_t m_pos = 0;
  bool m_in_head = false;
};

struct FieldView {
  std::string_view name;
  std::string_view value;  // without surrounding spaces and tabs
};

// A head split into its start line and fields, as views into the head.
struct HeadView {
  std::string_view start_line;
  std::vector<FieldView> fields;
};

// Split `head` (the start line through the last field line; the blank line
// may be included). Field names must be tokens; values may not hold CR, LF
// or NUL (other bytes, obs-text included, are kept); line folding is refused.
Result<HeadView> parse_head(std::string_view head, std::size_t max_fields = k_max_fields);

struct RequestLine {
  std::string_view method;
  std::string_view target;
  std::optional<Version> version;  // nullopt: a well-formed HTTP/x.y other than 1.0 and 1.1
};

struct StatusLine {
  Version version = Version::http11;
  int status = 0;
  std::string_view reason;
};

// `METHOD SP TARGET SP HTTP/d.d`: the method a token, the target visible
// ASCII. A version other than 1.0 and 1.1 (HTTP/2's preface, HTTP/7.7)
// parses with no `version`, so a server can answer 505.
Result<RequestLine> parse_request_line(std::string_view line);
// What a server takes as a target: a path, an http(s) URL, or "*" for
// OPTIONS. Apart from parse_request_line, so that a request line's shape is
// recognised (a raw capture file) before its target is judged.
Status check_target_form(const RequestLine& line);
// `HTTP/1.x SP 3DIGIT [SP reason]`.
Result<StatusLine> parse_status_line(std::string_view line);

// A request target's path and query, from origin form (/a?b) or absolute
// form (http://host/a?b, which loses its scheme and authority; with no path
// of its own, its path is "/"). `query` is what follows the first '?', and
// has_query tells "/a?" from "/a".
struct TargetParts {
  std::string_view path;
  std::string_view query;
  bool has_query = false;
};
TargetParts split_target(std::string_view target);

// True when `text` is an HTTP token (a method, a header name): one or more
// of the characters RFC 9110 section 5.6.2 allows.
bool is_token(std::string_view text);

// True when `text` is one or more bytes of visible ASCII (no space, no
// control byte, nothing above 0x7e): what a request target may hold.
bool is_visible_ascii(std::string_view text);

// True when `value` may be a field value (RFC 9110 section 5.5): no control
// byte but HTAB. Bytes above 0x7f (obs-text) are allowed.
bool is_field_value(std::string_view value);

// True when the comma-separated `list` holds `token`, ignoring case.
bool has_token(std::string_view list, std::string_view token);

// Whether a proxy keeps the field `name` of `fields` to itself (RFC 9110
// section 7.6.1): the connection's own fields, those its Connection field
// names, and the framing (Content-Length, Transfer-Encoding), which the
// proxy writes anew for the message it sends on.
bool is_hop_by_hop(std::string_view name, const std::vector<Header>& fields);

// A Content-Length value: digits only, no sign, no overflow.
std::optional<std::size_t> parse_content_length(std::string_view value);

enum class BodyKind { none, length, chunked, until_close };

struct Framing {
  BodyKind body = BodyKind::none;
  std::size_t length = 0;        // for BodyKind::length
  bool keep_alive = true;        // false after Connection: close, or HTTP/1.0 without keep-alive
  bool expect_continue = false;  // a request with Expect: 100-continue
};

// What a request's fields say about its body (RFC 9112 section 6.3): a
// Transfer-Encoding other than `chunked`, Transfer-Encoding with
// Content-Length, and malformed or disagreeing Content-Lengths are errors,
// since readers that resolve them differently are how requests get smuggled.
Result<Framing> request_framing(Version version, const std::vector<FieldView>& fields);
// The same for an answer to a request; `head_request` answers, 1xx, 204
// and 304 have no body, and a body without length runs to the close.
Result<Framing> response_framing(Version version, int status, bool head_request, const std::vector<FieldView>& fields);

// Decodes a chunked body as its bytes arrive, in any split.
class ChunkedDecoder {
 public:
  enum class State { need_more, done, error };

  explicit ChunkedDecoder(std::size_t max_body) : m_max_body(max_body) {}

  // Decode from `data`, appending the body's bytes to `body`. `used` says
  // how many bytes of `data` were consumed; after `done`, the bytes after
  // the message are left.
  State feed(std::string_view data, std::string& body, std::size_t& used);

  const std::string& error() const { return m_error; }
  // The error was the body outgrowing `max_body`.
  bool too_large() const { return m_too_large; }

 private:
  enum class Phase { size_line, data, data_end, trailers, done };
  State fail(std::string message);
  State end_size_line(std::string& body);
  State take_line(std::string_view input, std::string& body, std::size_t& used);
  State end_trailer_line();
  std::size_t take_data(std::string_view input, std::string& body);
  State take_data_end(char c);

  std::size_t m_max_body;
  Phase m_phase = Phase::size_line;
  std::string m_line;
  std::size_t m_remaining = 0;
  std::size_t m_total = 0;
  std::size_t m_trailer_bytes = 0;
  bool m_seen_cr = false;
  bool m_too_large = false;
  std::string m_error;
};

}  // namespace wire
}  // namespace epilot::http
