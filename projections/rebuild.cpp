#include "projections/rebuild.h"

#include <array>
#include <atomic>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include "eventstore/encoding.h"
#include "projections/free_numbers.h"
#include "projections/projection_rows.h"
#include "projections/projector.h"
#include "projections/replay.h"

namespace ledger::projections {
namespace {

using eventstore::Family;
using eventstore::kRebuildMarkerKey;

// Inside the data directory, so that RocksDB can hard-link the files instead of copying them.
constexpr std::string_view kStagingDirectory = "rebuild.staging";

// The rebuild's SST files before ingestion; removed with whatever is left in it.
class StagingDirectory {
 public:
  explicit StagingDirectory(std::filesystem::path path) : path_(std::move(path)) {
    remove(path_);  // left by a rebuild that was cut off
    std::error_code error;
    std::filesystem::create_directories(path_, error);
    if (error) throw eventstore::StorageError("cannot create " + path_.string() + ": " + error.message());
  }
  ~StagingDirectory() {
    std::error_code ignored;  // a destructor cannot report; the next rebuild or open removes it
    std::filesystem::remove_all(path_, ignored);
  }
  StagingDirectory(const StagingDirectory&) = delete;
  StagingDirectory& operator=(const StagingDirectory&) = delete;

  const std::filesystem::path& path() const { return path_; }

  static void remove(const std::filesystem::path& path) {
    std::error_code error;
    std::filesystem::remove_all(path, error);
    if (error) throw eventstore::StorageError("cannot remove " + path.string() + ": " + error.message());
  }

 private:
  std::filesystem::path path_;
};

// Writes the rows `produce` passes to its sink, which belong to `family`, into SST files in
// `dir` named `name`-N.sst, with the family's own options (compression, table format) so that
// ingested files match the ones RocksDB writes itself. A file ends at the family's target file
// size, so later compactions (the erasure pass among them) do not have to rewrite one file of
// every row. Rows ascend across files, so the files do not overlap. Returns the file paths;
// none when there are no rows.
std::vector<std::string> write_family_files(eventstore::Database& database, Family family, const std::string& name,
                                            const std::function<void(const RowSink&)>& produce,
                                            const std::filesystem::path& dir) {
  auto* handle = database.family(family);
  const auto options = database.db().GetOptions(handle);
  const std::string what = std::string("writing the rebuilt ") + eventstore::family_name(family) + " rows";
  std::vector<std::string> files;
  std::unique_ptr<rocksdb::SstFileWriter> writer;
  auto finish_file = [&] {
    eventstore::Database::check(writer->Finish(), what);
    writer.reset();
  };
  produce([&](std::string_view key, std::string_view value) {
    if (writer && writer->FileSize() >= options.target_file_size_base) finish_file();
    if (!writer) {
      // Keeps the pages cached (invalidate_page_cache off): the rows are read right after, by
      // verify in `ledger-admin rebuild` and by queries.
      writer = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(options), options, handle, false);
      files.push_back((dir / (name + "-" + std::to_string(files.size()) + ".sst")).string());
      eventstore::Database::check(writer->Open(files.back()), what);
    }
    eventstore::Database::check(writer->Put(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size())), what);
  });
  if (writer) finish_file();
  return files;
}

