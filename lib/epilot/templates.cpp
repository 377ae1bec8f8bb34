#include "lib/epilot/templates.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

#include "lib/http/wire.hpp"
#include "lib/util/bytes.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/json.hpp"
#include "lib/util/timefmt.hpp"
#include "lib/webhook/signature.hpp"

namespace epilot {

namespace {

using Json = nlohmann::ordered_json;

// Parts of an override's path (data.entity.x has three); real payloads need a few.
constexpr std::size_t k_max_set_path_parts = 64;

Error payload_error(std::string message, std::vector<std::string> hints = {}) {
  return make_error(ErrorCode::bad_input, std::move(message), std::move(hints));
}

// An error in applying the field overrides: the message names them first,
// and `rest` follows (" path ... has ...", ": the body ...").
Error override_error(ErrorCode code, const std::string& rest, std::vector<std::string> hints = {}) {
  auto error =
      make_error(code, Subject::field_overrides, std::string(subject_name(Subject::field_overrides)) + rest, 0);
  error.hints = std::move(hints);
  return error;
}

// The text of `value` as it may stand inside a JSON string.
std::string json_escaped(const std::string& value) {
  const auto quoted = Json(value).dump(-1, ' ', false, Json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

const Fixture* find_fixture(std::string_view name) {
  if (name.size() > 5 && name.substr(name.size() - 5) == ".json") {
    name.remove_suffix(5);
  }
  for (const auto& f : builtin_fixtures()) {
    if (f.name == name) {
      return &f;
    }
  }
  return nullptr;
}

std::string_view builtin_payload() { return find_fixture(k_builtin_payload_name)->text; }

std::string make_uuid(const util::RandomSource& random) {
  util::Bytes b(16);
  random(b.data(), b.size());
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  const auto hex = util::to_hex(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

namespace {

enum class PlaceholderKind { now, unix_time, uuid, env, option };

struct Placeholder {
  PlaceholderKind kind = PlaceholderKind::now;
  std::string name;                     // env and option: the variable
  std::optional<std::string> fallback;  // after '|'
};

// What the text between {{ and }} stands for, if it is a placeholder at all.
std::optional<Placeholder> read_placeholder(std::string_view inside) {
  const auto bar = inside.find('|');
  const auto key = inside.substr(0, bar);
  Placeholder p;
  if (bar != std::string_view::npos) {
    p.fallback = std::string(inside.substr(bar + 1));
  }
  if (key == "now" || key == "unix" || key == "uuid") {
    if (p.fallback) {
      return std::nullopt;  // they never lack a value
    }
    p.kind = key == "now" ? PlaceholderKind::now : key == "unix" ? PlaceholderKind::unix_time : PlaceholderKind::uuid;
    return p;
  }
  const bool env = key.rfind("env.", 0) == 0;
  if (!env && key.rfind("option.", 0) != 0) {
    return std::nullopt;
  }
  p.kind = env ? PlaceholderKind::env : PlaceholderKind::option;
  p.name = std::string(key.substr(env ? 4 : 7));
  const bool name_ok = !p.name.empty() && std::all_of(p.name.begin(), p.name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
  });
  if (!name_ok) {
    return std::nullopt;
  }
  return p;
}

// Placeholders are short: "}}" is looked for this far past "{{" and no
// further, so that a text of many "{{" costs linear time, not quadratic.
constexpr std::size_t k_max_placeholder = 256;

// The text between the "{{" at `open` and the first "}}" after it, if that
// comes within k_max_placeholder bytes.
std::optional<std::string_view> braced_at(std::string_view text, std::size_t open) {
  const auto window = text.substr(open + 2, k_max_placeholder + 2);
  const auto close = window.find("}}");
  if (close == std::string_view::npos) {
    return std::nullopt;
  }
  return window.substr(0, close);
}

// Calls `on_text` for the literal runs of `text` and `on_placeholder` for
// each placeholder, in order; stops at the first error either returns.
template <class OnText, class OnPlaceholder>
Status scan_placeholders(std::string_view text, OnText on_text, OnPlaceholder on_placeholder) {
  std::size_t pos = 0;
  std::size_t literal = 0;  // start of the literal run not yet handed out
  while (true) {
    const auto open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      on_text(text.substr(literal));
      return ok_status();
    }
    const auto inside = braced_at(text, open);
    const auto placeholder = inside ? read_placeholder(*inside) : std::nullopt;
    if (!placeholder) {
      pos = open + 2;  // "{{a {{uuid}}": the second may still be one
      continue;
    }
    on_text(text.substr(literal, open - literal));
    EPILOT_TRY(on_placeholder(*placeholder, *inside));
    pos = literal = open + 2 + inside->size() + 2;
  }
}

}  // namespace

bool is_request_form(const Fixture& fixture) {
  constexpr std::string_view k_suffix = ".request";
  return fixture.name.size() > k_suffix.size() &&
         fixture.name.substr(fixture.name.size() - k_suffix.size()) == k_suffix;
}

bool has_placeholders(std::string_view text) {
  for (auto open = text.find("{{"); open != std::string_view::npos; open = text.find("{{", open + 2)) {
    if (const auto inside = braced_at(text, open); inside && read_placeholder(*inside)) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> unknown_placeholders(std::string_view text) {
  std::vector<std::string> out;
  for (auto open = text.find("{{"); open != std::string_view::npos;) {
    const auto inside = braced_at(text, open);
    // Only a word, as placeholders are: not a stretch of JSON that happens
    // to lie between two braces.
    const bool word = inside && !inside->empty() && inside->size() <= 64 &&
                      inside->find_first_of("{}\"\n\\") == std::string_view::npos &&
                      inside->find_first_not_of(' ') != std::string_view::npos;
    if (word && !read_placeholder(*inside)) {
      auto whole = "{{" + std::string(*inside) + "}}";
      if (std::find(out.begin(), out.end(), whole) == out.end()) {
        out.push_back(std::move(whole));
      }
    }
    open = text.find("{{", word ? open + 2 + inside->size() + 2 : open + 2);
  }
  return out;
}

std::string_view content_type_for(std::string_view body) {
  // accept() parses without building a document, iteratively: no depth limit needed.
  if (nlohmann::json::accept(body)) {
    return k_json_content_type;
  }
  return util::is_valid_utf8(body) ? k_text_content_type : k_binary_content_type;
}

Result<std::string> fill_placeholders(std::string_view text, const FillContext& context) {
  std::string out;
  out.reserve(text.size());
  const auto on_text = [&](std::string_view literal) { out.append(literal); };
  const auto on_placeholder = [&](const Placeholder& p, std::string_view inside) -> Status {
    switch (p.kind) {
      case PlaceholderKind::now: {
        auto iso = util::iso8601(context.now_ms / 1000);
        char ms[8];
        std::snprintf(ms, sizeof ms, ".%03lldZ", static_cast<long long>(context.now_ms % 1000));
        out.append(iso.substr(0, iso.size() - 1)).append(ms);
        return ok_status();
      }
      case PlaceholderKind::unix_time:
        out.append(std::to_string(context.now_ms / 1000));
        return ok_status();
      case PlaceholderKind::uuid:
        out.append(make_uuid(context.random));
        return ok_status();
      case PlaceholderKind::env:
      case PlaceholderKind::option:
        break;
    }
    const bool env = p.kind == PlaceholderKind::env;
    // Any file may be a template, one from someone else too: the tool's own
    // variables hold keys, secrets and tokens, never a payload's values.
    const auto& reserved = context.reserved_env_prefix;
    if (env && !reserved.empty() && p.name.rfind(reserved, 0) == 0) {
      return payload_error("{{" + std::string(inside) + "}}: the tool's own " + reserved +
                           "* variables (secrets, tokens) are never filled into a payload");
    }
    std::optional<std::string> value;
    if (env) {
      value = context.env ? context.env(p.name) : std::nullopt;
    } else if (const auto it = context.options.find(p.name); it != context.options.end()) {
      value = it->second;
    }
    if (!value) {
      value = p.fallback;
    }
    if (!value) {
      auto message = "the template needs {{" + std::string(inside) + "}}, which is not set";
      if (env) {
        return payload_error(std::move(message), {"set the environment variable " + p.name});
      }
      return make_error(ErrorCode::bad_input, Subject::missing_option, std::move(message), std::string::npos, p.name);
    }
    out.append(json_escaped(*value));
    return ok_status();
  };
  EPILOT_TRY(scan_placeholders(text, on_text, on_placeholder));
  return out;
}

Result<std::string> apply_overrides(std::string_view body,
                                    const std::vector<std::pair<std::string, std::string>>& sets) {
  if (sets.empty()) {
    return std::string(body);
  }
  auto parsed = util::parse_json<Json>(body);
  if (!parsed) {
    return override_error(ErrorCode::bad_input,
                          " needs a JSON body, and this one is not JSON: " + parsed.error().message);
  }
  Json& doc = *parsed;
  for (const auto& [target, text] : sets) {
    // PATH=VALUE sets a string; PATH:=JSON sets any JSON value (HTTPie's convention).
    const bool raw = !target.empty() && target.back() == ':';
    const auto path = raw ? target.substr(0, target.size() - 1) : target;
    // Every part may make an object: a path of thousands would nest the body
    // past what any reader takes (and past what serialising it can recurse).
    if (static_cast<std::size_t>(std::count(path.begin(), path.end(), '.')) >= k_max_set_path_parts) {
      return override_error(ErrorCode::usage, " path '" + http::wire::printable(path) + "' has more than " +
                                                  std::to_string(k_max_set_path_parts) + " parts");
    }
    Json value = text;
    if (raw) {
      auto parsed_value = util::parse_json<Json>(text);
      if (!parsed_value) {
        return override_error(ErrorCode::usage,
                              " " + http::wire::printable(target) + "=" + http::wire::printable(text) +
                                  ": the value is not JSON (" + parsed_value.error().message + ")",
                              {"PATH:=JSON takes JSON (123, true, {\"a\":1}); PATH=VALUE takes a string"});
      }
      value = std::move(*parsed_value);
    }
    Json* node = &doc;
    std::size_t start = 0;
    while (true) {
      const auto dot = path.find('.', start);
      const auto part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (part.empty()) {
        return override_error(ErrorCode::usage, " path '" + path + "' has an empty part");
      }
      if (!node->is_object()) {
        return override_error(ErrorCode::bad_input,
                              " " + path + ": '" + path.substr(0, start == 0 ? 0 : start - 1) + "' is not an object");
      }
      if (dot == std::string::npos) {
        (*node)[part] = value;
        break;
      }
      node = &(*node)[part];
      if (node->is_null()) {
        *node = Json::object();
      }
      start = dot + 1;
    }
  }
  std::string out;
  try {
    out = doc.dump(-1, ' ', false, Json::error_handler_t::strict);
  } catch (const Json::exception&) {  // type_error 316: a string that is not UTF-8
    return override_error(ErrorCode::bad_input, ": the body or a value set in it is not valid UTF-8");
  }
  if (auto nesting = util::check_json_nesting(out); !nesting) {
    return override_error(ErrorCode::bad_input, " makes the body's " + nesting.error().message);
  }
  return out;
}

Result<RequestTemplate> instantiate_fixture(const Fixture& fixture, const FillContext& context,
                                            const std::vector<std::pair<std::string, std::string>>& sets) {
  auto filled = fill_placeholders(fixture.text, context);
  EPILOT_TRY(filled);
  RequestTemplate out;
  if (is_request_form(fixture)) {
    auto parsed = util::parse_json<Json>(*filled);
    if (!parsed) {
      return payload_error("fixture " + std::string(fixture.name) + " is not valid JSON: " + parsed.error().message);
    }
    Json& doc = *parsed;
    if (!doc.is_object() || !doc.contains("body")) {
      return payload_error("fixture " + std::string(fixture.name) + " has no body");
    }
    if (doc.contains("headers") && doc["headers"].is_object()) {
      for (const auto& [name, value] : doc["headers"].items()) {
        if (!value.is_string()) {
          return payload_error("fixture header " + name + " is not a string");
        }
        EPILOT_TRY(http::validate_header(name, value.get<std::string>()));
        if (webhook::is_signing_header(name)) {
          return payload_error("fixture " + std::string(fixture.name) + " sets " + http::wire::printable(name) +
                               ", which the signer computes: leave it out");
        }
        out.headers.push_back({name, value.get<std::string>()});
      }
    }
    out.body = doc["body"].is_string() ? doc["body"].get<std::string>() : doc["body"].dump();
  } else {
    out.body = std::move(*filled);
  }
  EPILOT_TRY_ASSIGN(out.body, apply_overrides(out.body, sets));
  return out;
}

}  // namespace epilot
