#pragma once

#include <string>

namespace epilot::http {

// One header field, as received: the name keeps its case (lookups ignore
// it) and the value keeps every byte, obs-text included.
struct Header {
  std::string name;
  std::string value;
};

}  // namespace epilot::http
