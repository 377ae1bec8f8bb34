#pragma once

// Test-only helpers: reading fixtures and the vector file format
// (fixtures/vectors/README.md).

#include <gtest/gtest.h>

#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace epilot::test {

std::string fixtures_dir();
std::string read_fixture(const std::string& relative_path);

struct Vector {
  std::string name;
  std::multimap<std::string, std::string> fields;
  std::string body;

  bool has(const std::string& key) const { return fields.count(key) > 0; }
  std::string get(const std::string& key) const;  // first value, "" if absent
  std::vector<std::string> all(const std::string& key) const;
};

Vector parse_vector(const std::string& name, const std::string& text);
std::vector<Vector> load_vectors();

}  // namespace epilot::test

namespace epilot::test {

// A fixture with a fresh directory, removed after the test.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  std::string path(const std::string& name) const { return m_dir + "/" + name; }

  std::string m_dir;
};

// A loopback port bound but never listened on, for as long as this lives:
// connecting to it is refused, and no other test can take it meanwhile.
class RefusedPort {
 public:
  RefusedPort();
  ~RefusedPort();
  RefusedPort(const RefusedPort&) = delete;
  RefusedPort& operator=(const RefusedPort&) = delete;
  int port() const { return m_port; }

 private:
  int m_fd = -1;
  int m_port = 0;
};

// Name vectors in gtest output instead of dumping their bytes.
inline void PrintTo(const Vector& v, std::ostream* os) { *os << v.name; }
}  // namespace epilot::test
