#include "cli/wall_clock.hpp"

#include <chrono>

namespace epilot::cli {

std::int64_t current_time() { return current_time_ms() / 1000; }

std::int64_t current_time_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace epilot::cli
