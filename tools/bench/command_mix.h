// CommandMix: the share of creates, edits, deletes and undeletes in a benchmark's load, and
// MixedWorkload, which picks the next command for one writer from what that writer has created
// so far. The network clients and the raw-RocksDB mirror use the same picker, so both write
// the same kinds of commands with the same field sizes.
//
// Not thread-safe: one MixedWorkload per client connection.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "domain/commands.h"

namespace ledger::bench {

struct CommandMix {
  unsigned create = 100, edit = 0, del = 0, undelete = 0;
  unsigned total() const { return create + edit + del + undelete; }
};

// Parses "create=70,edit=20,delete=5,undelete=5" (any subset; missing kinds are 0).
// nullopt when a name is unknown, a weight is not a number, or all weights are 0.
std::optional<CommandMix> parse_mix(const std::string& text);
std::string to_string(const CommandMix& mix);

enum class CommandKind : std::uint8_t { kCreate, kEdit, kDelete, kUndelete };
const char* kind_name(CommandKind kind);

class MixedWorkload {
 public:
  // `writer` makes the field values of this writer's customers distinct from other writers'.
  MixedWorkload(const CommandMix& mix, std::uint32_t writer, std::uint64_t seed);

  // The next command. An edit or delete needs an active customer of this writer, an undelete
  // a deleted one; when there is none, a create is sent instead. A number handed out for an
  // edit, delete or undelete is not handed out again until its outcome is reported.
  struct Next {
    CommandKind kind;
    domain::Command command;
    domain::CustomerNumber number = 0;  // the customer an edit, delete or undelete is about
  };
  Next next();
  // Reports the outcome of a command from next(): `accepted` false when it was refused.
  // `created` is the number a create received.
  void accepted(const Next& sent, bool accepted, domain::CustomerNumber created = 0);

  // The request key of the next command: unique per writer and per run of the process.
  std::string next_request_key();

 private:
  domain::CustomerNumber take(std::vector<domain::CustomerNumber>& from);

  CommandMix mix_;
  std::uint32_t writer_;
  std::mt19937_64 random_;
  std::uint64_t sent_ = 0;
  std::vector<domain::CustomerNumber> active_;
  std::vector<domain::CustomerNumber> deleted_;
};

}  // namespace ledger::bench
