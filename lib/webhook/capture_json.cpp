#include "lib/webhook/capture_json.hpp"

#include <nlohmann/json.hpp>

#include "lib/util/base64.hpp"
#include "lib/util/bytes.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/json.hpp"

namespace epilot::webhook {

// ordered_json keeps headers in the order they were written.
using json = nlohmann::ordered_json;

namespace {

Error input_error(std::string message, std::vector<std::string> hints = {}) {
  return make_error(ErrorCode::bad_input, std::move(message), std::move(hints));
}

// A document that parses but is no capture; the caller says what one is.
Error not_a_capture(std::string message) {
  return make_error(ErrorCode::bad_input, Subject::not_a_capture, std::move(message));
}

// "an object", "a string": a JSON type as a message names it.
std::string a_type(const json& value) {
  const std::string name = value.type_name();
  return (value.is_object() || value.is_array() ? "an " : "a ") + name;
}

Status add_json_header(Capture& capture, const json& name, const json& value, std::string_view where) {
  if (!name.is_string()) {
    return input_error("capture header name at " + std::string(where) + " is not a string");
  }
  if (!value.is_string()) {
    return input_error(
        "capture header '" + name.get<std::string>() + "' has " + a_type(value) + " value; header values are strings",
        {"write numbers as strings too, e.g. \"webhook-timestamp\": \"1749649159\""});
  }
  EPILOT_TRY(http::validate_header(name.get<std::string>(), value.get<std::string>()));
  capture.headers.push_back(http::Header{name.get<std::string>(), value.get<std::string>()});
  return ok_status();
}

Status read_json_headers(Capture& capture, const json& headers) {
  if (headers.is_object()) {
    for (const auto& [name, value] : headers.items()) {
      EPILOT_TRY(add_json_header(capture, json(name), value, name));
    }
  } else if (headers.is_array()) {
    for (std::size_t i = 0; i < headers.size(); ++i) {
      const auto& item = headers[i];
      const auto where = "headers[" + std::to_string(i) + "]";
      if (item.is_array() && item.size() == 2) {
        EPILOT_TRY(add_json_header(capture, item[0], item[1], where));
      } else if (item.is_object() && item.contains("name") && item.contains("value")) {
        EPILOT_TRY(add_json_header(capture, item["name"], item["value"], where));
      } else if (item.is_object() && item.contains("name") && item.contains("value_base64")) {
        // A value that is not UTF-8, kept byte for byte (see capture_to_json).
        const auto& encoded = item["value_base64"];
        auto bytes = encoded.is_string() ? util::base64_decode(encoded.get<std::string>()) : std::nullopt;
        if (!bytes) {
          return input_error("capture " + where + " has a 'value_base64' that is not valid base64");
        }
        EPILOT_TRY(add_json_header(capture, item["name"], json(std::string(util::as_chars(*bytes))), where));
      } else {
        return input_error("capture " + where + " is neither a [name, value] pair nor a {\"name\", \"value\"} object");
      }
    }
  } else if (!headers.is_null()) {
    return input_error("capture 'headers' is " + a_type(headers) + "; expected an object or an array");
  }
  if (capture.headers.size() > k_max_header_count) {
    return input_error("capture has " + std::to_string(capture.headers.size()) + " headers; at most " +
                       std::to_string(k_max_header_count) + " are accepted");
  }
  return ok_status();
}

// A body logged as JSON (`{headers, body: req.body}`): the request as its
// receiver saw it after parsing. Only a document with headers is such a log;
// anything else with a structured `body` is a payload, not a capture.
Status read_parsed_body(const json& doc, Capture& capture) {
  const auto& body = doc["body"];
  if (!doc.contains("headers")) {
    return not_a_capture("this JSON object has 'body' as " + a_type(body) +
                         " and no 'headers': it is not a capture (a payload, perhaps)");
  }
  // Compact, keys in their logged order: what JSON.stringify would write.
  capture.body = body.dump(-1, ' ', false, json::error_handler_t::strict);
  capture.body_parsed = true;
  return ok_status();
}

// The JSON object in `data`, when it is one that can be a capture: valid
// JSON, an object, and not a bare payload.
Result<json> read_document(std::string_view data) {
  // nlohmann stops at a NUL as if the input ended there; name the real problem.
  if (const auto nul = data.find('\0'); nul != std::string_view::npos) {
    return input_error("capture contains a NUL byte at offset " + std::to_string(nul) + "; JSON text never does");
  }
  auto parsed = util::parse_json<json>(data);
  if (!parsed) {
    return input_error("capture is not valid JSON: " + parsed.error().message);
  }
  json& doc = *parsed;
  if (!doc.is_object()) {
    return input_error(std::string("capture is a JSON ") + doc.type_name() + ", not an object");
  }
  if (!doc.contains("headers") && !doc.contains("body") && !doc.contains("body_base64")) {
    return not_a_capture("this is a payload, not a capture: a JSON object with no 'headers' and no 'body'");
  }
  return std::move(doc);
}

// The string field `key` of `doc` into `out`; left as it is when absent or null.
Status read_string_field(const json& doc, const char* key, std::string& out) {
  const auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) {
    return ok_status();
  }
  if (!it->is_string()) {
    return input_error(std::string("capture field '") + key + "' is " + a_type(*it) + ", not a string");
  }
  out = it->get<std::string>();
  return ok_status();
}

// Method and URL, checked: both go onto the wire as they are when the
// capture is replayed.
Status read_method_and_url(const json& doc, Capture& capture) {
  EPILOT_TRY(read_string_field(doc, "method", capture.method));
  EPILOT_TRY(read_string_field(doc, "url", capture.url));
  if (capture.method.empty()) {
    capture.method = std::string(k_default_method);
  }
  if (!http::wire::is_token(capture.method)) {
    return input_error("capture 'method' '" + http::wire::printable(capture.method) + "' is not an HTTP method");
  }
  if (!capture.url.empty() && !http::wire::is_visible_ascii(capture.url)) {
    return input_error("capture 'url' '" + http::wire::printable(capture.url) +
                       "' holds a space, a control byte or a byte outside ASCII");
  }
  return ok_status();
}

// The body, from `body` (a string, or a structured body logged parsed) or
// `body_base64`; a capture may have neither but not both.
Status read_body(const json& doc, Capture& capture) {
  const bool has_body = doc.contains("body") && !doc["body"].is_null();
  const bool has_b64 = doc.contains("body_base64") && !doc["body_base64"].is_null();
  if (has_body && has_b64) {
    return input_error("capture has both 'body' and 'body_base64'; keep one");
  }
  if (has_body && (doc["body"].is_object() || doc["body"].is_array())) {
    return read_parsed_body(doc, capture);
  }
  if (has_body) {
    EPILOT_TRY(read_string_field(doc, "body", capture.body));
    const auto flag = doc.find("isBase64Encoded");
    capture.body_base64_event = flag != doc.end() && flag->is_boolean() && flag->get<bool>();
  } else if (has_b64) {
    std::string b64;
    EPILOT_TRY(read_string_field(doc, "body_base64", b64));
    auto bytes = util::base64_decode(b64);
    if (!bytes) {
      return input_error("capture 'body_base64' is not valid base64: " + util::base64_problem(b64));
    }
    capture.body.assign(util::as_chars(*bytes));
  }
  return ok_status();
}

}  // namespace

