#pragma once

// The fixtures a run can name: the built-in ones, a folder of the user's own
// (whose names shadow built-in ones), and template files named by path. The
// catalog owns the text of every fixture it read; the Fixture pointers it
// hands out stay valid for as long as it lives.

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "lib/epilot/templates.hpp"
#include "lib/util/error.hpp"

namespace epilot {

class FixtureCatalog {
 public:
  FixtureCatalog() = default;
  FixtureCatalog(const FixtureCatalog&) = delete;
  FixtureCatalog& operator=(const FixtureCatalog&) = delete;

  // Add every NAME.json and NAME.request.json of the folder `dir` (hidden
  // files and other names are left out). An unreadable folder or file is
  // an error naming it.
  Status add_directory(const std::string& dir);

  // Add `text`, read from `origin`, as the fixture `name` (which may end in
  // ".request" for the request form) and return it.
  const Fixture& add(std::string name, std::string text, std::string origin);

  // Keep a template file named by its path (replay ./my.json) and return it
  // as a fixture; it has no name find() reaches, so it shadows nothing.
  const Fixture& add_file(std::string name, std::string text, std::string origin);

  // The fixture called `name` (with or without .json; NAME finds
  // NAME.request too): the user's first.
  const Fixture* find(std::string_view name) const;

  // Every fixture a name reaches, sorted by name (a user's fixture in place
  // of a built-in one of the same name).
  std::vector<const Fixture*> all() const;

  // Names close to `name`, for "did you mean".
  std::vector<std::string> similar(std::string_view name) const;

 private:
  const Fixture* find_exact(std::string_view name) const;
  // The three strings kept in m_text, viewed by the Fixture returned.
  Fixture keep(std::string name, std::string text, std::string origin);

  std::deque<std::string> m_text;  // owns every string a Fixture of m_user views
  std::deque<Fixture> m_user;      // a deque: adding never moves the ones handed out
  std::deque<Fixture> m_files;     // named by path only
};

}  // namespace epilot
