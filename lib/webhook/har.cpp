#include "lib/webhook/har.hpp"

#include <nlohmann/json.hpp>

#include "lib/http/wire.hpp"
#include "lib/util/base64.hpp"
#include "lib/util/json.hpp"

namespace epilot::webhook {

namespace {

using Json = nlohmann::ordered_json;

Error har_error(std::string message) { return make_error(ErrorCode::bad_input, "HAR: " + std::move(message)); }

const Json* member(const Json& object, const char* key) {
  if (!object.is_object()) {
    return nullptr;
  }
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

Result<Capture> read_entry(const Json& entry, std::size_t index) {
  const auto where = "entry " + std::to_string(index + 1);
  const auto* request = member(entry, "request");
  if (request == nullptr || !request->is_object()) {
    return har_error(where + " has no request object");
  }
  Capture capture;
  const auto* method = member(*request, "method");
  const auto* url = member(*request, "url");
  if (method == nullptr || !method->is_string() || url == nullptr || !url->is_string()) {
    return har_error(where + ": request.method and request.url must be strings");
  }
  capture.method = method->get<std::string>();
  capture.url = url->get<std::string>();
  // Both go onto the wire as they are when the request is replayed.
  if (!http::wire::is_token(capture.method) || !http::wire::is_visible_ascii(capture.url)) {
    return har_error(where + ": request.method '" + http::wire::printable(capture.method) + "' or request.url '" +
                     http::wire::printable(capture.url) + "' is not what HTTP allows");
  }
  if (const auto* headers = member(*request, "headers")) {
    if (!headers->is_array()) {
      return har_error(where + ": request.headers is not an array");
    }
    for (const auto& h : *headers) {
      const auto* name = member(h, "name");
      const auto* value = member(h, "value");
      if (name == nullptr || !name->is_string() || value == nullptr || !value->is_string()) {
        return har_error(where + ": a header is not {\"name\": string, \"value\": string}");
      }
      const auto text = name->get<std::string>();
      if (!text.empty() && text.front() == ':') {
        continue;  // HTTP/2 pseudo-header: not part of the request as signed
      }
      auto valid = http::validate_header(text, value->get<std::string>());
      if (!valid) {
        return har_error(where + ": " + valid.error().message);
      }
      capture.headers.push_back({text, value->get<std::string>()});
    }
  }
  if (const auto* post = member(*request, "postData")) {
    const auto* text = member(*post, "text");
    if (text != nullptr) {
      if (!text->is_string()) {
        return har_error(where + ": postData.text is not a string");
      }
      const auto* encoding = member(*post, "encoding");
      if (encoding != nullptr && encoding->is_string() && encoding->get<std::string>() == "base64") {
        auto bytes = util::base64_decode(text->get<std::string>());
        if (!bytes) {
          return har_error(
              where + ": postData.text is marked base64 but is not: " + util::base64_problem(text->get<std::string>()));
        }
        capture.body.assign(util::as_chars(*bytes));
      } else {
        capture.body = text->get<std::string>();
      }
    } else if (member(*post, "params") != nullptr) {
      return har_error(where +
                       ": the body was exported as form params, not as text; the raw "
                       "bytes are lost, so no signature over them can be checked");
    }
  }
  return capture;
}

}  // namespace

bool looks_like_har(std::string_view data) {
  // Cheap test before a full parse: a HAR starts with {"log": (modulo whitespace).
  std::size_t i = 0;
  const auto skip = [&] {
    while (i < data.size() && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t')) {
      ++i;
    }
  };
  if (data.substr(0, 3) == "\xEF\xBB\xBF") {
    i = 3;
  }
  skip();
  if (i >= data.size() || data[i] != '{') {
    return false;
  }
  ++i;
  skip();
  return data.substr(i, 5) == "\"log\"";
}

Result<std::vector<Capture>> parse_har(std::string_view data) {
  if (data.substr(0, 3) == "\xEF\xBB\xBF") {
    data.remove_prefix(3);
  }
  auto parsed = util::parse_json<Json>(data);
  if (!parsed) {
    return har_error("not valid JSON: " + parsed.error().message);
  }
  const Json& doc = *parsed;
  const auto* log = member(doc, "log");
  const auto* entries = log != nullptr ? member(*log, "entries") : nullptr;
  if (entries == nullptr || !entries->is_array()) {
    return har_error("no log.entries array");
  }
  if (entries->empty()) {
    return har_error("log.entries is empty: the archive holds no requests");
  }
  std::vector<Capture> out;
  for (std::size_t i = 0; i < entries->size(); ++i) {
    auto capture = read_entry((*entries)[i], i);
    EPILOT_TRY(capture);
    out.push_back(std::move(*capture));
  }
  return out;
}

}  // namespace epilot::webhook
