#include "eventstore/erasure_pass.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <rocksdb/metadata.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/utilities/debug.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "eventstore/encoding.h"
#include "eventstore/envelope.h"
#include "eventstore/erasure_compaction.h"
#include "eventstore/key_store.h"
#include "eventstore/pending_erasure.h"
#include "eventstore/probe_matcher.h"
#include "eventstore/sealing.h"

namespace ledger::eventstore {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kSliceEntries = 10'000;
constexpr std::size_t kReadChunk = 4 << 20;
constexpr std::size_t kReadahead = 2 << 20;
constexpr auto kPollInterval = std::chrono::milliseconds(10);
constexpr std::size_t kScanThreads = 4;

std::uint64_t ms_since(Clock::time_point start) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

bool stopping(const ErasurePassOptions& options) { return options.stop && options.stop->load(); }

void reach(const ErasurePassOptions& options, ErasureStage stage) {
  if (options.on_stage) options.on_stage(stage);
}

// RocksDB names its files <number>.<ext>; anything else gets number 0.
struct FileName {
  std::uint64_t number = 0;
  std::string ext;
};

FileName parse_name(const fs::path& path) {
  FileName out;
  const auto stem = path.stem().string();
  out.ext = path.extension().string();
  if (!stem.empty() && std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    out.number = std::stoull(stem);
  }
  return out;
}

struct DirFile {
  fs::path path;
  std::string name;  // relative to the data directory
  std::uint64_t size = 0;
};

std::vector<DirFile> list_files(const fs::path& dir) {
  std::vector<DirFile> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (!it->is_regular_file(size_ec)) continue;
    const auto size = it->file_size(size_ec);
    if (size_ec) continue;  // deleted while listing
    files.push_back({it->path(), fs::relative(it->path(), dir).string(), size});
  }
  if (ec) throw StorageError("listing data directory " + dir.string() + ": " + ec.message());
  return files;
}

std::uint64_t directory_bytes(const fs::path& dir) {
  std::uint64_t total = 0;
  for (const auto& f : list_files(dir)) total += f.size;
  return total;
}

// The SST files RocksDB uses now (by file name) and the lowest WAL number it still needs.
struct LiveSet {
  std::map<std::string, std::string> ssts;  // file name -> column family
  std::uint64_t min_wal = 0;
};

LiveSet live_set(Database& database) {
  LiveSet live;
  std::vector<rocksdb::LiveFileMetaData> metadata;
  database.db().GetLiveFilesMetaData(&metadata);
  for (const auto& m : metadata) live.ssts[fs::path(m.name).filename().string()] = m.column_family_name;
  if (!database.db().GetIntProperty("rocksdb.min-log-number-to-keep", &live.min_wal)) {
    throw StorageError("RocksDB does not report rocksdb.min-log-number-to-keep");
  }
  return live;
}

// Files that should not exist: SST not in the live set, WAL older than the oldest one needed,
// any blob or trash file, anything in a subdirectory (a WAL archive).
std::vector<std::string> stray_files(Database& database) {
  const auto files = list_files(database.dir());
  const auto live = live_set(database);
  std::vector<std::string> stray = database.key_store().stray_files();
  const auto key_store_dir = database.key_store().dir();
  for (const auto& f : files) {
    // The key store's files are its own to account for (above).
    if (f.path.parent_path() == key_store_dir) continue;
    const auto name = parse_name(f.path);
    const bool nested = f.path.parent_path() != database.dir();
    bool bad = false;
    if (name.ext == ".sst") bad = nested || !live.ssts.contains(f.path.filename().string());
    else if (name.ext == ".log") bad = nested || name.number < live.min_wal;
    else if (name.ext == ".blob" || name.ext == ".trash") bad = true;
    else bad = nested;
    // A file RocksDB deleted after the listing is not stray.
    if (bad && fs::exists(f.path)) stray.push_back(f.name);
  }
  return stray;
}

// Files named like RocksDB's own that it no longer needs (above all a WAL older than the oldest
// one needed, recovered empty at open) are not stray: RocksDB deletes them at its next full scan
// of the directory, which this asks for before calling anything stray, at most once a second
// (`last_scan`) while a stray file waits to be removed. What is left after it is not RocksDB's to
// delete: a copy under another name, a subdirectory, a blob or trash file.
bool no_stray_files(Database& database, std::optional<Clock::time_point>& last_scan) {
  if (stray_files(database).empty()) return true;
  if (last_scan && Clock::now() - *last_scan < std::chrono::seconds(1)) return false;
  last_scan = Clock::now();
  database.delete_obsolete_files();
  return stray_files(database).empty();
}

