#include "lib/epilot/fixture_catalog.hpp"

#include <algorithm>
#include <filesystem>

#include "lib/util/constants.hpp"
#include "lib/util/file.hpp"
#include "lib/util/suggest.hpp"

namespace epilot {

namespace {

constexpr std::string_view k_json_suffix = ".json";

std::string_view without_json_suffix(std::string_view name) {
  if (name.size() > k_json_suffix.size() && name.substr(name.size() - k_json_suffix.size()) == k_json_suffix) {
    name.remove_suffix(k_json_suffix.size());
  }
  return name;
}

}  // namespace

Status FixtureCatalog::add_directory(const std::string& dir) {
  std::error_code error;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const auto name = entry.path().filename().string();
    std::error_code type_error;
    if (!name.empty() && name.front() != '.' && without_json_suffix(name) != name &&
        entry.is_regular_file(type_error)) {
      files.push_back(entry.path());
    }
  }
  if (error) {
    return make_error(ErrorCode::io, "can't read the fixtures folder " + dir + ": " + error.message());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    auto text = util::read_file(path.string(), k_max_input_size);
    EPILOT_TRY(text);
    add(std::string(without_json_suffix(path.filename().string())), std::move(text).value(), path.string());
  }
  return ok_status();
}

Fixture FixtureCatalog::keep(std::string name, std::string text, std::string origin) {
  m_text.push_back(std::move(name));
  const std::string_view name_view = m_text.back();
  m_text.push_back(std::move(text));
  const std::string_view text_view = m_text.back();
  m_text.push_back(std::move(origin));
  return Fixture{name_view, text_view, m_text.back()};
}

const Fixture& FixtureCatalog::add(std::string name, std::string text, std::string origin) {
  m_user.push_back(keep(std::move(name), std::move(text), std::move(origin)));
  return m_user.back();
}

const Fixture& FixtureCatalog::add_file(std::string name, std::string text, std::string origin) {
  m_files.push_back(keep(std::move(name), std::move(text), std::move(origin)));
  return m_files.back();
}

const Fixture* FixtureCatalog::find_exact(std::string_view name) const {
  // The latest addition of a name wins: a folder named later overrides one before it.
  for (auto it = m_user.rbegin(); it != m_user.rend(); ++it) {
    if (it->name == name) {
      return &*it;
    }
  }
  return find_fixture(name);
}

const Fixture* FixtureCatalog::find(std::string_view name) const {
  name = without_json_suffix(name);
  if (const auto* found = find_exact(name)) {
    return found;
  }
  // NAME for NAME.request: the file's name without its two extensions.
  return find_exact(std::string(name) + ".request");
}

std::vector<const Fixture*> FixtureCatalog::all() const {
  std::vector<const Fixture*> out;
  const auto add_unique = [&](const Fixture& f) {
    if (find_exact(f.name) == &f) {
      out.push_back(&f);
    }
  };
  for (const auto& f : m_user) {
    add_unique(f);
  }
  for (const auto& f : builtin_fixtures()) {
    add_unique(f);
  }
  std::sort(out.begin(), out.end(), [](const Fixture* a, const Fixture* b) { return a->name < b->name; });
  return out;
}

std::vector<std::string> FixtureCatalog::similar(std::string_view name) const {
  std::vector<std::string_view> names;
  for (const auto* f : all()) {
    names.push_back(f->name);
  }
  // Sorted by name first, so that equally close names come in a stable order.
  std::sort(names.begin(), names.end());
  return util::similar_names(without_json_suffix(name), names);
}

}  // namespace epilot
