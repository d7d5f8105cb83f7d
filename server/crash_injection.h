// Crash injection for tests of crash safety: the process dies (std::_Exit, no destructors, no
// RocksDB close, nothing flushed) at a named point of a purge and its erasure pass, or after the
// first group written. The point is CommandServiceOptions::crash_at; the mains that crash tests
// run (ledgerd, ledger-admin, tests/erasure/erasure_crash_child) read it from the environment
// variable LEDGER_CRASH_AT with crash_point_from_environment; unset (production) means never.
// Pure apart from that one read of the environment.
#pragma once

#include <optional>
#include <string_view>

#include "eventstore/erasure_pass.h"

namespace ledger::server {

enum class CrashPoint {
  kNever,
  kAfterPurgeBatch,    // "after_purge_batch": the purge's batch is durable, nothing answered
  kAfterFlush,         // "after_flush": the pass flushed every memtable
  kDuringCompaction,   // "during_compaction": the first column family is compacted, the rest not
  kBeforeVerify,       // "before_verify": compaction done and quiet, no file scanned yet
  kAfterFirstGroup,    // "after_first_group": the first group the service writes is durable,
                       // none of its commands answered (an import cut off part-way)
};

// The exit status of a process that died at an injected point.
constexpr int kInjectedCrashExitStatus = 86;

// LEDGER_CRASH_AT's point; kNever when unset. Throws std::invalid_argument for an unknown name.
CrashPoint crash_point_from_environment();
// The pass stage at which `point` dies, if it is one.
std::optional<eventstore::ErasureStage> crash_stage(CrashPoint point);
[[noreturn]] void crash_now(CrashPoint point);

}  // namespace ledger::server
