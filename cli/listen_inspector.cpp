#include "cli/listen_inspector.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <array>
#include <future>

#include "cli/output.hpp"
#include "cli/wall_clock.hpp"
#include "lib/http/url.hpp"

namespace epilot::cli {

namespace {

constexpr std::string_view k_module_name = "epilot-action-ui.so";

// The directory of the running binary.
std::string binary_directory() {
  std::array<char, 4096> path{};
  const auto size = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (size <= 0) {
    return ".";
  }
  std::string dir(path.data(), static_cast<std::size_t>(size));
  return dir.substr(0, dir.rfind('/'));
}

// The module's entry point: next to the binary (a build tree), or where
// the package puts it, relative to the binary (EPILOT_UI_MODULE_DIR).
StartInspector load_module() {
  const auto dir = binary_directory();
  const std::array<std::string, 2> candidates = {dir + "/" + std::string(k_module_name),
                                                 dir + "/" EPILOT_UI_MODULE_DIR "/" + std::string(k_module_name)};
  std::string errors;
  for (const auto& path : candidates) {
    if (::access(path.c_str(), F_OK) != 0) {
      continue;
    }
    // Never closed: the server's threads run its code until the process ends.
    if (void* module = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL); module != nullptr) {
      if (void* entry = ::dlsym(module, k_start_inspector_symbol); entry != nullptr) {
        return reinterpret_cast<StartInspector>(entry);
      }
      errors = path + " is a module of another version";
    } else {
      errors = ::dlerror();
    }
  }
  fail(ErrorCode::io,
       "the web inspector's module cannot be loaded: " +
           (errors.empty() ? "no " + candidates[0] + " nor " + candidates[1] : errors),
       {"reinstall epilot-action (the module comes with it); listen works without --ui"});
}

std::unique_ptr<http::Forwarder> forwarder_to(const std::string& url, const std::string& ca_cert,
                                              std::chrono::milliseconds timeout) {
  http::ForwardOptions options;
  options.connections = 2;
  options.ca_cert = ca_cert;
  options.timeout = timeout;
  return take(http::Forwarder::create(take(http::parse_url(url)), options));
}

}  // namespace

std::unique_ptr<ListenInspector> ListenInspector::start(const InspectorSettings& settings) {
  const auto start_module = load_module();
  std::unique_ptr<ListenInspector> self(new ListenInspector(settings));
  self->m_to_listen = forwarder_to(settings.listen_url, settings.ca_cert, settings.listen_timeout);
  if (!settings.app_url.empty()) {
    self->m_to_app = forwarder_to(settings.app_url, settings.ca_cert, settings.app_timeout);
  }
  InspectorConfig config;
  config.page = std::string(inspector_page());
  config.listen_url = settings.listen_url;
  config.app_url = http::shown_url(settings.app_url);
  config.keys = settings.keys;
  config.tolerance = settings.tolerance;
  config.private_key = settings.private_key;
  for (const auto& secret : settings.keys.secrets) {
    config.secrets.push_back(secret.secret);
  }
  config.now = [] { return current_time(); };
  config.random = util::system_random();
  auto* raw = self.get();
  config.send = [raw](ReplayTarget target, const http::wire::Request& request) { return raw->send(target, request); };
  self->m_inspector = std::make_unique<Inspector>(std::move(config), self->m_log);
  std::string error;
  self->m_server.reset(start_module(self->m_inspector.get(), settings.port, &error));
  if (!self->m_server) {
    fail(ErrorCode::io, "the web inspector " + error, {"--ui 0 picks a free port"});
  }
  self->m_inspector->set_port(self->m_server->port());
  return self;
}

ListenInspector::~ListenInspector() { stop(); }

std::string ListenInspector::url() const { return "http://127.0.0.1:" + std::to_string(m_server->port()) + "/"; }

void ListenInspector::stop() {
  if (m_server) {
    m_inspector->close();
    m_server->stop();
    m_server.reset();
  }
}

http::Forwarded ListenInspector::send(ReplayTarget target, const http::wire::Request& request) {
  auto& forwarder = target == ReplayTarget::app ? m_to_app : m_to_listen;
  std::promise<http::Forwarded> done;
  auto answer = done.get_future();
  forwarder->forward(request, [&done](http::Forwarded&& f) { done.set_value(std::move(f)); });
  return answer.get();
}

}  // namespace epilot::cli