Result<Capture> parse_capture_json(std::string_view data) {
  const auto doc = read_document(data);
  if (!doc) {
    return doc.error();
  }
  Capture capture;
  EPILOT_TRY(read_method_and_url(*doc, capture));
  if (const auto it = doc->find("headers"); it != doc->end()) {
    EPILOT_TRY(read_json_headers(capture, *it));
  }
  EPILOT_TRY(read_body(*doc, capture));
  return capture;
}

nlohmann::ordered_json capture_to_json(const Capture& capture) {
  nlohmann::ordered_json doc;
  doc["method"] = capture.method;
  doc["url"] = capture.url;
  auto& headers = doc["headers"];
  headers = nlohmann::ordered_json::object();
  bool repeated = false;
  bool binary = false;
  for (const auto& h : capture.headers) {
    repeated = repeated || capture.count_header(h.name) > 1;
    binary = binary || !util::is_valid_utf8(h.value) || !util::is_valid_utf8(h.name);
  }
  if (repeated || binary) {
    // An object cannot hold a header twice; pairs keep every one, in order.
    // A value that is not UTF-8 (HTTP allows any byte above 0x7f) goes in
    // base64, so that what verified live verifies from the file.
    headers = nlohmann::ordered_json::array();
    for (const auto& h : capture.headers) {
      if (util::is_valid_utf8(h.value) && util::is_valid_utf8(h.name)) {
        headers.push_back({h.name, h.value});
      } else {
        headers.push_back({{"name", util::is_valid_utf8(h.name) ? h.name : http::wire::printable(h.name, 256)},
                           {"value_base64", util::base64_encode(h.value)}});
      }
    }
  } else {
    for (const auto& h : capture.headers) {
      headers[h.name] = h.value;
    }
  }
  if (util::is_valid_utf8(capture.body)) {
    doc["body"] = capture.body;
  } else {
    doc["body_base64"] = util::base64_encode(capture.body);
  }
  return doc;
}

std::string write_capture_json(const Capture& capture, JsonStyle style) {
  return capture_to_json(capture).dump(style == JsonStyle::pretty ? 2 : -1) + "\n";
}

}  // namespace epilot::webhook
