#include "lib/util/json.hpp"

#include "lib/util/json_writer.hpp"

namespace epilot::util {

Status check_json_nesting(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        return make_error(ErrorCode::bad_input, "arrays and objects nest deeper than " + std::to_string(max_depth) +
                                                    " levels (at byte " + std::to_string(i) + ")");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      depth -= 1;
    }
  }
  return ok_status();
}

std::string json_error_text(const std::exception& e) {
  std::string what = e.what();
  if (const auto tag_end = what.find("] "); tag_end != std::string::npos) {
    what = what.substr(tag_end + 2);
  }
  if (const auto last = what.find("; last read:"); last != std::string::npos) {
    what.erase(last);
  }
  return what;
}

std::string json_quote(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

}  // namespace epilot::util
