#include "lib/webhook/capture_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "lib/util/file.hpp"

namespace epilot::webhook {

namespace {

Error io_error(std::string message) { return make_error(ErrorCode::io, std::move(message)); }

}  // namespace

CaptureSink::~CaptureSink() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

Status CaptureSink::open(const CaptureSinkOptions& options) {
  if (!options.file.empty()) {
    m_fd = ::open(options.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    struct stat st {};
    if (m_fd < 0 || ::fstat(m_fd, &st) != 0) {
      return io_error("cannot open " + options.file + ": " + std::strerror(errno));
    }
    m_size = static_cast<std::size_t>(st.st_size);
    m_readable_by_others = S_ISREG(st.st_mode) && (st.st_mode & 077) != 0;
  }
  if (!options.dir.empty()) {
    EPILOT_TRY(util::make_directories(options.dir, 0700));
    m_dir = options.dir;
  }
  return ok_status();
}

Status CaptureSink::store(const std::string& record, const std::string& id) {
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(m_mutex);
    ++m_count;
    if (m_fd >= 0) {
      EPILOT_TRY(append(record));
      ticket = ++m_written;
    }
    if (!m_dir.empty()) {
      EPILOT_TRY(write_numbered(record, id));
    }
  }
  return ticket == 0 ? ok_status() : sync_through(ticket);
}

// Append one whole record or nothing: after a failed write (a full disk)
// the part written is cut off again, so that the next record does not land
// on a half line and make an answered request unreadable.
Status CaptureSink::append(const std::string& record) {
  std::size_t written = 0;
  while (written < record.size()) {
    const auto n = ::write(m_fd, record.data() + written, record.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      if (written > 0 && ::ftruncate(m_fd, static_cast<off_t>(m_size)) != 0) {
        return io_error(std::string("cannot write the capture (") + std::strerror(err) +
                        "), and the partial record could not be removed: " + std::strerror(errno));
      }
      return io_error(std::string("cannot write the capture: ") + std::strerror(err));
    }
    written += static_cast<std::size_t>(n);
  }
  m_size += written;
  return ok_status();
}

// NNNNNN-ID.json, never overwriting: the id comes from the request.
Status CaptureSink::write_numbered(const std::string& record, const std::string& id) {
  char name[32];
  std::snprintf(name, sizeof name, "%06zu", m_count);
  std::string safe_id;
  for (char c : id.substr(0, 64)) {
    safe_id += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ? c : '_';
  }
  const auto path = m_dir + "/" + name + (safe_id.empty() ? "" : "-" + safe_id) + ".json";
  return write_file_atomic(path, record, 0600, util::Overwrite::no);
}

// Wait until a sync that started after write number `ticket` has finished,
// running it when no other thread is.
Status CaptureSink::sync_through(std::uint64_t ticket) {
  std::unique_lock lock(m_sync_mutex);
  while (m_synced < ticket) {
    if (m_syncing) {
      m_synced_cv.wait(lock);
      continue;
    }
    m_syncing = true;
    std::uint64_t target = 0;
    {
      std::lock_guard write_lock(m_mutex);
      target = m_written;
    }
    lock.unlock();
    const int rc = ::fdatasync(m_fd);
    const int err = errno;
    lock.lock();
    m_syncing = false;
    if (rc == 0) {
      m_synced = std::max(m_synced, target);
    }
    m_synced_cv.notify_all();
    if (rc != 0) {
      return io_error(std::string("cannot sync the capture: ") + std::strerror(err));
    }
  }
  return ok_status();
}

}  // namespace epilot::webhook
