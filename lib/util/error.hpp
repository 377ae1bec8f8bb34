#pragma once

// The one error type of the project. Every fallible function in lib/ returns a
// Result<T>; cli/main.cpp is the only place that turns an ErrorCode into an
// exit status, so the codes below are part of the public contract.

#include <string>
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

struct Error {
  ErrorCode code;
  std::string message;             // lowercase, no trailing period
  std::vector<std::string> hints;  // optional "what to do next" lines
};

inline Error make_error(ErrorCode code, std::string message,
                        std::vector<std::string> hints = {}) {
  return Error{code, std::move(message), std::move(hints)};
}

// A value or an Error. Deliberately small: C++20 has no std::expected and the
// project does not want a dependency for it.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_data(std::move(value)) {}   // NOLINT: implicit by design
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
// return a Result.
#define EPILOT_TRY(expr)                 \
  do {                                   \
    auto epilot_try_result_ = (expr);    \
    if (!epilot_try_result_.ok()) {      \
      return epilot_try_result_.error(); \
    }                                    \
  } while (false)

}  // namespace epilot