bool quiet(Database& database) {
  for (auto* family : database.all_families()) {
    std::uint64_t versions = 0, snapshots = 0;
    if (!database.db().GetIntProperty(family, "rocksdb.num-live-versions", &versions) ||
        !database.db().GetIntProperty(family, "rocksdb.num-snapshots", &snapshots)) {
      throw StorageError("RocksDB does not report live versions or snapshots");
    }
    if (versions != 1 || snapshots != 0) return false;
  }
  return true;
}

class Scan {
 public:
  Scan(const ProbeMatcher& matcher, ErasureReport& report) : matcher_(matcher), report_(report) {}

  // Counts probe hits in bytes from `where`. The first `already_seen` bytes were searched before
  // (the overlap carried from the previous chunk): a match lying wholly inside them was counted.
  void search(std::string_view bytes, const std::string& where, std::size_t already_seen = 0) {
    report_.bytes_scanned += bytes.size() - already_seen;
    std::uint64_t hits = 0;
    // The probe's index is never reported: it would point at personal data.
    matcher_.scan(bytes, [&](std::size_t index, std::size_t pos) {
      if (pos + matcher_.probe(index).size() > already_seen) ++hits;
      return true;
    });
    if (hits > 0) add_residue(where, hits);
  }

  void add_residue(const std::string& where, std::uint64_t hits) {
    report_.residue += hits;
    for (auto& r : report_.residue_files) {
      if (r.file == where) {
        r.hits += hits;
        return;
      }
    }
    report_.residue_files.push_back({where, hits});
  }

  // Searches the file's bytes from offset `from` on.
  void raw_file(const DirFile& file, std::uint64_t from = 0) {
    const int fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return;  // deleted since the listing
      throw StorageError("opening " + file.path.string() + " for the erasure scan: " + std::strerror(errno));
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (from > 0 && ::lseek(fd, static_cast<off_t>(from), SEEK_SET) < 0) {
      const auto error = std::string(std::strerror(errno));
      ::close(fd);
      throw StorageError("seeking in " + file.path.string() + " for the erasure scan: " + error);
    }
    ++report_.files_scanned;
    // The last longest-probe-minus-one bytes of a chunk are searched again at the front of the
    // next one, so that a probe across the boundary is found; a match lying wholly inside them
    // was counted already.
    const std::size_t overlap = matcher_.longest() > 0 ? matcher_.longest() - 1 : 0;
    buffer_.resize(overlap + kReadChunk);
    std::size_t carried = 0;
    for (;;) {
      const auto got = ::read(fd, buffer_.data() + carried, kReadChunk);
      if (got < 0) {
        if (errno == EINTR) continue;
        const auto error = std::string(std::strerror(errno));
        ::close(fd);
        throw StorageError("reading " + file.path.string() + " for the erasure scan: " + error);
      }
      if (got == 0) break;
      const std::size_t filled = carried + static_cast<std::size_t>(got);
      search({buffer_.data(), filled}, file.name, carried);
      const std::size_t keep = std::min(overlap, filled);
      std::memmove(buffer_.data(), buffer_.data() + filled - keep, keep);
      carried = keep;
    }
    ::close(fd);
  }

