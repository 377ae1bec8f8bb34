#include "cli/replay_inputs.hpp"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "cli/input.hpp"
#include "cli/output.hpp"
#include "lib/constants.hpp"
#include "lib/inputs.hpp"
#include "lib/payload.hpp"

namespace epilot::cli {

namespace {

constexpr std::string_view k_fixture_prefix = "fixture:";

ReplayItem fixture_item(const Fixture& fixture) {
  ReplayItem item;
  item.name = std::string(fixture.name);
  item.source = item.name;
  item.fixture = &fixture;
  return item;
}

void add_file(const std::string& path, std::vector<ReplayItem>& items) {
  const auto data = read_input(path, k_max_input_size);
  auto requests = parse_requests(data);
  if (!requests.ok()) {
    const auto& e = requests.error();
    fail(e.code, (path == "-" ? std::string("stdin") : path) + ": " + e.message, e.hints);
  }
  if (requests->empty()) {
    fail(ErrorCode::bad_input, path + " holds no requests");
  }
  // A browser or proxy export holds a whole session: pages, scripts, API
  // calls. Only its webhook requests are for an endpoint (or, in an export
  // made before signing, its POSTs).
  const auto format = detect_input_format(std::string_view(data).substr(0, 64 * 1024));
  if (format.ok() && *format == InputFormat::har) {
    const auto total = requests->size();
    const bool any_webhook = keep_webhook_requests(*requests) == WebhookRule::webhook_headers;
    if (requests->empty()) {
      fail(ErrorCode::bad_input, path + " holds no webhook request: none of its " + std::to_string(total) +
                                     " entries is a POST or carries webhook-* headers");
    }
    if (requests->size() < total) {
      print_warning(path + ": " + std::to_string(total - requests->size()) + " of its " + std::to_string(total) +
                    " requests are left out: only those " +
                    (any_webhook ? std::string("with webhook-* headers") : std::string("that are POSTs")) + " are sent");
    }
  }
  const auto count = requests->size();
  for (std::size_t i = 0; i < count; ++i) {
    ReplayItem item;
    item.source = path;
    item.name = count == 1 ? path : path + "#" + std::to_string(i + 1);
    item.capture = std::move((*requests)[i]);
    items.push_back(std::move(item));
  }
}

bool is_directory(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

void add_directory(const std::string& path, std::vector<ReplayItem>& items) {
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
    const auto name = entry.path().filename().string();
    if (!name.empty() && name.front() != '.' && entry.is_regular_file()) {
      files.push_back(entry.path().string());
    }
  }
  if (error) {
    fail(ErrorCode::io, "cannot read the directory " + path + ": " + error.message());
  }
  if (files.empty()) {
    fail(ErrorCode::bad_input, "the directory " + path + " holds no files");
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    add_file(file, items);
  }
}

}  // namespace

std::vector<ReplayItem> load_replay_inputs(const std::vector<std::string>& inputs) {
  std::vector<ReplayItem> items;
  if (inputs.empty()) {
    items.push_back(fixture_item(*find_fixture(k_builtin_payload_name)));
    return items;
  }
  for (const auto& input : inputs) {
    if (input.rfind(k_fixture_prefix, 0) == 0) {
      const auto name = input.substr(k_fixture_prefix.size());
      const auto* fixture = find_fixture(name);
      if (fixture == nullptr) {
        fail(ErrorCode::usage, "no built-in fixture is called '" + name + "'",
             {"list them with: epilot-action fixtures"});
      }
      items.push_back(fixture_item(*fixture));
    } else if (input == "-") {
      add_file(input, items);
    } else if (is_directory(input)) {
      add_directory(input, items);
    } else if (exists(input)) {
      add_file(input, items);
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
        add_file(file, items);
      }
    } else if (const auto* fixture = find_fixture(input)) {
      items.push_back(fixture_item(*fixture));
    } else {
      fail(ErrorCode::usage, "'" + input + "' is neither a file nor a built-in fixture",
           {"list the fixtures with: epilot-action fixtures"});
    }
  }
  return items;
}

}  // namespace epilot::cli