// Every projection family's files, by family. The customers' states are most of the bytes:
// they are written in parts of the id range, taken in turn by this thread and by a second one
// once it has written the other three families, so that both finish about together. The parts
// ascend, and so do their files, which do not overlap.
std::map<Family, std::vector<std::string>> write_projection_files(eventstore::Database& database,
                                                                  const ReplayedLedger& ledger,
                                                                  const std::filesystem::path& dir) {
  constexpr std::size_t kCustomerParts = 8;
  const auto ids = ledger.customers.id_limit();
  std::array<std::vector<std::string>, kCustomerParts> customer_files;
  std::atomic<std::size_t> next_part{0};
  auto write_customer_parts = [&] {
    for (std::size_t part; (part = next_part++) < kCustomerParts;) {
      const domain::CustomerId from = ids * part / kCustomerParts;
      const domain::CustomerId to = ids * (part + 1) / kCustomerParts;
      customer_files[part] = write_family_files(
          database, Family::kCustomers, std::string("customers.") + std::to_string(part),
          [&](const RowSink& sink) { sealed_customer_rows(ledger, database.key_store(), from, to, sink); }, dir);
    }
  };
  auto beside = std::async(std::launch::async, [&] {
    std::map<Family, std::vector<std::string>> mine;
    for (auto family : kProjectionFamilies) {
      if (family == Family::kCustomers) continue;
      mine[family] = write_family_files(
          database, family, eventstore::family_name(family),
          [&](const RowSink& sink) { projection_rows(ledger, family, sink); }, dir);
    }
    write_customer_parts();
    return mine;
  });
  // The future's destructor waits for the other thread if this one throws.
  write_customer_parts();
  auto files = beside.get();
  auto& customers = files[Family::kCustomers];
  for (auto& part : customer_files) customers.insert(customers.end(), part.begin(), part.end());
  return files;
}

}  // namespace

std::uint64_t rebuild_projections(eventstore::Database& database) {
  eventstore::DatabaseReader reader(database);
  const auto ledger = replay_log(reader);
  StagingDirectory staging(database.dir() / kStagingDirectory);

  // The files first: if writing them fails (a full disk), the old projections are untouched.
  std::vector<rocksdb::IngestExternalFileArg> ingest;
  for (auto& [family, files] : write_projection_files(database, ledger, staging.path())) {
    // RocksDB refuses an empty file; a family with no rows (no deleted customers) gets none.
    if (files.empty()) continue;
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = database.family(family);
    arg.external_files = std::move(files);
    // Hard links from the staging directory, which is on the same file system.
    arg.options.move_files = true;
    // The files stay as written: the MANIFEST records their sequence number, which only a
    // downgrade to a RocksDB old enough to look for it inside the file would need there.
    arg.options.write_global_seqno = false;
    ingest.push_back(std::move(arg));
  }

  // Ingesting cannot delete, and a deletion is not part of an ingest: the marker, written with
  // the deletion, makes the next open for writing run the rebuild again if this one is cut off
  // between here and the last batch.
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::WriteBatch remove;
  eventstore::Database::check(remove.Put(database.family(Family::kMeta), kRebuildMarkerKey, {}), "adding to batch");
  const std::string lowest(8, '\0'), highest(16, '\xff');
  for (auto family : kProjectionFamilies) {
    eventstore::Database::check(remove.DeleteRange(database.family(family), lowest, highest), "adding to batch");
  }
  eventstore::Database::check(database.db().Write(sync, &remove), "removing the old projections");

  // One call: RocksDB records the files of every family in the MANIFEST atomically.
  if (!ingest.empty()) eventstore::Database::check(database.db().IngestExternalFiles(ingest), "loading the rebuilt projections");

  rocksdb::WriteBatch finish;
  store_next_customer_id(database, finish, ledger.next_id);
  eventstore::Database::check(finish.Delete(database.family(Family::kMeta), kRebuildMarkerKey), "adding to batch");
  eventstore::Database::check(database.db().Write(sync, &finish), "finishing the rebuilt projections");
  return ledger.entries;
}

bool rebuild_interrupted(const eventstore::Reader& reader) {
  return reader.get(Family::kMeta, kRebuildMarkerKey).has_value();
}

bool finish_interrupted_rebuild(eventstore::Database& database) {
  if (rebuild_interrupted(eventstore::DatabaseReader(database))) {
    rebuild_projections(database);
    return true;
  }
  // Cut off while writing its files, before it changed anything: only the files remain, and
  // the erasure pass counts any file in a subdirectory as one that may hold purged bytes.
  StagingDirectory::remove(database.dir() / kStagingDirectory);
  return false;
}

}  // namespace ledger::projections
