#include "lib/webhook/capture.hpp"

#include <nlohmann/json.hpp>

#include "lib/util/base64.hpp"
#include "lib/util/bytes.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/json.hpp"

namespace epilot {

// ordered_json keeps headers in the order they were written.
using json = nlohmann::ordered_json;

const std::string* Capture::find_header(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals_ascii(h.name, name)) {
      return &h.value;
    }
  }
  return nullptr;
}

std::size_t Capture::count_header(std::string_view name) const {
  std::size_t n = 0;
  for (const auto& h : headers) {
    n += iequals_ascii(h.name, name) ? 1 : 0;
  }
  return n;
}

void Capture::set_header(std::string_view name, std::string value) {
  std::erase_if(headers, [&](const Header& h) { return iequals_ascii(h.name, name); });
  headers.push_back(Header{std::string(name), std::move(value)});
}

namespace {

Error input_error(std::string message, std::vector<std::string> hints = {}) {
  return make_error(ErrorCode::bad_input, std::move(message), std::move(hints));
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
    return input_error("capture header '" + name.get<std::string>() + "' has " + a_type(value) +
                           " value; header values are strings",
                       {"write numbers as strings too, e.g. \"webhook-timestamp\": \"1749649159\""});
  }
  EPILOT_TRY(validate_header(name.get<std::string>(), value.get<std::string>()));
  capture.headers.push_back(Header{name.get<std::string>(), value.get<std::string>()});
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
        auto bytes = encoded.is_string() ? base64_decode(encoded.get<std::string>()) : std::nullopt;
        if (!bytes) {
          return input_error("capture " + where + " has a 'value_base64' that is not valid base64");
        }
        EPILOT_TRY(add_json_header(capture, item["name"], json(std::string(as_chars(*bytes))), where));
      } else {
        return input_error("capture " + where +
                           " is neither a [name, value] pair nor a {\"name\", \"value\"} object");
      }
    }
  } else if (!headers.is_null()) {
    return input_error("capture 'headers' is " + a_type(headers) + "; expected an object or an array");
  }
  if (capture.headers.size() > k_max_header_count) {
    return input_error("capture has " + std::to_string(capture.headers.size()) +
                       " headers; at most " + std::to_string(k_max_header_count) + " are accepted");
  }
  return ok_status();
}

// A body logged as JSON (`{headers, body: req.body}`): the request as its
// receiver saw it after parsing. Only a document with headers is such a log;
// anything else with a structured `body` is a payload, not a capture.
Status read_parsed_body(const json& doc, Capture& capture) {
  const auto& body = doc["body"];
  if (!doc.contains("headers")) {
    return input_error("this JSON object has 'body' as " + a_type(body) +
                           " and no 'headers': it is not a capture (a payload, perhaps)",
                       {"a capture is what 'epilot-action sign' writes: method, url, headers and body (a string)"});
  }
  // Compact, keys in their logged order: what JSON.stringify would write.
  capture.body = body.dump(-1, ' ', false, json::error_handler_t::strict);
  capture.body_parsed = true;
  return ok_status();
}

}  // namespace

Status validate_header(std::string_view name, std::string_view value) {
  if (name.empty()) {
    return input_error("a header has an empty name");
  }
  if (!wire::is_token(name)) {
    return input_error("header name '" + wire::printable(name) + "' contains a character not allowed in HTTP header names");
  }
  if (value.size() > k_max_header_line) {
    return input_error("header '" + wire::printable(name) + "' is " + std::to_string(value.size()) +
                       " bytes long; at most " + std::to_string(k_max_header_line) + " are accepted");
  }
  if (!wire::is_field_value(value)) {
    return input_error("header '" + wire::printable(name) + "' contains CR, LF, NUL or another control byte");
  }
  return ok_status();
}

Result<CaptureFormat> detect_capture_format(std::string_view data) {
  std::size_t i = 0;
  // A UTF-8 byte order mark is what Windows editors put in front of JSON.
  if (data.substr(0, 3) == "\xEF\xBB\xBF") {
    i = 3;
  }
  while (i < data.size() && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n')) {
    ++i;
  }
  if (i == data.size()) {
    return input_error("the capture is empty");
  }
  if (data[i] == '{') {
    return CaptureFormat::json;
  }
  if (data[i] >= 'A' && data[i] <= 'Z') {
    return CaptureFormat::raw_http;
  }
  return input_error("the input is neither a JSON capture nor a raw HTTP request",
                     {"a capture is a JSON object (see 'epilot-action sign') or a request line "
                      "like 'POST /hook HTTP/1.1' followed by headers"});
}

