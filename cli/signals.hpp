#pragma once

// SIGINT and SIGTERM as a request to stop, the one way every command that
// runs until stopped (replay, listen) takes them.

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace epilot::cli {

// While it lives, SIGINT and SIGTERM are blocked (in the thread that made
// it, and so in every thread started after) and a thread of its own waits
// for them with sigwait: no handler runs, so the stop is an ordinary call.
// The first one calls `on_stop` with the signal's number, on that thread.
// Destruction, on a throw too, wakes and joins the thread, drops the stop
// signals that came meanwhile, and restores the signal mask it found.
// Make it before any thread that must not take the signals is started.
class StopSignals {
 public:
  // What a signal after the first one does.
  enum class Again {
    terminate,  // ends the process at once, by that signal (a second Ctrl-C)
    ignore,     // nothing: the stop under way is not hurried
  };

  StopSignals(std::function<void(int signal)> on_stop, Again again);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  void wait_loop();

  std::function<void(int)> m_on_stop;
  Again m_again;
  sigset_t m_signals;
  sigset_t m_previous_mask;
  std::atomic<bool> m_closing{false};
  std::thread m_thread;
};

}  // namespace epilot::cli