  // Decodes every visible entry. Returns false when the file cannot be opened as an SST; sets
  // `hidden` to the entries the file holds that its iterator does not show (older versions or
  // values covered by a tombstone in the same file), and `data_end` to where its data blocks
  // end (they come first in the file; 0 when the table does not say).
  bool sst_file(const DirFile& file, std::int64_t& hidden, std::uint64_t& data_end) {
    rocksdb::Options options;
    rocksdb::SstFileReader reader(options);
    if (!reader.Open(file.path.string()).ok()) return false;
    ++report_.sst_files;
    rocksdb::ReadOptions read;
    read.fill_cache = false;
    read.readahead_size = kReadahead;
    std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(read));
    std::uint64_t visible = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      search(view(it->key()), file.name);
      search(view(it->value()), file.name);
      ++visible;
    }
    if (!it->status().ok()) return false;
    report_.sst_entries += visible;
    const auto props = reader.GetTableProperties();
    hidden = props ? static_cast<std::int64_t>(props->num_entries) - static_cast<std::int64_t>(props->num_deletions) -
                         static_cast<std::int64_t>(visible)
                   : 0;
    data_end = props ? props->data_size : 0;
    return true;
  }

  // Every version the database still holds in `family`, in slices so memory stays bounded.
  void all_versions(Database& database, rocksdb::ColumnFamilyHandle* family, const std::string& where) {
    constexpr std::size_t kMaxVersions = 50'000;
    std::string begin;
    for (;;) {
      std::vector<rocksdb::KeyVersion> versions;
      Database::check(rocksdb::GetAllKeyVersions(&database.db(), family, begin, rocksdb::Slice(), kMaxVersions, &versions),
                      "reading every key version");
      const bool more = versions.size() >= kMaxVersions;
      std::string next;
      if (more) {
        next = versions.back().user_key;
        // The last key's versions may continue in the next slice: read them all there.
        if (next != versions.front().user_key) {
          while (!versions.empty() && versions.back().user_key == next) versions.pop_back();
        } else {
          next.push_back('\0');
        }
      }
      for (const auto& v : versions) {
        search(v.user_key, where);
        search(v.value, where);
        ++report_.versions_scanned;
      }
      if (!more) return;
      begin = next;
    }
  }

 private:
  const ProbeMatcher& matcher_;
  ErasureReport& report_;
  std::vector<char> buffer_;
};

// Probes also found in surviving data belong to someone else (another customer with the same
// company, a request key reused after the purge): searching for them would report false
// residue. Customers' bytes live only in the values of `log` and `customers`; every other
// family holds integers, hashes, random keys or fixed names.
//
// The same read of the log finds the entries of `purged` (sorted customer ids) that are not
// stubs, into `unredacted`: such an entry still holds its customer's data, and since the purge
// took probes only from the entries it redacted, searching for probes would not find it.
std::vector<std::string> drop_shared(Database& database, std::vector<std::string> probes,
                                     const std::vector<std::uint64_t>& purged, std::uint64_t& shared,
                                     std::vector<std::uint64_t>& unredacted, const std::atomic<bool>& abandon) {
  ProbeMatcher matcher(std::move(probes));
  std::vector<bool> in_use(matcher.size(), false);
  const auto mark = [&](std::string_view bytes) {
    matcher.scan(bytes, [&](std::size_t index, std::size_t) {
      in_use[index] = true;
      return true;
    });
  };
  rocksdb::ReadOptions read;
  read.fill_cache = false;  // a one-off scan of everything would evict what the writer reads
  read.readahead_size = kReadahead;
  EnvelopeDecoder decoder;
  for (auto family : {Family::kLog, Family::kCustomers}) {
    // Short-lived iterators, one per slice, so that no file stays pinned for long.
    std::string resume;
    bool first = true;
    for (bool more = true; more && !abandon;) {
      std::unique_ptr<rocksdb::Iterator> it(database.db().NewIterator(read, database.family(family)));
      if (first) {
        it->SeekToFirst();
      } else {
        it->Seek(resume);
        if (it->Valid() && view(it->key()) == resume) it->Next();
      }
      first = false;
      std::size_t n = 0;
      for (; it->Valid() && n < kSliceEntries; it->Next(), ++n) {
        const auto value = view(it->value());
        if (family == Family::kLog && !purged.empty()) {
          if (it->key().size() != 8) throw CorruptionError("a log key is not 8 bytes");
          const auto& entry = decoder.decode(value, get_u64(view(it->key())));
          // Only what is stored as plaintext can share a probe: a sealed payload is ciphertext,
          // and the digest and chain are hashes.
          mark(entry.actor);
          mark(entry.request);
          if (!is_sealed(entry.payload)) mark(entry.payload);
          if (!entry.redacted() && std::binary_search(purged.begin(), purged.end(), entry.customer)) {
            unredacted.push_back(entry.seq);
          }
        } else if (!is_sealed(value)) {
          mark(value);
        }
        resume.assign(it->key().data(), it->key().size());
      }
      Database::check(it->status(), "reading surviving data");
      more = it->Valid();
    }
  }
  std::vector<std::string> kept;
  for (std::size_t i = 0; i < matcher.size(); ++i) {
    if (in_use[i]) ++shared;
    else kept.push_back(matcher.probe(i));
  }
  return kept;
}

