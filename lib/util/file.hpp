#pragma once

// File I/O that never leaves a half-written file or clobbers one by accident.

#include <sys/types.h>
#include <cstddef>
#include <string>
#include <string_view>

#include "lib/util/error.hpp"

namespace epilot::util {

// Read all of `path`, refusing more than `max_size` bytes (so a wrong path to
// a huge file is an error, not an out-of-memory).
Result<std::string> read_file(const std::string& path, std::size_t max_size);

// Read all of an open file descriptor (stdin), with the same limit.
Result<std::string> read_fd(int fd, std::string_view name, std::size_t max_size);

enum class Overwrite { no, yes };

// Write `content` to `path` through a temporary file in the same directory,
// fsync'd and then renamed (Overwrite::yes) or hard-linked (Overwrite::no, so
// an existing file is never replaced, even by a racing writer). The file gets
// permission bits `mode` (before the umask for new files, exactly for secrets
// when `mode` is 0600). A symlink to a file is followed (the file is
// replaced, the link stays); a FIFO or a device (/dev/stdout) is
// written into, not replaced.
Status write_file_atomic(const std::string& path, std::string_view content, mode_t mode, Overwrite overwrite);

bool file_exists(const std::string& path);

// True when `a` and `b` name the same file, however they are spelt
// (`k`, `./k`, `dir/../k`, a symlink or a hard link to it), existing or not.
bool same_file(const std::string& a, const std::string& b);

// Create `path` and missing parents with `mode` (0700 for key directories).
Status make_directories(const std::string& path, mode_t mode);

// Permission bits of `path`, or -1 if it cannot be stat'ed.
int file_mode(const std::string& path);

}  // namespace epilot::util