Result<Capture> parse_capture_json(std::string_view data) {
  // nlohmann stops at a NUL as if the input ended there; name the real problem.
  if (const auto nul = data.find('\0'); nul != std::string_view::npos) {
    return input_error("capture contains a NUL byte at offset " + std::to_string(nul) +
                       "; JSON text never does");
  }
  auto parsed = parse_json<json>(data);
  if (!parsed) {
    return input_error("capture is not valid JSON: " + parsed.error().message);
  }
  const json& doc = *parsed;
  if (!doc.is_object()) {
    return input_error(std::string("capture is a JSON ") + doc.type_name() + ", not an object");
  }
  if (!doc.contains("headers") && !doc.contains("body") && !doc.contains("body_base64")) {
    return input_error("this is a payload, not a capture: a JSON object with no 'headers' and no 'body'",
                       {"a capture is a request as received (what 'epilot-action sign' or 'listen' writes): "
                        "method, url, headers and body"});
  }
  Capture capture;
  const auto get_string = [&](const char* key, std::string& out) -> Status {
    const auto it = doc.find(key);
    if (it == doc.end() || it->is_null()) {
      return ok_status();
    }
    if (!it->is_string()) {
      return input_error(std::string("capture field '") + key + "' is " + a_type(*it) + ", not a string");
    }
    out = it->get<std::string>();
    return ok_status();
  };
  EPILOT_TRY(get_string("method", capture.method));
  EPILOT_TRY(get_string("url", capture.url));
  if (capture.method.empty()) {
    capture.method = std::string(k_default_method);
  }
  // Both go onto the wire as they are when the capture is replayed.
  if (!wire::is_token(capture.method)) {
    return input_error("capture 'method' '" + wire::printable(capture.method) + "' is not an HTTP method");
  }
  if (!capture.url.empty() && !wire::is_visible_ascii(capture.url)) {
    return input_error("capture 'url' '" + wire::printable(capture.url) +
                       "' holds a space, a control byte or a byte outside ASCII");
  }
  if (const auto it = doc.find("headers"); it != doc.end()) {
    EPILOT_TRY(read_json_headers(capture, *it));
  }
  const bool has_body = doc.contains("body") && !doc["body"].is_null();
  const bool has_b64 = doc.contains("body_base64") && !doc["body_base64"].is_null();
  if (has_body && has_b64) {
    return input_error("capture has both 'body' and 'body_base64'; keep one");
  }
  if (has_body && (doc["body"].is_object() || doc["body"].is_array())) {
    EPILOT_TRY(read_parsed_body(doc, capture));
  } else if (has_body) {
    EPILOT_TRY(get_string("body", capture.body));
    const auto flag = doc.find("isBase64Encoded");
    capture.body_base64_event = flag != doc.end() && flag->is_boolean() && flag->get<bool>();
  } else if (has_b64) {
    std::string b64;
    EPILOT_TRY(get_string("body_base64", b64));
    auto bytes = base64_decode(b64);
    if (!bytes) {
      return input_error("capture 'body_base64' is not valid base64: " + base64_problem(b64));
    }
    capture.body.assign(as_chars(*bytes));
  }
  return capture;
}

std::optional<std::string> decoded_event_body(const Capture& capture) {
  if (!capture.body_base64_event) {
    return std::nullopt;
  }
  auto bytes = base64_decode(capture.body);
  if (!bytes) {
    return std::nullopt;
  }
  return std::string(as_chars(*bytes));
}

Result<Capture> parse_raw_http(std::string_view data) {
  wire::HeadScanner scanner;
  const auto head_size = scanner.scan(data);
  if (!head_size) {
    return input_error(data.find('\n') == std::string_view::npos
                           ? "raw HTTP request has no complete request line"
                           : "raw HTTP request is truncated in its headers (no empty line before the body)");
  }
  if (*head_size > wire::k_max_head) {
    return input_error("raw HTTP request's head is larger than " + std::to_string(wire::k_max_head) + " bytes");
  }
  auto head = wire::parse_head(data.substr(scanner.start(), *head_size - scanner.start()), k_max_header_count);
  if (!head) {
    return input_error("raw HTTP request: " + head.error().message);
  }
  auto line = wire::parse_request_line(head->start_line);
  if (!line) {
    return input_error("raw HTTP " + line.error().message);
  }
  if (!line->version) {
    return input_error("raw HTTP request line '" + wire::printable(head->start_line) +
                       "' is not HTTP/1.0 or HTTP/1.1");
  }
  Capture capture;
  capture.method = std::string(line->method);
  for (const auto& f : head->fields) {
    EPILOT_TRY(validate_header(f.name, f.value));
    capture.headers.push_back(Header{std::string(f.name), std::string(f.value)});
  }
  capture.url = request_url(line->target, capture.find_header("host"));
  auto framing = wire::request_framing(*line->version, head->fields);
  if (!framing) {
    return input_error("raw HTTP request: " + framing.error().message);
  }
  const auto rest = data.substr(*head_size);
  switch (framing->body) {
    case wire::BodyKind::chunked: {
      wire::ChunkedDecoder decoder(k_max_input_size);
      std::size_t used = 0;
      const auto state = decoder.feed(rest, capture.body, used);
      if (state == wire::ChunkedDecoder::State::error) {
        return input_error(decoder.error());
      }
      if (state == wire::ChunkedDecoder::State::need_more) {
        return input_error("chunked body is truncated (no final zero-size chunk and empty line)");
      }
      if (used != rest.size()) {
        return input_error(std::to_string(rest.size() - used) + " bytes follow the end of the chunked body");
      }
      return capture;
    }
    case wire::BodyKind::length:
      if (rest.size() < framing->length) {
        return input_error("raw HTTP body is truncated: Content-Length says " + std::to_string(framing->length) +
                           " bytes, " + std::to_string(rest.size()) + " follow");
      }
      if (rest.size() > framing->length) {
        return input_error(std::to_string(rest.size() - framing->length) +
                               " bytes follow the body that Content-Length announces",
                           {"an editor may have added a final newline; captures must be byte-exact"});
      }
      break;
    case wire::BodyKind::none:
    case wire::BodyKind::until_close:
      break;  // a capture file without framing: the body is the rest of the file
  }
  capture.body = std::string(rest);
  return capture;
}