// What one scanning thread found; merged into the report afterwards.
struct ScanPart {
  ErasureReport report;
  std::set<std::string> families_with_hidden;
};

void scan_file(const LiveSet& live, const DirFile& file, Scan& scan, ScanPart& part) {
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

// Scans every file once, on up to kScanThreads threads (largest files first, each thread taking
// the next file when done), and merges what they found into `report`.
void verify_files(Database& database, const ProbeMatcher& matcher, ErasureReport& report) {
  const auto live = live_set(database);
  auto files = list_files(database.dir());
  std::sort(files.begin(), files.end(), [](const DirFile& a, const DirFile& b) { return a.size > b.size; });
  const auto threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, kScanThreads);
  std::vector<ScanPart> parts(std::min(threads, std::max<std::size_t>(files.size(), 1)));
  std::atomic<std::size_t> next{0};
  const auto work = [&](ScanPart& part) {
    Scan scan(matcher, part.report);
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
  Scan scan(matcher, report);
  for (auto* family : database.all_families()) {
    if (families_with_hidden.contains(family->GetName())) scan.all_versions(database, family, "rocksdb:" + family->GetName());
  }
}

void store(Database& database, const ErasureReport& report) {
  rocksdb::WriteBatch batch;
  put_erasure_report(database, batch, report);
  if (report.verified()) {
    for (auto seq : report.purge_seqs) clear_pending_erasure(database, batch, seq);
  }
  rocksdb::WriteOptions sync;
  sync.sync = true;
  Database::check(database.db().Write(sync, &batch), "storing the erasure report");
}

}  // namespace

std::string_view stage_name(ErasureStage stage) {
  switch (stage) {
    case ErasureStage::kProbesFiltered: return "probes_filtered";
    case ErasureStage::kFlushed: return "flushed";
    case ErasureStage::kFirstFamilyCompacted: return "first_family_compacted";
    case ErasureStage::kCompacted: return "compacted";
    case ErasureStage::kQuiescent: return "quiescent";
    case ErasureStage::kVerified: return "verified";
  }
  return "unknown";
}

