// ledger::client::RetryPolicy: how a command is sent again, with the same request key, after
// the connection broke before its answer or the server answered busy or shuttingDown.
// The server answers a key it has seen with the first outcome (replayed = true), so a retry
// never does a command twice (docs/protocol.md, "Requests").
//
// Values only; thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace ledger::client {

struct RetryPolicy {
  // Tries in all, the first one included; 1: no retry. With the defaults a command is given
  // up after 5 tries and 0.25 + 0.5 + 1 + 2 = 3.75 s of pauses.
  int attempts = 5;
  std::chrono::milliseconds first_pause{250};  // before the second try
  std::chrono::milliseconds max_pause{8000};   // the pause doubles up to this

  // The pause before try `attempt` (2, 3, …): first_pause doubled attempt - 2 times, at most
  // max_pause.
  std::chrono::milliseconds pause_before(int attempt) const;
};

// Why a command is about to be sent again.
struct RetryNotice {
  enum class Why {
    kConnectionBroke,  // no answer: the connection broke or could not be made
    kHelloRefused,     // connecting again, the hello was answered busy or shuttingDown
    kRefused,          // the command was answered busy or shuttingDown
  };
  Why why;
  int next_attempt;     // 2 for the first retry
  std::string message;  // the connection error's or the refusal's message
};

// Called before each pause; for a tool that tells its user what happens.
using RetryObserver = std::function<void(const RetryNotice&)>;

}  // namespace ledger::client
