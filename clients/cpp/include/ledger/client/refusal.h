// ledger::client::Refusal: the server's answer that a request was not done (protocol Error),
// as a value the caller looks at: code, message, the field it names, each number's problem.
// Refusals are not exceptions (an invalid field, a held number, a stale revision are the
// caller's business); ConnectionError is for I/O.
//
// Values only; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/protocol.capnp.h"

namespace ledger::client {

struct NumberProblem {
  std::uint64_t number = 0;
  protocol::ErrorCode code = protocol::ErrorCode::INTERNAL;
};

struct Refusal {
  protocol::ErrorCode code = protocol::ErrorCode::INTERNAL;
  std::string message;  // one line: what is wrong and what to do
  std::string field;    // invalidField and requestKeyReused: which field or argument
  std::vector<NumberProblem> numbers;  // delete / undelete: every offending number

  static Refusal from(protocol::Error::Reader error);
  // The message, the field and each number's problem on one line:
  // "name is empty (field: name)", "…; 7: notFound".
  std::string describe() const;
};

// The schema's name of an error code ("invalidField"); "unknown" for a code this build does
// not know.
std::string code_name(protocol::ErrorCode code);

// True for the refusals that say "not done, send the same command again later": busy and
// shuttingDown.
bool is_retryable(protocol::ErrorCode code);

}  // namespace ledger::client
