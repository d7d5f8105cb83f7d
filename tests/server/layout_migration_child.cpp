// A child process for the migration's crash test: opens a data directory for writing and dies
// (std::_Exit: nothing closed or flushed, as a crash would) after the named step of the
// migration of a 0.1.0 directory. Exit status 0 means it never got there.
//
// usage: layout_migration_child <data dir> <keys_moved | free_numbers_rewritten | family_dropped |
//                                           values_sealed | plaintext_compacted>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "eventstore/database.h"
#include "server/crash_injection.h"

int main(int argc, char** argv) {
  using ledger::eventstore::MigrationStep;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <data dir> <step>\n", argv[0]);
    return 2;
  }
  const std::string_view name = argv[2];
  const auto step = name == "keys_moved"               ? MigrationStep::kKeysMoved
                    : name == "free_numbers_rewritten" ? MigrationStep::kFreeNumbersRewritten
                    : name == "family_dropped"         ? MigrationStep::kFamilyDropped
                    : name == "values_sealed"          ? MigrationStep::kValuesSealed
                                                       : MigrationStep::kPlaintextCompacted;
  try {
    ledger::eventstore::OpenOptions options;
    options.create_if_missing = false;
    options.migration.seal_batch_rows = 2;  // several batches: the crash leaves plaintext behind
    options.migration.after_step = [step](MigrationStep reached) {
      if (reached == step) std::_Exit(ledger::server::kInjectedCrashExitStatus);
    };
    ledger::eventstore::Database::open(argv[1], options);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 4;
  }
  return 0;
}
