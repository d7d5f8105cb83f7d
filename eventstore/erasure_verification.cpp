#include "eventstore/erasure_verification.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "eventstore/data_directory.h"
#include "eventstore/residue_scan.h"

namespace ledger::eventstore {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kScanThreads = 4;

// What one scanning thread found; merged into the report afterwards.
struct ScanPart {
  ErasureReport report;
  std::set<std::string> families_with_hidden;
};

void scan_file(const LiveSet& live, const DirFile& file, ResidueScan& scan, ScanPart& part) {
  std::uint64_t raw_from = 0;
  if (parse_name(file.path).ext == ".sst") {
    std::int64_t hidden = 0;
    std::uint64_t data_end = 0;
    if (!scan.sst_file(file, hidden, data_end)) {
      if (fs::exists(file.path)) part.report.unverifiable_files.push_back(file.name);
      return;
    }
    if (hidden > 0) {
      auto found = live.ssts.find(file.path.filename().string());
      if (found != live.ssts.end()) part.families_with_hidden.insert(found->second);
      else part.report.unverifiable_files.push_back(file.name);
    }
    // The data blocks hold the entries just decoded and searched (and, through the hidden
    // count, every version they hold): their raw bytes add nothing but chance, for a compressed
    // block's bytes can spell a probe its entries do not hold. The rest is searched raw.
    raw_from = data_end;
  }
  // Everything raw: other files whole, an SST from the end of its data blocks (index, filter,
  // properties, footer).
  scan.raw_file(file, raw_from);
}

}  // namespace

void verify_files(Database& database, const ProbeMatcher& matcher, ErasureReport& report) {
  const auto live = live_set(database);
  auto files = list_files(database.dir());
  std::sort(files.begin(), files.end(), [](const DirFile& a, const DirFile& b) { return a.size > b.size; });
  const auto threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, kScanThreads);
  std::vector<ScanPart> parts(std::min(threads, std::max<std::size_t>(files.size(), 1)));
  std::atomic<std::size_t> next{0};
  const auto work = [&](ScanPart& part) {
    ResidueScan scan(matcher, part.report);
    for (auto i = next++; i < files.size(); i = next++) scan_file(live, files[i], scan, part);
  };
  {
    std::vector<std::future<void>> running;
    for (std::size_t t = 1; t < parts.size(); ++t) running.push_back(std::async(std::launch::async, work, std::ref(parts[t])));
    std::exception_ptr failed;
    try {
      work(parts[0]);
    } catch (...) {
      failed = std::current_exception();
      next = files.size();  // the others stop after their current file
    }
    for (auto& r : running) {
      try {
        r.get();
      } catch (...) {
        if (!failed) failed = std::current_exception();
      }
    }
    if (failed) std::rethrow_exception(failed);
  }
  std::set<std::string> families_with_hidden;
  std::map<std::string, std::uint64_t> residue;
  for (const auto& part : parts) {
    const auto& r = part.report;
    report.files_scanned += r.files_scanned;
    report.bytes_scanned += r.bytes_scanned;
    report.sst_files += r.sst_files;
    report.sst_entries += r.sst_entries;
    report.residue += r.residue;
    for (const auto& f : r.residue_files) residue[f.file] += f.hits;
    report.unverifiable_files.insert(report.unverifiable_files.end(), r.unverifiable_files.begin(), r.unverifiable_files.end());
    families_with_hidden.insert(part.families_with_hidden.begin(), part.families_with_hidden.end());
  }
  for (const auto& [file, hits] : residue) report.residue_files.push_back({file, hits});
  std::sort(report.unverifiable_files.begin(), report.unverifiable_files.end());
  // Versions an SST file's own iterator hides are read through the database instead.
  ResidueScan scan(matcher, report);
  for (auto* family : database.all_families()) {
    if (families_with_hidden.contains(family->GetName())) scan.all_versions(database, family, "rocksdb:" + family->GetName());
  }
}

}  // namespace ledger::eventstore