ErasureReport run_erasure_pass(Database& database, const std::vector<std::uint64_t>& purge_seqs,
                               std::vector<std::string> probes, ProbeCoverage coverage,
                               const ErasurePassOptions& options) {
  const auto start = Clock::now();
  ErasureReport report;
  report.purge_seqs = purge_seqs;
  report.keys = options.keys;
  report.purged_entries = coverage.purged_entries;
  report.entries_probed = coverage.entries_read;
  std::sort(report.purge_seqs.begin(), report.purge_seqs.end());
  report.started_at_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const auto seqs_text = fmt::format("{}", fmt::join(report.purge_seqs, ","));
  try {
    report.bytes_before = directory_bytes(database.dir());
    // Dropping the shared probes reads the surviving data through the database (what it reads
    // does not change under a compaction), so it runs on a thread of its own while this one
    // flushes and compacts.
    std::atomic<bool> abandon_filter{false};
    auto purged = options.purged_customers;
    std::sort(purged.begin(), purged.end());
    auto filtered = std::async(std::launch::async, [&, probes = std::move(probes)]() mutable {
      const auto filter_start = Clock::now();
      auto kept = drop_shared(database, std::move(probes), purged, report.probes_shared, report.unredacted_entries,
                              abandon_filter);
      report.probe_filter_ms = ms_since(filter_start);
      return kept;
    });
    // Joined on every way out of the try block: the thread uses `report` and `database`.
    struct JoinFilter {
      std::atomic<bool>& abandon;
      std::future<std::vector<std::string>>& filtered;
      ~JoinFilter() {
        if (filtered.valid()) {
          abandon = true;
          filtered.wait();
        }
      }
    } join_filter{abandon_filter, filtered};

    // Flush first: an idle family's unflushed data keeps the old WAL files alive.
    auto phase = Clock::now();
    rocksdb::FlushOptions flush;
    flush.wait = true;
    Database::check(database.db().Flush(flush, database.all_families()), "flushing before erasure");
    report.flush_ms = ms_since(phase);
    reach(options, ErasureStage::kFlushed);

    phase = Clock::now();
    rocksdb::CompactRangeOptions compact;
    // Bottommost files are rewritten too (they hold the old versions), but not a second time
    // when this compaction has just written them.
    compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
    compact.exclusive_manual_compaction = false;  // the writer's flushes and compactions go on
    compact.canceled = options.stop;
    // A compaction job splits its key range over this many threads.
    compact.max_subcompactions = static_cast<std::uint32_t>(
        std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, kScanThreads));
    ErasureTargets targets;
    targets.customers = options.purged_customers;
    std::sort(targets.customers.begin(), targets.customers.end());
    targets.numbers = options.purged_numbers;
    std::sort(targets.numbers.begin(), targets.numbers.end());
    targets.log_seqs = options.redacted_seqs;
    bool first_family = true;
    const auto compacted = compact_for_erasure(
        database, targets, compact, [&] { return stopping(options); },
        [&] {
          if (first_family) reach(options, ErasureStage::kFirstFamilyCompacted);
          first_family = false;
        });
    report.compaction_ranges = compacted.ranges;
    report.compacted_files = compacted.files;
    report.compacted_file_bytes = compacted.bytes;
    report.live_sst_bytes = compacted.sst_bytes;
    report.compaction_ms = ms_since(phase);
    if (!stopping(options)) reach(options, ErasureStage::kCompacted);

    // An abandoned filter returns what it had not yet seen in surviving data too: used only
    // when stopping, where nothing is verified.
    if (stopping(options)) abandon_filter = true;
    const ProbeMatcher matcher(filtered.get());
    report.probes = matcher.size();
    if (!stopping(options)) reach(options, ErasureStage::kProbesFiltered);

    phase = Clock::now();
    const auto deadline = Clock::now() + options.quiescence_timeout;
    std::optional<Clock::time_point> last_scan;
    while (!stopping(options)) {
      if (quiet(database) && no_stray_files(database, last_scan)) {
        report.quiescent = true;
        break;
      }
      if (Clock::now() >= deadline) break;
      std::this_thread::sleep_for(kPollInterval);
    }
    if (stopping(options)) {
      report.state = ErasureState::kStopped;
      spdlog::info("erasure pass for purge(s) {} stopped before verification; it runs again at the next start",
                   seqs_text);
      return report;
    }
    reach(options, ErasureStage::kQuiescent);
    report.stray_files = stray_files(database);
    verify_files(database, matcher, report);
    report.verify_ms = ms_since(phase);
    report.bytes_after = directory_bytes(database.dir());
    report.duration_ms = ms_since(start);
    reach(options, ErasureStage::kVerified);
  } catch (const std::exception& error) {
    report.error = error.what();
    report.duration_ms = ms_since(start);
  }

  report.state = report.findings();
  store(database, report);
  if (report.verified()) {
    spdlog::info("erasure verified for purge(s) {}: {} ({} probes from {} of {} purged entries), {} files / {} "
                 "bytes scanned, residue 0, {} bytes reclaimed, {} ms",
                 seqs_text, check_name(report.check()), report.probes, report.entries_probed, report.purged_entries,
                 report.files_scanned, report.bytes_scanned,
                 report.bytes_reclaimed(), report.duration_ms);
  } else {
    std::vector<std::string> holders;
    for (const auto& r : report.residue_files) holders.push_back(fmt::format("{} ({} hits)", r.file, r.hits));
    spdlog::error(
        "ERASURE NOT VERIFIED for purge(s) {}: residue {} in [{}]; stray files [{}]; undecodable files [{}]; "
        "log entries of purged customers not redacted [{}]; quiescent {}; error '{}'. The purged customers' bytes "
        "may still be on disk; the erasure stays pending and runs again at the next purge or start-up.",
        seqs_text, report.residue, fmt::join(holders, ", "), fmt::join(report.stray_files, ", "),
        fmt::join(report.unverifiable_files, ", "), fmt::join(report.unredacted_entries, ", "), report.quiescent,
        report.error);
  }
  return report;
}

std::vector<std::string> stored_versions(Database& database, Family family, std::string_view key) {
  std::vector<rocksdb::KeyVersion> versions;
  const rocksdb::Slice k(key.data(), key.size());
  Database::check(rocksdb::GetAllKeyVersions(&database.db(), database.family(family), k, k, 1'000, &versions),
                  "reading stored versions");
  std::vector<std::string> values;
  constexpr int kTypeValue = 1;  // RocksDB's ValueType for a Put
  for (auto& v : versions) {
    if (v.type == kTypeValue && v.user_key == key) values.push_back(std::move(v.value));
  }
  return values;
}

}  // namespace ledger::eventstore