Capture capture_from_request(wire::Request&& request) {
  Capture capture;
  capture.method = std::move(request.method);
  capture.headers = std::move(request.headers);
  capture.body = std::move(request.body);
  capture.url = request_url(request.target, capture.find_header("host"));
  return capture;
}

std::string request_url(std::string_view target, const std::string* host) {
  // A Host that could not be part of a URL (a space, a byte above 0x7e, a
  // slash) is left out: the capture must stay readable (its url is checked).
  const bool usable = host != nullptr && wire::is_visible_ascii(*host) && host->find_first_of("/?#@\\") == std::string::npos;
  if (target.substr(0, 1) == "/" && usable) {
    return "http://" + *host + std::string(target);
  }
  return std::string(target);
}

Result<Capture> parse_capture(std::string_view data) {
  if (data.size() > k_max_input_size) {
    return input_error("the capture is larger than " + std::to_string(k_max_input_size >> 20) + " MiB");
  }
  auto format = detect_capture_format(data);
  EPILOT_TRY(format);
  return *format == CaptureFormat::json ? parse_capture_json(data) : parse_raw_http(data);
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
    binary = binary || !is_valid_utf8(h.value) || !is_valid_utf8(h.name);
  }
  if (repeated || binary) {
    // An object cannot hold a header twice; pairs keep every one, in order.
    // A value that is not UTF-8 (HTTP allows any byte above 0x7f) goes in
    // base64, so that what verified live verifies from the file.
    headers = nlohmann::ordered_json::array();
    for (const auto& h : capture.headers) {
      if (is_valid_utf8(h.value) && is_valid_utf8(h.name)) {
        headers.push_back({h.name, h.value});
      } else {
        headers.push_back({{"name", is_valid_utf8(h.name) ? h.name : wire::printable(h.name, 256)},
                           {"value_base64", base64_encode(h.value)}});
      }
    }
  } else {
    for (const auto& h : capture.headers) {
      headers[h.name] = h.value;
    }
  }
  if (is_valid_utf8(capture.body)) {
    doc["body"] = capture.body;
  } else {
    doc["body_base64"] = base64_encode(capture.body);
  }
  return doc;
}

std::string write_capture_json(const Capture& capture, JsonStyle style) {
  return capture_to_json(capture).dump(style == JsonStyle::pretty ? 2 : -1) + "\n";
}

std::string write_raw_http(const Capture& capture) {
  std::string target = capture.url;
  std::string host;
  if (const auto scheme = target.find("://"); scheme != std::string::npos) {
    const auto path = target.find('/', scheme + 3);
    host = target.substr(scheme + 3, path == std::string::npos ? std::string::npos : path - scheme - 3);
    target = path == std::string::npos ? "/" : target.substr(path);
  }
  std::string out = capture.method + " " + (target.empty() ? "/" : target) + " HTTP/1.1\r\n";
  if (capture.find_header("host") == nullptr && !host.empty()) {
    out += "Host: " + host + "\r\n";
  }
  for (const auto& h : capture.headers) {
    if (iequals_ascii(h.name, "content-length") || iequals_ascii(h.name, "transfer-encoding")) {
      continue;
    }
    out += h.name + ": " + h.value + "\r\n";
  }
  out += "Content-Length: " + std::to_string(capture.body.size()) + "\r\n\r\n";
  out += capture.body;
  return out;
}

}  // namespace epilot
