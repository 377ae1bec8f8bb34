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

std::string indent_json(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 2);
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  const auto newline = [&] {
    out.push_back('\n');
    out.append(2 * depth, ' ');
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out.push_back(c);
      in_string = escaped || c != '"';
      escaped = !escaped && c == '\\';
      continue;
    }
    if (c == '{' || c == '[') {
      // An empty one stays on its line.
      const auto next = text.find_first_not_of(" \t\n\r", i + 1);
      out.push_back(c);
      if (next != std::string_view::npos && (text[next] == '}' || text[next] == ']')) {
        out.push_back(text[next]);
        i = next;
      } else {
        ++depth;
        newline();
      }
    } else if (c == '}' || c == ']') {
      depth = depth > 0 ? depth - 1 : 0;
      newline();
      out.push_back(c);
    } else if (c == ',') {
      out.push_back(c);
      newline();
    } else if (c == ':') {
      out.append(": ");
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      in_string = c == '"';
      out.push_back(c);
    }
  }
  return out;
}

std::string json_quote(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

}  // namespace epilot::util
