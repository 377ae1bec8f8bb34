#include "cli/signals.hpp"

#include <pthread.h>

#include <ctime>

namespace epilot::cli {

StopSignals::StopSignals(std::function<void(int)> on_stop, Again again)
    : m_on_stop(std::move(on_stop)), m_again(again) {
  sigemptyset(&m_signals);
  sigaddset(&m_signals, SIGINT);
  sigaddset(&m_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &m_signals, &m_previous_mask);
  m_thread = std::thread([this] { wait_loop(); });
}

StopSignals::~StopSignals() {
  // The waiting thread takes this SIGTERM (aimed at it alone) as the sign to
  // leave, whatever came before.
  m_closing.store(true);
  // The signal is blocked on that thread and taken by its sigwait: it is a
  // message, never delivered, so it cannot end the thread or the process.
  // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread)
  pthread_kill(m_thread.native_handle(), SIGTERM);
  m_thread.join();
  // A stop signal sent to the process as it closed would otherwise arrive
  // once the mask is restored, and kill it before it has said how it ended.
  const timespec now{0, 0};
  while (sigtimedwait(&m_signals, nullptr, &now) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &m_previous_mask, nullptr);
}

void StopSignals::wait_loop() {
  bool stopping = false;
  for (;;) {
    int signal = 0;
    if (sigwait(&m_signals, &signal) != 0 || m_closing.load()) {
      return;
    }
    if (!stopping) {
      stopping = true;
      m_on_stop(signal);
    } else if (m_again == Again::terminate) {
      // The default action of the signal itself, so that a parent sees the
      // process end by it: raised in this thread, where it is unblocked.
      struct sigaction fallback {};
      fallback.sa_handler = SIG_DFL;
      sigemptyset(&fallback.sa_mask);
      sigaction(signal, &fallback, nullptr);
      sigset_t just_this;
      sigemptyset(&just_this);
      sigaddset(&just_this, signal);
      pthread_sigmask(SIG_UNBLOCK, &just_this, nullptr);
      raise(signal);
    }
  }
}

}  // namespace epilot::cli
