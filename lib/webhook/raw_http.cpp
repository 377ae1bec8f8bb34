#include "lib/webhook/raw_http.hpp"

#include "lib/util/bytes.hpp"
#include "lib/util/constants.hpp"

namespace epilot::webhook {

namespace {

Error input_error(std::string message, std::vector<std::string> hints = {}) {
  return make_error(ErrorCode::bad_input, std::move(message), std::move(hints));
}

// The head of a request: views into the input, and where the body starts.
struct RawHead {
  http::wire::HeadView view;
  std::size_t size = 0;
};

// Find the blank line that ends the head of `data` and split the head into
// its start line and fields.
Result<RawHead> split_head(std::string_view data) {
  http::wire::HeadScanner scanner;
  const auto size = scanner.scan(data);
  if (!size) {
    return input_error(data.find('\n') == std::string_view::npos
                           ? "raw HTTP request has no complete request line"
                           : "raw HTTP request is truncated in its headers (no empty line before the body)");
  }
  if (*size > http::wire::k_max_head) {
    return input_error("raw HTTP request's head is larger than " + std::to_string(http::wire::k_max_head) + " bytes");
  }
  auto view = http::wire::parse_head(data.substr(scanner.start(), *size - scanner.start()), k_max_header_count);
  if (!view) {
    return input_error("raw HTTP request: " + view.error().message);
  }
  return RawHead{std::move(*view), *size};
}

// The method, URL and headers of `head` into `capture`; the HTTP version the
// request line names, which decides the body's framing.
Result<http::wire::Version> read_head(const http::wire::HeadView& head, Capture& capture) {
  auto line = http::wire::parse_request_line(head.start_line);
  if (!line) {
    return input_error("raw HTTP " + line.error().message);
  }
  if (!line->version) {
    return input_error("raw HTTP request line '" + http::wire::printable(head.start_line) +
                       "' is not HTTP/1.0 or HTTP/1.1");
  }
  capture.method = std::string(line->method);
  for (const auto& f : head.fields) {
    EPILOT_TRY(http::validate_header(f.name, f.value));
    capture.headers.push_back(http::Header{std::string(f.name), std::string(f.value)});
  }
  capture.url = request_url(line->target, capture.find_header("host"));
  return *line->version;
}

// `rest` decoded from the chunked transfer coding into `body`; nothing may
// follow the last chunk.
Status read_chunked_body(std::string_view rest, std::string& body) {
  http::wire::ChunkedDecoder decoder(k_max_input_size);
  std::size_t used = 0;
  const auto state = decoder.feed(rest, body, used);
  if (state == http::wire::ChunkedDecoder::State::error) {
    return input_error(decoder.error());
  }
  if (state == http::wire::ChunkedDecoder::State::need_more) {
    return input_error("chunked body is truncated (no final zero-size chunk and empty line)");
  }
  if (used != rest.size()) {
    return input_error(std::to_string(rest.size() - used) + " bytes follow the end of the chunked body");
  }
  return ok_status();
}

// A capture must be byte-exact: the bytes after the head are the body
// Content-Length announces, no fewer and no more.
Status check_length(std::string_view rest, std::size_t length) {
  if (rest.size() < length) {
    return input_error("raw HTTP body is truncated: Content-Length says " + std::to_string(length) + " bytes, " +
                       std::to_string(rest.size()) + " follow");
  }
  if (rest.size() > length) {
    return input_error(std::to_string(rest.size() - length) + " bytes follow the body that Content-Length announces",
                       {"an editor may have added a final newline; captures must be byte-exact"});
  }
  return ok_status();
}

}  // namespace

Result<Capture> parse_raw_http(std::string_view data) {
  const auto head = split_head(data);
  if (!head) {
    return head.error();
  }
  Capture capture;
  auto version = read_head(head->view, capture);
  EPILOT_TRY(version);
  auto framing = http::wire::request_framing(*version, head->view.fields);
  if (!framing) {
    return input_error("raw HTTP request: " + framing.error().message);
  }
  const auto rest = data.substr(head->size);
  switch (framing->body) {
    case http::wire::BodyKind::chunked:
      EPILOT_TRY(read_chunked_body(rest, capture.body));
      return capture;
    case http::wire::BodyKind::length:
      EPILOT_TRY(check_length(rest, framing->length));
      break;
    case http::wire::BodyKind::none:
    case http::wire::BodyKind::until_close:
      break;  // a capture file without framing: the body is the rest of the file
  }
  capture.body = std::string(rest);
  return capture;
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
    if (util::iequals_ascii(h.name, "content-length") || util::iequals_ascii(h.name, "transfer-encoding")) {
      continue;
    }
    out += h.name + ": " + h.value + "\r\n";
  }
  out += "Content-Length: " + std::to_string(capture.body.size()) + "\r\n\r\n";
  out += capture.body;
  return out;
}

}  // namespace epilot::webhook
