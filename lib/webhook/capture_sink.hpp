#pragma once

// Where a receiver's captures go: appended to one JSON Lines file, or one
// file each in a directory (or both); each record is on disk before store
// returns, so what was answered is kept.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

#include "lib/util/error.hpp"

namespace epilot::webhook {

struct CaptureSinkOptions {
  std::string file;  // JSON Lines file to append to; empty for none
  std::string dir;   // directory for one file per record; empty for none
};

class CaptureSink {
 public:
  // A sink that stores nothing until opened.
  CaptureSink() = default;
  ~CaptureSink();
  CaptureSink(const CaptureSink&) = delete;
  CaptureSink& operator=(const CaptureSink&) = delete;

  // Open `options.file` (append) and make `options.dir`: an error (io) when
  // either cannot be done. Captures hold x-epilot-token and authorization in
  // full: a new file, and the directory, are readable by the user only.
  Status open(const CaptureSinkOptions& options);

  bool enabled() const { return m_fd >= 0 || !m_dir.empty(); }
  // True when the file existed already and others may read it (a caller
  // warns: captures hold tokens).
  bool file_readable_by_others() const { return m_readable_by_others; }

  // Store one `record` (the file gets it as it is; the directory gets it as
  // NNNNNN-ID.json, NNNNNN counting records from 1 and ID the first 64
  // bytes of `id` with anything but [A-Za-z0-9_-] made '_'). Safe from many
  // threads: concurrent stores share one fdatasync, each waiting until a
  // sync that started after its write has finished. A failed append leaves
  // the file as it was, so the next record never lands on a half line.
  Status store(const std::string& record, const std::string& id);

 private:
  Status append(const std::string& record);
  Status write_numbered(const std::string& record, const std::string& id);
  Status sync_through(std::uint64_t ticket);

  std::string m_dir;
  int m_fd = -1;
  bool m_readable_by_others = false;
  std::mutex m_mutex;      // guards the file offset and the counters below
  std::size_t m_size = 0;  // of the file: where the next record starts
  std::size_t m_count = 0;
  std::uint64_t m_written = 0;
  std::mutex m_sync_mutex;  // guards the sync state below
  std::condition_variable m_synced_cv;
  std::uint64_t m_synced = 0;
  bool m_syncing = false;
};

}  // namespace epilot::webhook
