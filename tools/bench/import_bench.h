// The import benchmark: `ledger-admin --data DIR import FILE` of a generated file, as a user
// runs it (a child process: opening the directory, checking every row and writing them), against
// the event-log limit of a bulk load: one thread appending one 300-byte value per row in synced
// WriteBatches of 1,024 rows (the import's group size) to a fresh database with the ledger's
// options, nothing else (see docs/performance.md).
#pragma once

#include <cstdint>
#include <filesystem>

#include "tools/bench/bench_report.h"

namespace ledger::bench {

struct ImportBenchOptions {
  std::filesystem::path work_dir;  // the file and the ledgers go here, and are removed afterwards
  std::filesystem::path admin;     // the ledger-admin executable
  std::uint64_t customers = 200'000;
};

// Writes the CSV file ledger-admin imports: customer i's varied fields (varied_customers.h);
// about half of the rows, chosen by a fixed hash, carry the number i + 1, so every row without
// one takes the lowest free number, i + 1 too, and nothing is refused.
void write_import_file(const std::filesystem::path& file, std::uint64_t customers);

// Throws std::runtime_error when ledger-admin cannot be started or does not exit 0.
BenchReport run_import_bench(const ImportBenchOptions& options);

// The ledger-admin next to this executable in the build tree (build/tools/admin/ledger-admin).
std::filesystem::path default_admin_path();

}  // namespace ledger::bench
