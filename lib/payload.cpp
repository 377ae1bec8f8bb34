#include "lib/payload.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "lib/bytes.hpp"
#include "lib/json.hpp"
#include "lib/timefmt.hpp"
#include "lib/wire.hpp"

namespace epilot {

namespace {

using Json = nlohmann::ordered_json;

// Parts of a --set path (data.entity.x has three); real payloads need a few.
constexpr std::size_t k_max_set_path_parts = 64;

Error payload_error(std::string message, std::vector<std::string> hints = {}) {
  return make_error(ErrorCode::bad_input, std::move(message), std::move(hints));
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

std::string make_uuid(const RandomSource& random) {
  Bytes b(16);
  random(b.data(), b.size());
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  const auto hex = to_hex(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

Result<std::string> fill_placeholders(std::string_view text, const FillContext& context) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (true) {
    const auto open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      out.append(text.substr(pos));
      return out;
    }
    const auto close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return payload_error("a placeholder opened at byte " + std::to_string(open) + " is never closed with }}");
    }
    out.append(text.substr(pos, open - pos));
    const auto inside = std::string(text.substr(open + 2, close - open - 2));
    pos = close + 2;
    const auto bar = inside.find('|');
    const auto key = inside.substr(0, bar);
    const std::optional<std::string> fallback =
        bar == std::string::npos ? std::nullopt : std::optional<std::string>(inside.substr(bar + 1));
    if (key == "now") {
      const auto seconds = context.now_ms / 1000;
      auto iso = iso8601(seconds);
      char ms[8];
      std::snprintf(ms, sizeof ms, ".%03lldZ", static_cast<long long>(context.now_ms % 1000));
      out.append(iso.substr(0, iso.size() - 1)).append(ms);
    } else if (key == "unix") {
      out.append(std::to_string(context.now_ms / 1000));
    } else if (key == "uuid") {
      out.append(make_uuid(context.random));
    } else if (key.rfind("env.", 0) == 0 || key.rfind("option.", 0) == 0) {
      const bool env = key[0] == 'e';
      const auto name = key.substr(env ? 4 : 7);
      std::optional<std::string> value;
      if (env) {
        value = context.env ? context.env(name) : std::nullopt;
      } else if (const auto it = context.options.find(name); it != context.options.end()) {
        value = it->second;
      }
      if (!value) {
        value = fallback;
      }
      if (!value) {
        return payload_error("the fixture needs {{" + key + "}}, which is not set",
                             {env ? "set the environment variable " + name
                                  : "give it with --option " + name + "=VALUE"});
      }
      out.append(json_escaped(*value));
    } else {
      return payload_error("unknown placeholder {{" + inside + "}}",
                           {"the placeholders are {{now}}, {{unix}}, {{uuid}}, {{env.NAME}}, {{option.NAME}}"});
    }
  }
}

Result<std::pair<std::string, std::string>> parse_assignment(std::string_view text, std::string_view flag) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return make_error(ErrorCode::usage, std::string(flag) + " '" + std::string(text) + "' is not NAME=VALUE");
  }
  return std::pair{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

Result<std::string> apply_overrides(std::string_view body,
                                    const std::vector<std::pair<std::string, std::string>>& sets) {
  if (sets.empty()) {
    return std::string(body);
  }
  auto parsed = parse_json<Json>(body);
  if (!parsed) {
    return payload_error("--set needs a JSON body, and this one is not JSON: " + parsed.error().message);
  }
  Json& doc = *parsed;
  for (const auto& [target, text] : sets) {
    // PATH=VALUE sets a string; PATH:=JSON sets any JSON value (HTTPie's convention).
    const bool raw = !target.empty() && target.back() == ':';
    const auto path = raw ? target.substr(0, target.size() - 1) : target;
    // Every part may make an object: a path of thousands would nest the body
    // past what any reader takes (and past what serialising it can recurse).
    if (static_cast<std::size_t>(std::count(path.begin(), path.end(), '.')) >= k_max_set_path_parts) {
      return make_error(ErrorCode::usage, "--set path '" + wire::printable(path) + "' has more than " +
                                              std::to_string(k_max_set_path_parts) + " parts");
    }
    Json value = text;
    if (raw) {
      auto parsed_value = parse_json<Json>(text);
      if (!parsed_value) {
        return make_error(ErrorCode::usage, "--set " + wire::printable(target) + "=" + wire::printable(text) +
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
        return make_error(ErrorCode::usage, "--set path '" + path + "' has an empty part");
      }
      if (!node->is_object()) {
        return payload_error("--set " + path + ": '" + path.substr(0, start == 0 ? 0 : start - 1) +
                             "' is not an object");
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
    return payload_error("--set: the body or a value set in it is not valid UTF-8");
  }
  if (auto nesting = check_json_nesting(out); !nesting) {
    return payload_error("--set makes the body's " + nesting.error().message);
  }
  return out;
}

Result<RequestTemplate> instantiate_fixture(const Fixture& fixture, const FillContext& context,
                                            const std::vector<std::pair<std::string, std::string>>& sets) {
  auto filled = fill_placeholders(fixture.text, context);
  EPILOT_TRY(filled);
  RequestTemplate out;
  const bool with_headers = fixture.name.size() > 8 && fixture.name.substr(fixture.name.size() - 8) == ".request";
  if (with_headers) {
    auto parsed = parse_json<Json>(*filled);
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
        EPILOT_TRY(validate_header(name, value.get<std::string>()));
        out.headers.push_back({name, value.get<std::string>()});
      }
    }
    out.body = doc["body"].is_string() ? doc["body"].get<std::string>() : doc["body"].dump();
  } else {
    out.body = std::move(*filled);
  }
  auto body = apply_overrides(out.body, sets);
  EPILOT_TRY(body);
  out.body = std::move(*body);
  return out;
}

}  // namespace epilot
