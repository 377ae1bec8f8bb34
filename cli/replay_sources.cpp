#include "cli/replay_sources.hpp"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <numeric>

#include <nlohmann/json.hpp>

#include "cli/fixture_context.hpp"
#include "cli/input_output.hpp"
#include "cli/output.hpp"
#include "lib/epilot/fixture_catalog.hpp"
#include "lib/epilot/input_kind.hpp"
#include "lib/epilot/templates.hpp"
#include "lib/util/bytes.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/json.hpp"
#include "lib/webhook/har.hpp"
#include "lib/webhook/input_formats.hpp"

namespace epilot::cli {

namespace {

// The extensions a folder's request files have: a README beside them is not one.
constexpr std::string_view k_request_extensions[] = {".json", ".jsonl", ".ndjson", ".har", ".http", ".txt"};

ReplayItem fixture_item(const Fixture& fixture) {
  ReplayItem item;
  item.name = fixture.origin.empty() ? std::string(fixture.name) : std::string(fixture.origin);
  item.source = item.name;
  item.fixture = &fixture;
  return item;
}

// A HAR export of a session that made no request: in a folder, nothing to send.
bool is_empty_archive(std::string_view data) {
  if (!webhook::looks_like_har(data.substr(0, 64 * 1024))) {
    return false;
  }
  const auto doc = util::parse_json_or_discarded<nlohmann::json>(data);
  if (!doc.is_object() || !doc.contains("log") || !doc["log"].is_object()) {
    return false;
  }
  const auto entries = doc["log"].find("entries");
  return entries != doc["log"].end() && entries->is_array() && entries->empty();
}

// A browser or proxy export holds a whole session: pages, scripts, API
// calls. Only its webhook requests are for an endpoint (or, in an export
// made before signing, its POSTs). `numbers` keeps each one's place in the file.
void keep_webhook_requests(const std::string& path, std::vector<webhook::Capture>& requests,
                           std::vector<std::size_t>& numbers) {
  const auto total = requests.size();
  const auto selection = select_webhook_requests(requests);
  const bool any_webhook = selection.rule == webhook::WebhookRule::webhook_headers;
  std::vector<webhook::Capture> kept;
  numbers.clear();
  for (const auto index : selection.kept) {
    kept.push_back(std::move(requests[index]));
    numbers.push_back(index + 1);
  }
  requests = std::move(kept);
  if (requests.empty()) {
    fail(ErrorCode::bad_input, path + " holds no webhook request: none of its " + std::to_string(total) +
                                   " entries is a POST or carries webhook-* headers");
  }
  if (requests.size() < total) {
    const auto left = total - requests.size();
    print_warning(path + ": " + std::to_string(left) + " of its " + std::to_string(total) + " requests " +
                  (left == 1 ? "is" : "are") + " left out: only those " +
                  (any_webhook ? std::string("with webhook-* headers") : std::string("that are POSTs")) + " are sent");
  }
}

// Bodies as logs keep them: base64 in an AWS Lambda event (decoded here),
// parsed JSON, or under another name than "body" (each said once).
void restore_bodies(const std::string& path, std::vector<webhook::Capture>& requests) {
  // An AWS Lambda event carries the body base64-encoded: send the bytes it stands for.
  std::size_t decoded = 0;
  for (auto& capture : requests) {
    if (auto body = decoded_event_body(capture)) {
      capture.body = std::move(*body);
      capture.body_base64_event = false;
      ++decoded;
    }
  }
  if (decoded > 0) {
    print_warning(terminal_text(path) + ": its body is base64 (\"isBase64Encoded\": true); the decoded bytes are sent");
  }
  const auto parsed =
      std::count_if(requests.begin(), requests.end(), [](const webhook::Capture& c) { return c.body_parsed; });
  if (parsed > 0) {
    print_warning(terminal_text(path) + ": " +
                  (parsed == 1 ? std::string("a body was") : std::to_string(parsed) + " bodies were") +
                  " logged parsed (JSON, not the text received); it is sent re-encoded compactly, which may not be "
                  "the bytes epilot sent");
  }
  // A log that kept the body under another name ("payload", "data") reads
  // as a capture without one: its Content-Length gives it away.
  const auto lost = std::find_if(requests.begin(), requests.end(), [](const webhook::Capture& c) {
    const auto* length = c.find_header("content-length");
    return c.body.empty() && length != nullptr && *length != "0";
  });
  if (lost != requests.end()) {
    print_warning(terminal_text(path) + ": a request's content-length is " +
                  terminal_text(*lost->find_header("content-length")) +
                  " but the capture holds no body (was it logged under another name than \"body\"?); it is sent empty");
  }
}

void add_captures(const std::string& path, std::string_view data, std::vector<ReplayItem>& items) {
  auto requests = webhook::parse_requests(data);
  if (!requests.ok()) {
    const auto& e = requests.error();
    fail(e.code, (path == "-" ? std::string("stdin") : path) + ": " + e.message, e.hints);
  }
  if (requests->empty()) {
    fail(ErrorCode::bad_input, path + " holds no requests");
  }
  const auto total = requests->size();
  std::vector<std::size_t> numbers(total);  // each request's place in the file, 1-based, for its name
  std::iota(numbers.begin(), numbers.end(), 1);
  const auto format = webhook::detect_input_format(std::string_view(data).substr(0, 64 * 1024));
  if (format.ok() && *format == webhook::InputFormat::har) {
    keep_webhook_requests(path, *requests, numbers);
  }
  restore_bodies(path, *requests);
  const auto count = requests->size();
  for (std::size_t i = 0; i < count; ++i) {
    ReplayItem item;
    item.source = path;
    item.name = total == 1 ? path : path + "#" + std::to_string(numbers[i]);
    item.capture = std::move((*requests)[i]);
    items.push_back(std::move(item));
  }
}

// JSON Lines of payloads: a request per line, each sent as the line's bytes.
void add_payload_lines(const std::string& name, std::string_view data, FixtureCatalog& catalog,
                       std::vector<ReplayItem>& items) {
  warn_unknown_placeholders(name, data);
  std::size_t number = 0;
  for (std::size_t pos = 0; pos < data.size();) {
    auto eol = data.find('\n', pos);
    eol = eol == std::string_view::npos ? data.size() : eol;
    auto line = data.substr(pos, eol - pos);
    pos = eol + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);  // the line end is CRLF, not part of the record
    }
    if (util::trim_whitespace(line).empty()) {
      continue;
    }
    items.push_back(
        fixture_item(fixture_from_file(catalog, name + "#" + std::to_string(number), std::string(line), false)));
  }
}

