#pragma once

// Templates: the payload fixtures compiled into the binary
// (fixtures/payloads/), a user's own, and payload files; and turning one into
// a request: placeholders filled, fields overridden.
//
// A fixture NAME.json is a body; NAME.request.json is
// {"description"?, "headers": {...}, "body": <JSON>}, for requests that carry
// headers of their own (as external_integration_settings.headers add them).
// Placeholders, filled at send time so that the signature covers them:
//   {{now}}          the time, ISO-8601 (UTC, milliseconds)
//   {{unix}}         the time, unix seconds
//   {{uuid}}         a random UUID, fresh at every occurrence
//   {{env.NAME}}     an environment variable
//   {{option.NAME}}  a value the caller gives (FillContext::options)
// `{{env.NAME|default}}` and `{{option.NAME|default}}` give a default.
// Values are inserted JSON-escaped (placeholders stand inside JSON strings).
// Any other {{...}} text (a Handlebars template in an email body, say) is
// part of the payload and left as it is.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/util/crypto.hpp"
#include "lib/util/error.hpp"
#include "lib/webhook/capture.hpp"

namespace epilot {

struct Fixture {
  std::string_view name;    // the file name without .json
  std::string_view text;    // its exact bytes
  std::string_view origin;  // the file it was read from; empty for a built-in one
};

// True for the NAME.request.json form (headers and a body).
bool is_request_form(const Fixture& fixture);

// True when `text` holds a placeholder (one of the forms above): it is a
// template, filled at every send. A payload without one is sent as it is.
bool has_placeholders(std::string_view text);

// The {{...}} texts in `text` that look like placeholders but are none of the
// forms above ("{{uuidd}}", "{{contact.name}}"), each once, in order: they are
// left as they are, and a template that has real placeholders too probably
// meant them as such.
std::vector<std::string> unknown_placeholders(std::string_view text);

// The Content-Type a body is sent with when its request names none: JSON is
// application/json; other text is text/plain; anything else is bytes.
std::string_view content_type_for(std::string_view body);

// Every built-in fixture, sorted by name.
std::span<const Fixture> builtin_fixtures();

// The fixture called `name` (with or without .json), or nullptr.
const Fixture* find_fixture(std::string_view name);

// The default payload: an epilot `external_integration` request
// (fixtures/payloads/custom-action.json), compact as epilot sends it, with no
// placeholders, so its bytes are stable.
inline constexpr std::string_view k_builtin_payload_name = "custom-action";
std::string_view builtin_payload();

struct FillContext {
  std::int64_t now_ms = 0;  // unix time in milliseconds
  util::RandomSource random;
  std::function<std::optional<std::string>(const std::string&)> env;  // lookup, injected
  // Variables whose names start with this are the caller's own (secrets,
  // tokens): a template that names one is refused. Empty: none are.
  std::string reserved_env_prefix;
  std::map<std::string, std::string> options;
};

// Replace every placeholder in `text`; an env or option value that is missing
// and has no default is an error naming it (about Subject::missing_option for
// an option). Other {{...}} text is kept.
Result<std::string> fill_placeholders(std::string_view text, const FillContext& context);

// Set `path` (dotted, e.g. data.org_id) to `value` in the JSON `body`, for
// each pair in order, creating objects on the way: as a string, or, when the
// path ends in ':' (from PATH:=VALUE), as the JSON `value` stands for. The
// result is compact JSON. Errors are about Subject::field_overrides.
Result<std::string> apply_overrides(std::string_view body,
                                    const std::vector<std::pair<std::string, std::string>>& sets);

struct RequestTemplate {
  std::vector<http::Header> headers;
  std::string body;
};

// A fixture made into a request: placeholders filled, then overrides applied.
Result<RequestTemplate> instantiate_fixture(const Fixture& fixture, const FillContext& context,
                                            const std::vector<std::pair<std::string, std::string>>& sets);

// A random (version 4) UUID.
std::string make_uuid(const util::RandomSource& random);

}  // namespace epilot
