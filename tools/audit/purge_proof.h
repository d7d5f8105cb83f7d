// Proof of what a purge removed, from an export of the log taken before it (`ledger-audit
// export`) and the log as it is now: the purge redacted exactly the entries of the customers
// that were deleted at that moment, their digests give the receipt's Merkle root, and every other
// exported entry is unchanged. Pure over its inputs apart from reading the log; thread-safe as
// far as the Reader is.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "eventstore/crypto.h"
#include "eventstore/reader.h"
#include "projections/verify.h"

namespace ledger::tools {

// The envelope fields of one log entry, as exported or as stored now (payload left out: the
// digest commits to it).
struct EntryFacts {
  std::uint64_t seq = 0;
  std::int64_t at_us = 0;
  std::string actor;
  std::uint64_t customer = 0;
  std::uint16_t kind = 0;
  eventstore::Digest digest{};
  eventstore::Digest chain{};
  std::uint64_t redacted_by = 0;
};

// Reads `ledger-audit export` JSON lines. Throws ToolError naming the line of the first
// unreadable one, or when the seqs are not ascending and dense.
std::vector<EntryFacts> read_export(std::istream& in);

struct PurgeProof {
  bool ok = false;
  std::vector<std::string> findings;     // what was shown, one line each
  std::vector<std::string> differences;  // what does not hold; empty when ok
};

// Proves every purge after the export's last entry, or only `purge_seq` when given. `verify`
// says how the log now is verified (a copy read from a server has no keys to check digests).
PurgeProof prove_purge(const eventstore::Reader& reader, const std::vector<EntryFacts>& exported,
                       std::optional<std::uint64_t> purge_seq, const projections::VerifyOptions& verify = {});

}  // namespace ledger::tools
