#pragma once

// A file descriptor that closes itself: the one owner of an open file,
// socket, epoll or eventfd descriptor.

#include <unistd.h>

namespace epilot::util {

class Fd {
 public:
  Fd() = default;
  // Own `fd`; a negative one means none (an open() or socket() that failed).
  explicit Fd(int fd) : m_fd(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : m_fd(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset(other.release());
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return m_fd; }
  bool valid() const { return m_fd >= 0; }

  // Give up ownership: the caller closes what this returns.
  int release() {
    const int fd = m_fd;
    m_fd = -1;
    return fd;
  }

  // Close the descriptor held, if any, and own `fd` instead.
  void reset(int fd = -1) {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = fd;
  }

  // Close now and say how that went (close(2)'s result; 0 when none was held):
  // for a file just written, where a failed close can mean lost data.
  int close() { return m_fd >= 0 ? ::close(release()) : 0; }

 private:
  int m_fd = -1;
};

}  // namespace epilot::util
