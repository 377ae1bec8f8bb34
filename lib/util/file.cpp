#include "lib/util/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "lib/util/fd.hpp"

namespace epilot::util {

namespace {

Error io_error(const std::string& what, const std::string& path, int err) {
  return make_error(ErrorCode::io, what + " " + path + ": " + std::strerror(err));
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Result<std::string> read_fd(int fd, std::string_view name, std::size_t max_size) {
  std::string out;
  std::vector<char> buffer(1 << 16);
  while (true) {
    const auto n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return io_error("cannot read", std::string(name), errno);
    }
    if (n == 0) {
      break;
    }
    if (out.size() + static_cast<std::size_t>(n) > max_size) {
      return make_error(ErrorCode::io, std::string(name) + " is larger than " + std::to_string(max_size) +
                                           " bytes, the most accepted");
    }
    out.append(buffer.data(), static_cast<std::size_t>(n));
  }
  return out;
}

Result<std::string> read_file(const std::string& path, std::size_t max_size) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return io_error("cannot open", path, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return make_error(ErrorCode::io, "cannot read " + path + ": it is a directory");
  }
  return read_fd(fd.get(), path, max_size);
}

namespace {

Status write_all(int fd, std::string_view content, const std::string& path) {
  std::size_t written = 0;
  while (written < content.size()) {
    const auto n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return io_error("cannot write", path, errno);
    }
    written += static_cast<std::size_t>(n);
  }
  return ok_status();
}

// A FIFO, a terminal or a device (/dev/stdout, /dev/null) is written into:
// renaming a file over it would replace the node itself.
Status write_into(const std::string& path, std::string_view content) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    return io_error("cannot open", path, errno);
  }
  EPILOT_TRY(write_all(fd.get(), content, path));
  if (fd.close() != 0) {
    return io_error("cannot write", path, errno);
  }
  return ok_status();
}

}  // namespace

Status write_file_atomic(const std::string& requested, std::string_view content, mode_t mode, Overwrite overwrite) {
  struct stat st {};
  const bool exists = ::stat(requested.c_str(), &st) == 0;  // through symlinks
  if (overwrite == Overwrite::no && (exists || file_exists(requested))) {
    return make_error(ErrorCode::io, Subject::existing_file, requested + " already exists");
  }
  if (exists && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) {
      return make_error(ErrorCode::io, "cannot write " + requested + ": it is a directory");
    }
    return write_into(requested, content);
  }
  // A symlink to a regular file: the file is replaced, the link kept.
  std::string path = requested;
  if (exists) {
    if (char* real = ::realpath(requested.c_str(), nullptr); real != nullptr) {
      path = real;
      std::free(real);
    }
  }
  std::string tmp = path + ".tmp.XXXXXX";
  std::vector<char> tmpl(tmp.begin(), tmp.end());
  tmpl.push_back('\0');
  Fd fd(::mkstemp(tmpl.data()));
  if (fd.get() < 0) {
    return io_error("cannot create a temporary file in", directory_of(path), errno);
  }
  tmp = tmpl.data();
  const auto fail = [&](const std::string& what, int err) {
    ::unlink(tmp.c_str());
    return io_error(what, path, err);
  };
  // mkstemp creates 0600; widen to `mode` minus the umask for non-secret files.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd.get(), mode & ~mask & 07777) != 0) {
    return fail("cannot set permissions of", errno);
  }
  if (auto written = write_all(fd.get(), content, path); !written) {
    ::unlink(tmp.c_str());
    return written.error();
  }
  if (::fsync(fd.get()) != 0) {
    return fail("cannot sync", errno);
  }
  if (fd.close() != 0) {
    return fail("cannot write", errno);
  }
  if (overwrite == Overwrite::yes) {
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      return fail("cannot replace", errno);
    }
    return ok_status();
  }
  // link() fails with EEXIST instead of replacing: no window in which another
  // writer's file could be clobbered.
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    if (err == EEXIST) {
      return make_error(ErrorCode::io, Subject::existing_file, path + " already exists");
    }
    return io_error("cannot create", path, err);
  }
  ::unlink(tmp.c_str());
  return ok_status();
}

namespace {

// `path` with its directory resolved (the file itself need not exist).
std::string canonical_location(const std::string& path) {
  const auto dir = directory_of(path);
  const auto name = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  char* real = ::realpath(dir.c_str(), nullptr);
  if (real == nullptr) {
    return path;
  }
  std::string out = std::string(real) + "/" + name;
  std::free(real);
  return out;
}

}  // namespace

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {};
  struct stat sb {};
  if (::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0) {
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  }
  return canonical_location(a) == canonical_location(b);
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Status make_directories(const std::string& path, mode_t mode) {
  if (path.empty()) {
    return ok_status();
  }
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    const auto part = path.substr(0, pos);
    if (part.empty() || file_exists(part)) {
      continue;
    }
    if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST) {
      return io_error("cannot create directory", part, errno);
    }
  }
  return ok_status();
}

int file_mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return -1;
  }
  return static_cast<int>(st.st_mode & 07777);
}

}  // namespace epilot::util
