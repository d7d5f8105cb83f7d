// Verifying the whole ledger: the log's own consistency (chain, digests, the order of each
// customer's entries), every purge receipt against what the log says of its customers, and
// every stored row against the log. Reads only. Not thread-safe with a running writer: callers
// stop writes first, or verify a consistent view.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/reader.h"

namespace ledger::projections {

// What a `requests` row remembers of the command that wrote it, as far as the log can confirm
// it: the entries it wrote and what the answer said of them.
struct RememberedWrite {
  std::vector<std::uint64_t> seqs;     // the entries the command wrote; empty: it changed nothing
  std::uint64_t customer = 0;          // create and edit: the customer's id; otherwise 0
  std::vector<std::uint64_t> numbers;  // the numbers in the answer (a purge: the numbers freed)
};

struct VerifyOptions {
  // Check every unredacted entry's digest against its customer's key. Off for a copy of a log
  // received from a server: the keys never leave it.
  bool digests = true;
  // Reads a `requests` row's value (its format belongs to the server: server/outcome.h);
  // nullopt when the bytes are not a remembered outcome. Unset: `requests` is not checked.
  std::function<std::optional<RememberedWrite>(std::string_view)> read_remembered;
};

struct VerifyReport {
  bool ok = true;
  std::uint64_t entries = 0;     // log entries checked
  std::uint64_t stubs = 0;       // of which redacted
  std::uint64_t purges = 0;      // purge receipts checked
  std::uint64_t customers = 0;   // customers compared against the replay
  std::uint64_t requests = 0;    // `requests` rows checked
  // Purged customers whose number freed could not be checked: every entry of theirs was
  // written before entries carried the customer's number.
  std::uint64_t numbers_unchecked = 0;
  std::uint64_t first_bad_seq = 0;  // 0 when the problem is not tied to one entry
  std::string problem;           // empty when ok
  bool digests_checked = true;   // false when VerifyOptions::digests was off
  bool requests_checked = false;  // true when VerifyOptions::read_remembered was given
};

// Checks (docs/storage.md, "Verify"): seqs dense from 1 and the head in meta; every chain link;
// every unredacted digest against its customer's key (unless options.digests is off; a purge's
// against SHA-256 always); each customer's entries in a possible order (created first, nothing
// after its purge) under one number; every field of every purge receipt against what the log
// says of its customers at that moment (exactly the customers deleted then, their numbers,
// their entries, the Merkle root of their stubs); every projection row and every `streams` row
// against a fresh replay; every `requests` row against the entries it names, and that recent
// entries written with a request key still have theirs. Stops at the first problem.
VerifyReport verify_ledger(const eventstore::Reader& reader, const VerifyOptions& options = {});

}  // namespace ledger::projections
