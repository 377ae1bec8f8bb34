#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/support.hpp"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "lib/util/constants.hpp"
#include "lib/util/file.hpp"

namespace epilot::test {

void TempDirTest::SetUp() {
  std::string tmpl = ::testing::TempDir() + "epilot-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  m_dir = tmpl;
}

void TempDirTest::TearDown() { std::filesystem::remove_all(m_dir); }

RefusedPort::RefusedPort() {
  m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    ADD_FAILURE() << "can't bind a loopback port";
    return;
  }
  m_port = ntohs(address.sin_port);
}

RefusedPort::~RefusedPort() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

std::string fixtures_dir() { return EPILOT_FIXTURES_DIR; }

std::string read_fixture(const std::string& relative_path) {
  auto text = util::read_file(fixtures_dir() + "/" + relative_path, k_max_input_size);
  if (!text) {
    throw std::runtime_error(text.error().message);
  }
  return *text;
}

std::string Vector::get(const std::string& key) const {
  const auto it = fields.find(key);
  return it == fields.end() ? "" : it->second;
}

std::vector<std::string> Vector::all(const std::string& key) const {
  std::vector<std::string> out;
  const auto [first, last] = fields.equal_range(key);
  for (auto it = first; it != last; ++it) {
    out.push_back(it->second);
  }
  return out;
}

Vector parse_vector(const std::string& name, const std::string& text) {
  Vector v;
  v.name = name;
  std::size_t pos = 0;
  while (true) {
    const auto eol = text.find('\n', pos);
    if (eol == std::string::npos) {
      throw std::runtime_error(name + ": no blank line before the body");
    }
    const auto line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty()) {
      break;
    }
    const auto colon = line.find(':');
    if (colon == std::string::npos) {
      throw std::runtime_error(name + ": header line without ':'");
    }
    auto value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {
      value.erase(0, 1);
    }
    v.fields.emplace(line.substr(0, colon), value);
  }
  v.body = text.substr(pos);
  if (!v.has("expect")) {
    throw std::runtime_error(name + ": no expect field");
  }
  return v;
}

std::vector<Vector> load_vectors() {
  std::vector<Vector> out;
  for (const auto& entry : std::filesystem::directory_iterator(fixtures_dir() + "/vectors")) {
    const auto path = entry.path();
    if (path.extension() != ".txt") {
      continue;
    }
    out.push_back(parse_vector(path.stem().string(), read_fixture("vectors/" + path.filename().string())));
  }
  std::sort(out.begin(), out.end(), [](const Vector& a, const Vector& b) { return a.name < b.name; });
  return out;
}

}  // namespace epilot::test
