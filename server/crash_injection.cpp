#include "server/crash_injection.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace ledger::server {

CrashPoint crash_point_from_environment() {
  const char* value = std::getenv("LEDGER_CRASH_AT");
  if (!value || !*value) return CrashPoint::kNever;
  const std::string_view name(value);
  if (name == "after_purge_batch") return CrashPoint::kAfterPurgeBatch;
  if (name == "after_flush") return CrashPoint::kAfterFlush;
  if (name == "during_compaction") return CrashPoint::kDuringCompaction;
  if (name == "before_verify") return CrashPoint::kBeforeVerify;
  if (name == "after_first_group") return CrashPoint::kAfterFirstGroup;
  throw std::invalid_argument("LEDGER_CRASH_AT names no crash point: " + std::string(name));
}

std::optional<eventstore::ErasureStage> crash_stage(CrashPoint point) {
  switch (point) {
    case CrashPoint::kAfterFlush: return eventstore::ErasureStage::kFlushed;
    case CrashPoint::kDuringCompaction: return eventstore::ErasureStage::kFirstFamilyCompacted;
    case CrashPoint::kBeforeVerify: return eventstore::ErasureStage::kQuiescent;
    default: return std::nullopt;
  }
}

void crash_now(CrashPoint point) {
  std::fprintf(stderr, "LEDGER_CRASH_AT: dying at injected crash point %d\n", static_cast<int>(point));
  std::_Exit(kInjectedCrashExitStatus);
}

}  // namespace ledger::server
