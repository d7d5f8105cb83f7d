#include "server/stop_signals.h"

#include <csignal>
#include <system_error>

#include <pthread.h>

#include <spdlog/spdlog.h>

namespace ledger::server {
namespace {

sigset_t stop_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void StopSignals::block() {
  const auto set = stop_set();
  if (const int error = pthread_sigmask(SIG_BLOCK, &set, nullptr); error != 0) {
    throw std::system_error(error, std::generic_category(), "blocking SIGINT and SIGTERM");
  }
}

StopSignals::StopSignals(std::function<void(int signal)> on_stop)
    : on_stop_(std::move(on_stop)), thread_([this] { run(); }) {}

StopSignals::~StopSignals() {
  closing_ = true;
  // Wakes the thread's sigwait: a signal sent to that thread alone, which it takes as its cue.
  pthread_kill(thread_.native_handle(), SIGTERM);
  thread_.join();
}

void StopSignals::run() {
  const auto set = stop_set();
  bool stopping = false, told_again = false;
  for (;;) {
    int signal = 0;
    if (sigwait(&set, &signal) != 0 || closing_) return;
    if (!stopping) {
      stopping = true;
      on_stop_(signal);
    } else if (!told_again) {
      told_again = true;
      spdlog::info("signal {} again: already stopping; ledgerd answers what is in flight and exits as it would "
                   "after the first (further signals are not logged)",
                   signal);
    }
  }
}

}  // namespace ledger::server