// A file means what it holds: captures are replayed, anything else is a
// payload (or template) sent as the body of a request signed afresh.
void add_file(const std::string& path, FixtureCatalog& catalog, std::vector<ReplayItem>& items, bool in_folder) {
  auto data = read_input(path, k_max_input_size);
  if (in_folder && is_empty_archive(data)) {
    print_warning(terminal_text(path) + " is left out: the archive holds no requests");
    return;
  }
  const auto name = path == "-" ? std::string("stdin") : path;
  const auto kind = classify_input(data, path);
  if (!kind.ok()) {
    fail(kind.error().code, name + ": " + kind.error().message, kind.error().hints);
  }
  switch (*kind) {
    case InputKind::captures:
      add_captures(path, data, items);
      return;
    case InputKind::payload_lines:
      add_payload_lines(name, data, catalog, items);
      return;
    case InputKind::payload:
    case InputKind::request_template:
      warn_stdin_newline(path, data, "sent");
      items.push_back(fixture_item(fixture_from_file(catalog, name, std::move(data))));
      return;
  }
}

bool has_request_extension(const std::string& name) {
  return std::any_of(std::begin(k_request_extensions), std::end(k_request_extensions), [&](std::string_view ext) {
    return name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0;
  });
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

void add_directory(const std::string& path, FixtureCatalog& catalog, std::vector<ReplayItem>& items) {
  std::vector<std::string> files;
  std::vector<std::string> others;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.front() == '.') {
      continue;
    }
    // A symlink may point anywhere (a secret outside the folder): only the
    // folder's own regular files are sent.
    std::error_code type_error;
    const bool regular = !entry.is_symlink(type_error) && entry.is_regular_file(type_error);
    (regular && has_request_extension(name) ? files : others).push_back(entry.path().string());
  }
  if (error) {
    fail(ErrorCode::io, "cannot read the directory " + path + ": " + error.message());
  }
  if (files.empty()) {
    fail(ErrorCode::bad_input, "the directory " + path + " holds no request files",
         {"replay takes its files ending in .json, .jsonl, .ndjson, .har, .http and .txt"});
  }
  if (!others.empty()) {
    std::sort(others.begin(), others.end());
    print_warning(path + ": " + std::to_string(others.size()) + (others.size() == 1 ? " file is" : " files are") +
                  " left out (" + terminal_text(others.front()) + (others.size() > 1 ? ", ..." : "") +
                  "): only regular .json, .jsonl, .ndjson, .har, .http and .txt files are sent, and no symlink");
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    add_file(file, catalog, items, true);
  }
}

}  // namespace

std::vector<ReplayItem> load_replay_inputs(const std::vector<std::string>& inputs, FixtureCatalog& catalog) {
  std::vector<ReplayItem> items;
  if (inputs.empty()) {
    items.push_back(fixture_item(checked_fixture(*catalog.find(k_builtin_payload_name))));
    return items;
  }
  for (const auto& input : inputs) {
    if (input.rfind(k_fixture_prefix, 0) == 0) {
      items.push_back(fixture_item(resolve_fixture(catalog, input.substr(k_fixture_prefix.size()))));
    } else if (input == "-") {
      add_file(input, catalog, items, false);
    } else if (is_directory(input)) {
      add_directory(input, catalog, items);
    } else if (exists(input)) {
      add_file(input, catalog, items, false);
    } else if (input.find_first_of("*?[") != std::string::npos) {
      glob_t matches{};
      const int rc = ::glob(input.c_str(), GLOB_ERR, nullptr, &matches);
      std::vector<std::string> files;
      for (std::size_t i = 0; rc == 0 && i < matches.gl_pathc; ++i) {
        if (!is_directory(matches.gl_pathv[i])) {
          files.emplace_back(matches.gl_pathv[i]);
        }
      }
      globfree(&matches);
      if (files.empty()) {
        fail(ErrorCode::usage, "no file matches '" + input + "'");
      }
      for (const auto& file : files) {  // glob sorts them
        add_file(file, catalog, items, false);
      }
    } else if (const auto* fixture = catalog.find(input)) {
      items.push_back(fixture_item(checked_fixture(*fixture)));
    } else {
      fail(ErrorCode::usage, "'" + terminal_text(input) + "' is neither a file nor a fixture",
           fixture_hints(catalog, input));
    }
  }
  return items;
}

}  // namespace epilot::cli
