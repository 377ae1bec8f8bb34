#pragma once

// The one error type of the project. Every fallible function in lib/ returns a
// Result<T>; cli/main.cpp is the only place that turns an ErrorCode into an
// exit status, so the codes below are part of the public contract.

#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace epilot {

enum class ErrorCode {
  usage,      // the command line asks for something impossible
  io,         // a file or stream could not be read or written
  bad_input,  // an input (capture, payload, body) is malformed
  bad_key,    // a key or secret is malformed, the wrong kind or the wrong size
  network,    // connection refused, TLS failure, timeout
  untrusted,  // the server's certificate is not trusted: a network error no retry can fix
  timeout,    // no answer in time: a network error that a retry at once would only wait out again
  protocol,   // the server does not speak what the URL says (https to plain HTTP): no retry can fix it
};

// What an error is about, where its caller has more to say than the message.
// lib/ never names a command-line flag or an environment variable: it says
// what went wrong in its own terms, and the CLI turns that into its words
// (the hint naming the flag to use; the flag's name where the message names
// the input).
enum class Subject {
  none,
  existing_file,          // a file that was to be created is there already
  ca_certificates,        // the extra CA certificates to trust cannot be read
  secret_as_private_key,  // an HMAC secret where an Ed25519 private key belongs
  key_as_secret,          // an Ed25519 key (whsk_, whpk_) where an HMAC secret belongs
  pem_as_secret,          // a PEM key where an HMAC secret belongs
  short_secret,           // a secret shorter than Standard Webhooks allows
  missing_option,         // a template's {{option.NAME}} has no value; `detail` is NAME
  field_overrides,        // the PATH=VALUE overrides of a body's fields, named in the message at `named_at`
  missing_org_id,         // the per-organisation key endpoint was given no organisation id
  malformed_org_id,       // the organisation id has characters no id has; `detail` is the id
  unwanted_org_id,        // an organisation id for an endpoint whose keys are global
  not_a_capture,          // an input that is a JSON document or text, but not a captured request
};

struct Error {
  ErrorCode code;
  std::string message;             // lowercase, no trailing period
  std::vector<std::string> hints;  // optional "what to do next" lines
  Subject about = Subject::none;
  std::string detail{};  // the name or value `about` says more of, if any
  // Where `message` names `about` in the library's words (subject_name()),
  // so that a caller may put its own name there; npos when it does not.
  std::size_t named_at = std::string::npos;
};

inline Error make_error(ErrorCode code, std::string message, std::vector<std::string> hints = {}) {
  return Error{code, std::move(message), std::move(hints)};
}

// An error about `about`, its message naming it at `named_at` (see Error).
inline Error make_error(ErrorCode code, Subject about, std::string message, std::size_t named_at = std::string::npos,
                        std::string detail = {}) {
  Error error{code, std::move(message), {}};
  error.about = about;
  error.named_at = named_at;
  error.detail = std::move(detail);
  return error;
}

// How the library's messages name a subject, where they do (see named_at).
inline std::string_view subject_name(Subject about) {
  return about == Subject::field_overrides ? "field override" : "";
}

// `error` with "`context`: " put before its message; the rest is kept.
inline Error with_context(Error error, std::string_view context) {
  error.message.insert(0, std::string(context) + ": ");
  if (error.named_at != std::string::npos) {
    error.named_at += context.size() + 2;
  }
  return error;
}

// A value or an Error. Deliberately small: C++20 has no std::expected and the
// project does not want a dependency for it.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_data(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : m_data(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return m_data.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(m_data); }
  const T& value() const& { return std::get<0>(m_data); }
  T&& value() && { return std::get<0>(std::move(m_data)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(m_data); }

 private:
  std::variant<T, Error> m_data;
};

struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() { return Unit{}; }

// Propagate an error from `expr` (a Result) to the caller, which must itself
// return a Result. A named Result is looked at where it is, never copied
// (it may hold a whole Capture); a temporary lives to the end of the check.
#define EPILOT_TRY(expr)                 \
  do {                                   \
    auto&& epilot_try_result_ = (expr);  \
    if (!epilot_try_result_.ok()) {      \
      return epilot_try_result_.error(); \
    }                                    \
  } while (false)

// EPILOT_TRY, then move the value out of `expr` into `lhs` (an lvalue that
// exists already): `EPILOT_TRY_ASSIGN(out.body, apply_overrides(...))`.
// A named Result given as `expr` is left holding a moved-from value.
#define EPILOT_TRY_ASSIGN(lhs, expr)               \
  do {                                             \
    auto&& epilot_try_result_ = (expr);            \
    if (!epilot_try_result_.ok()) {                \
      return epilot_try_result_.error();           \
    }                                              \
    (lhs) = std::move(epilot_try_result_).value(); \
  } while (false)

}  // namespace epilot
