// The erasure compaction pass on real data: 10,000 customers with unique markers in every field,
// 100 purged, default compression. After the pass an independent scan of the data directory
// finds none of the purged customers' bytes and all of the survivors'; the pass's own report
// agrees; the ledger verifies; freed numbers are reused without a trace of their old holders.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <random>
#include <set>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <rocksdb/sst_file_manager.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table_properties.h>

#include "erasure/independent_scan.h"
#include "erasure/marked_ledger.h"
#include "eventstore/encoding.h"
#include "eventstore/erasure_pass.h"
#include "eventstore/pending_erasure.h"
#include "eventstore/probe_matcher.h"
#include "eventstore/sealing.h"
#include "projections/erasure_probes.h"
#include "projections/replay.h"
#include "projections/verify.h"
#include "server/open_ledger.h"
#include "support/ledger_fixture.h"

using namespace ledger;
using namespace ledger::testing;

namespace {

using Json = boost::json::object;

// The report as its stored JSON shows it.
Json parse_report(const std::optional<eventstore::ErasureReport>& report) {
  REQUIRE(report);
  return boost::json::parse(eventstore::to_json(*report)).as_object();
}

std::uint64_t count(const Json& report, const char* field) { return report.at(field).to_number<std::uint64_t>(); }

void flush_all(eventstore::Database& db, bool compact) {
  eventstore::Database::check(db.db().Flush(rocksdb::FlushOptions(), db.all_families()), "flush");
  if (!compact) return;
  for (auto* family : db.all_families()) {
    eventstore::Database::check(db.db().CompactRange(rocksdb::CompactRangeOptions(), family, nullptr, nullptr), "compact");
  }
}

std::size_t sst_count(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.path().extension() == ".sst";
  return n;
}

// What an independent scan found: plaintext markers (the ledger never writes them to a file),
// purged customers with a sealed value left, survivors with none.
struct MarkerCheck {
  std::size_t plaintext_found = 0;
  std::size_t purged_found = 0;
  std::size_t survivors_missing = 0;
  std::size_t purged_total = 0;
};

MarkerCheck check_markers(const DirectoryMarkers& found, const MarkedLedgerPlan& plan) {
  MarkerCheck check;
  check.plaintext_found = found.markers.size();
  for (int i = 0; i < plan.customers; ++i) {
    const bool sealed = found.sealed_for.contains(customer_id_of(i));
    if (purged_index(i, plan)) {
      ++check.purged_total;
      check.purged_found += sealed;
    } else {
      check.survivors_missing += !sealed;
    }
  }
  return check;
}

std::uint64_t expected_probes(const MarkedLedgerPlan& plan) {
  std::set<std::string> all;
  for (int i = 0; i < plan.customers; i += plan.purge_every) all.merge(probe_values_of(i));
  // and, per purged customer, the header of every value sealed for it
  return all.size() + static_cast<std::uint64_t>((plan.customers + plan.purge_every - 1) / plan.purge_every);
}

// After the pass: the report, the pending records, an independent scan, the chain.
void check_erased(server::CommandService& service, eventstore::Database& db, const MarkedLedgerPlan& plan,
                  std::uint64_t purge_seq) {
  auto report = parse_report(service.wait_for_erasure(purge_seq, std::chrono::seconds(120)));
  INFO(boost::json::serialize(report));
  CHECK(report.at("verified").as_bool());
  CHECK(count(report, "residue") == 0);
  CHECK(count(report, "probes") == expected_probes(plan));
  CHECK(count(report, "probes_shared") == 0);
  CHECK(count(report, "sst_files") > 0);
  CHECK(count(report, "files_scanned") > count(report, "sst_files"));
  CHECK(report.at("stray_files").as_array().empty());
  CHECK(report.at("purge_seqs").as_array().at(0).to_number<std::uint64_t>() == purge_seq);
  // The report keeps no personal data.
  std::set<std::string> in_report;
  collect_markers(eventstore::to_json(*service.erasure_report(purge_seq)), in_report);
  CHECK(in_report.empty());

  eventstore::DatabaseReader reader(db);
  CHECK(eventstore::pending_erasures(reader).empty());

  const auto after = scan_directory(db.dir(), plan.customers);
  CHECK(after.compressed_sst_files > 0);
  const auto markers = check_markers(after, plan);
  CHECK(markers.purged_total == static_cast<std::size_t>(plan.customers / plan.purge_every));
  CHECK(markers.plaintext_found == 0);
  CHECK(markers.purged_found == 0);
  CHECK(markers.survivors_missing == 0);

  auto verify = projections::verify_ledger(reader);
  INFO(verify.problem);
  CHECK(verify.ok);
  CHECK(verify.purges == 1);
}

// A new customer gets the lowest freed number; neither history, search nor an old request key
// shows anything of its previous holder.
void check_number_reuse(server::CommandService& service, const std::vector<domain::CustomerNumber>& numbers) {
  const auto lowest_freed = numbers[0];  // customer 0 was purged and had the lowest number
  REQUIRE(lowest_freed == 1);
  auto fresh = accepted(service.execute(domain::CreateCustomer{person("Fresh Holder"), {}}, loader_context(0)));
  CHECK_FALSE(fresh.replayed);  // the purged customer's remembered outcome is gone
  CHECK(fresh.numbers == std::vector<domain::CustomerNumber>{lowest_freed});
  auto history = service.history(lowest_freed);
  REQUIRE(history.size() == 1);
  CHECK(std::get<domain::CustomerCreated>(history[0].event).fields.name == "Fresh Holder");
  using projections::CustomerList;
  CHECK(service.list(CustomerList::kActive, 0, 10, marker('n', 0, 2)).customers.empty());
  CHECK(service.list(CustomerList::kActive, 0, 10, marker('e', 0, 0)).customers.empty());
  CHECK(service.list(CustomerList::kDeleted, 0, 10).customers.empty());
  // A survivor is still found the same way.
  CHECK(service.list(CustomerList::kActive, 0, 10, marker('n', 1, 2)).customers.size() == 1);
}

}  // namespace

TEST_CASE("10000 customers with 100 purged from SST files: no byte of them stays and every survivor's does", "[erasure][data]") {
  TempDir dir;
  auto db = eventstore::Database::open(dir.path() / "data", {});
  auto opened = server::open_ledger(*db);
  auto& service = *opened;
  MarkedLedgerPlan plan;
  plan.between = [&](int stage) { flush_all(*db, stage == 1); };
  const auto numbers = fill_marked_ledger(service, plan);

  // The scan sees the purged customers' data before the purge (else it would prove nothing).
  const auto before = scan_directory(db->dir(), plan.customers);
  REQUIRE(before.compressed_sst_files > 0);
  REQUIRE(check_markers(before, plan).purged_found == check_markers(before, plan).purged_total);
  // Before the cleanup too, no customer's plaintext is in any file: only sealed values.
  CHECK(check_markers(before, plan).plaintext_found == 0);

  auto purge = accepted(service.execute(domain::PurgeDeletedCustomers{true, 100}));
  REQUIRE(purge.purged == 100);
  check_erased(service, *db, plan, purge.seqs.front());
  check_number_reuse(service, numbers);

  // Idempotent: a second pass over the same purge, with the same probes, finds nothing either.
  // One probe is now shared: the fresh customer was created with customer 0's old request key.
  std::vector<std::string> probes;
  for (int i = 0; i < plan.customers; i += plan.purge_every) {
    for (const auto& p : probe_values_of(i)) probes.push_back(p);
    probes.push_back(eventstore::sealed_header(customer_id_of(i)));
  }
  auto again = eventstore::run_erasure_pass(*db, {purge.seqs.front()}, probes);
  CHECK(again.verified());
  CHECK(again.residue == 0);
  CHECK(again.probes_shared == 1);
  CHECK(again.probes == expected_probes(plan) - 1);
}

namespace {

std::set<std::string> live_files(eventstore::Database& db, eventstore::Family family) {
  rocksdb::ColumnFamilyMetaData meta;
  db.db().GetColumnFamilyMetaData(db.family(family), &meta);
  std::set<std::string> names;
  for (const auto& level : meta.levels) {
    for (const auto& file : level.files) names.insert(file.name);
  }
  return names;
}

}  // namespace

TEST_CASE("the pass rewrites only the files that hold purged entries: older log and state files stay as they were",
          "[erasure][data]") {
  TempDir dir;
  auto db = eventstore::Database::open(dir.path() / "data", {});
  auto opened = server::open_ledger(*db);
  auto& service = *opened;
  constexpr int kOlder = 2'000;
  constexpr int kAll = 2'200;
  std::vector<domain::Command> creates;
  for (int i = 0; i < kOlder; ++i) creates.push_back(domain::CreateCustomer{marked_fields(i), {}});
  require_accepted(run_all(service, std::move(creates)), "create");
  flush_all(*db, true);
  const auto older_log = live_files(*db, eventstore::Family::kLog);
  const auto older_states = live_files(*db, eventstore::Family::kCustomers);
  REQUIRE_FALSE(older_log.empty());
  REQUIRE_FALSE(older_states.empty());

  // Newer customers, every tenth of them deleted and purged.
  creates.clear();
  for (int i = kOlder; i < kAll; ++i) creates.push_back(domain::CreateCustomer{marked_fields(i), {}});
  const auto created = run_all(service, std::move(creates));
  require_accepted(created, "create");
  domain::DeleteCustomers deletes;
  for (int i = kOlder; i < kAll; i += 10) deletes.numbers.push_back(std::get<server::Accepted>(created[i - kOlder]).numbers.at(0));
  require_accepted(run_all(service, {deletes}), "delete");
  auto purge = accepted(service.execute(domain::PurgeDeletedCustomers{true, deletes.numbers.size()}));
  auto report = parse_report(service.wait_for_erasure(purge.seqs.front(), std::chrono::seconds(120)));
  INFO(boost::json::serialize(report));
  CHECK(report.at("verified").as_bool());
  CHECK(count(report, "residue") == 0);
  CHECK(count(report, "compacted_files") > 0);
  CHECK(count(report, "compacted_file_bytes") < count(report, "live_sst_bytes"));

  // The older customers' files were not rewritten: they hold none of the purged keys.
  const auto log_after = live_files(*db, eventstore::Family::kLog);
  const auto states_after = live_files(*db, eventstore::Family::kCustomers);
  for (const auto& name : older_log) CHECK(log_after.contains(name));
  for (const auto& name : older_states) CHECK(states_after.contains(name));

  // And the purged customers' values are gone from every file, the survivors' all there.
  const auto found = scan_directory(db->dir(), kAll);
  CHECK(found.markers.empty());
  for (int i = 0; i < kAll; ++i) {
    const bool purged = i >= kOlder && (i - kOlder) % 10 == 0;
    INFO("customer " << i);
    CHECK(found.sealed_for.contains(customer_id_of(i)) == !purged);
  }
}

TEST_CASE("purged data only in memtable and WAL is erased too and commands during the pass are all answered",
          "[erasure][data][concurrency]") {
  TempDir dir;
  eventstore::OpenOptions open;
  open.write_buffer_bytes = 64 << 20;  // nothing is flushed before the purge
  auto db = eventstore::Database::open(dir.path() / "data", open);

  constexpr int kDuringPass = 200;
  server::CommandService* running = nullptr;
  std::atomic<int> answered_during{0};
  std::atomic<bool> pending_during{false};
  std::atomic<bool> hook_ran{false};
  server::CommandServiceOptions options;
  options.erasure_stage_hook = [&](eventstore::ErasureStage stage) {
    if (stage != eventstore::ErasureStage::kCompacted || hook_ran.exchange(true)) return;
    // Mid-pass (compacted, not verified): the writer must still answer.
    std::vector<domain::Command> creates;
    for (int i = 0; i < kDuringPass; ++i) creates.push_back(domain::CreateCustomer{person("During " + std::to_string(i)), {}});
    try {
      for (const auto& o : run_all(*running, std::move(creates), {}, std::chrono::seconds(60))) {
        answered_during += std::holds_alternative<server::Accepted>(o);
      }
    } catch (const std::exception&) {
      // Counted below as unanswered.
    }
    pending_during = !eventstore::pending_erasures(eventstore::DatabaseReader(*db)).empty();
  };
  auto opened = server::open_ledger(*db, options);
  auto& service = *opened;
  running = &service;

  MarkedLedgerPlan plan;
  const auto numbers = fill_marked_ledger(service, plan);
  REQUIRE(numbers[0] == 1);
  REQUIRE(sst_count(db->dir()) == 0);
  const auto before = scan_directory(db->dir(), plan.customers);
  REQUIRE(check_markers(before, plan).purged_found == check_markers(before, plan).purged_total);
  // Before the cleanup too, no customer's plaintext is in any file: only sealed values.
  CHECK(check_markers(before, plan).plaintext_found == 0);

  auto purge = accepted(service.execute(domain::PurgeDeletedCustomers{true, 100}));
  check_erased(service, *db, plan, purge.seqs.front());
  CHECK(hook_ran);
  CHECK(answered_during == kDuringPass);
  CHECK(pending_during);
  CHECK(service.list(projections::CustomerList::kActive, 0, 1000, "During").customers.size() ==
        static_cast<std::size_t>(kDuringPass));
  // The creates during the pass took the freed numbers, lowest first, with fresh histories.
  auto history = service.history(numbers[0]);
  REQUIRE(history.size() == 1);
  CHECK(std::get<domain::CustomerCreated>(history[0].event).fields.name.starts_with("During "));
}

TEST_CASE("a snapshot held across the pass keeps old versions: residue is reported and the erasure stays pending",
          "[erasure][residue]") {
  TempDir dir;
  auto db = eventstore::Database::open(dir.path() / "data", {});
  MarkedLedgerPlan plan;
  plan.customers = 50;
  plan.purge_every = 10;
  std::uint64_t purge_seq = 0;
  {
    server::CommandServiceOptions options;
    options.erasure_quiescence_timeout = std::chrono::milliseconds(300);
    auto opened = server::open_ledger(*db, options);
    auto& service = *opened;
    fill_marked_ledger(service, plan);
    const rocksdb::Snapshot* snapshot = db->db().GetSnapshot();
    purge_seq = accepted(service.execute(domain::PurgeDeletedCustomers{true, 5})).seqs.front();
    auto report = parse_report(service.wait_for_erasure(purge_seq, std::chrono::seconds(60)));
    INFO(boost::json::serialize(report));
    CHECK_FALSE(report.at("verified").as_bool());
    CHECK_FALSE(report.at("quiescent").as_bool());
    CHECK(count(report, "residue") > 0);
    CHECK_FALSE(report.at("residue_files").as_array().empty());
    CHECK(eventstore::pending_erasures(eventstore::DatabaseReader(*db)) == std::vector<std::uint64_t>{purge_seq});
    // The reader lets go, and the process goes down before anything else runs: keep RocksDB
    // from compacting the now unpinned old versions away before the restart, as a crash would.
    for (auto* family : db->all_families()) {
      REQUIRE(db->db().SetOptions(family, {{"disable_auto_compactions", "true"}}).ok());
    }
    db->db().ReleaseSnapshot(snapshot);
  }
  // The next start holds automatic compactions (the released snapshot left old versions that
  // they would drop at once) until the pass has recovered its probes from those versions.
  db->close();
  db = eventstore::Database::open(dir.path() / "data", {});
  CHECK(db->compactions_held());
  auto opened = server::open_ledger(*db);
  auto& service = *opened;
  auto report = parse_report(service.wait_for_erasure(purge_seq, std::chrono::seconds(60)));
  INFO(boost::json::serialize(report));
  CHECK(report.at("verified").as_bool());
  // Field values never reached a file in plaintext, so none came back from the old versions:
  // the probes are each purged customer's sealed header and its create's request key (stored
  // in plaintext in the envelope; not personal data, but the purge removes it too).
  CHECK(count(report, "probes") == 2 * static_cast<std::uint64_t>(plan.customers / plan.purge_every));
  CHECK_FALSE(db->compactions_held());
  CHECK(eventstore::pending_erasures(eventstore::DatabaseReader(*db)).empty());
  CHECK(check_markers(scan_directory(db->dir(), plan.customers), plan).purged_found == 0);
}

TEST_CASE("a copy of an SST and a text file left in the data directory are named as stray and as residue",
          "[erasure][residue]") {
  TempDir dir;
  auto db = eventstore::Database::open(dir.path() / "data", {});
  MarkedLedgerPlan plan;
  plan.customers = 50;
  plan.purge_every = 10;
  std::uint64_t purge_seq = 0;
  {
    server::CommandServiceOptions options;
    options.erasure_quiescence_timeout = std::chrono::milliseconds(300);
    auto opened = server::open_ledger(*db, options);
    auto& service = *opened;
    fill_marked_ledger(service, plan);
    flush_all(*db, false);
    std::filesystem::path some_sst;
    for (const auto& e : std::filesystem::directory_iterator(db->dir())) {
      if (e.path().extension() == ".sst") some_sst = e.path();
    }
    REQUIRE(!some_sst.empty());
    // What a careless backup or an editor might leave behind.
    std::filesystem::copy_file(some_sst, db->dir() / "backup-copy.sst");
    std::ofstream(db->dir() / "notes.txt") << "call " << marked_fields(20).email << " back\n";

    purge_seq = accepted(service.execute(domain::PurgeDeletedCustomers{true, 5})).seqs.front();
    auto report = parse_report(service.wait_for_erasure(purge_seq, std::chrono::seconds(60)));
    INFO(boost::json::serialize(report));
    CHECK_FALSE(report.at("verified").as_bool());
    const auto text = boost::json::serialize(report);
    CHECK_THAT(text, Catch::Contains("\"stray_files\":[\"backup-copy.sst\"]"));
    CHECK_THAT(text, Catch::Contains("{\"file\":\"notes.txt\",\"hits\":1}"));
    CHECK(eventstore::pending_erasures(eventstore::DatabaseReader(*db)) == std::vector<std::uint64_t>{purge_seq});
  }
  std::filesystem::remove(db->dir() / "backup-copy.sst");
  std::filesystem::remove(db->dir() / "notes.txt");
  auto opened = server::open_ledger(*db);
  auto& service = *opened;
  auto report = parse_report(service.wait_for_erasure(purge_seq, std::chrono::seconds(60)));
  INFO(boost::json::serialize(report));
  CHECK(report.at("verified").as_bool());
  CHECK(eventstore::pending_erasures(eventstore::DatabaseReader(*db)).empty());
}

namespace {

std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// What every file of the directory holds: the data blocks of compressed SSTs raw, and everything
// else, decoded entries included, as one text to search.
struct Holdings {
  std::vector<std::string> compressed_data;  // [0, data_size) of each compressed SST
  std::string elsewhere;
};

Holdings holdings(const std::filesystem::path& dir) {
  Holdings out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const auto bytes = file_bytes(entry.path());
    if (entry.path().extension() != ".sst") {
      out.elsewhere += bytes;
      continue;
    }
    rocksdb::SstFileReader reader{rocksdb::Options()};
    REQUIRE(reader.Open(entry.path().string()).ok());
    std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out.elsewhere.append(it->key().data(), it->key().size()).push_back('\n');
      out.elsewhere.append(it->value().data(), it->value().size()).push_back('\n');
    }
    const auto props = reader.GetTableProperties();
    REQUIRE(props);
    REQUIRE(props->data_size <= bytes.size());
    out.elsewhere += bytes.substr(props->data_size);
    if (props->compression_name == "NoCompression") out.elsewhere += bytes.substr(0, props->data_size);
    else out.compressed_data.push_back(bytes.substr(0, props->data_size));
  }
  return out;
}

}  // namespace

TEST_CASE("bytes of a compressed block that spell a probe none of its entries holds are not residue",
          "[erasure][residue]") {
  // Compressed bytes are a literal run of one value's bytes, then a tag byte: together they
  // can spell another value, as a survivor's phone "+44 20 0053 075" and a copy tag 0x31
  // spelled a purged customer's "+44 20 0053 0751".
  TempDir dir;
  auto db = eventstore::Database::open(dir.path() / "data", {});
  auto opened = server::open_ledger(*db);
  auto& service = *opened;
  MarkedLedgerPlan plan;
  plan.customers = 300;
  plan.purge_every = 10;
  fill_marked_ledger(service, plan);
  auto purge = accepted(service.execute(domain::PurgeDeletedCustomers{true, 30}));
  CHECK(parse_report(service.wait_for_erasure(purge.seqs.front(), std::chrono::seconds(60))).at("verified").as_bool());
  opened.reset();

  // Sixteen-byte runs of compressed data blocks found nowhere else: in no entry, in no other
  // part of any file. Several, from every compressed file: the pass's compaction rewrites the
  // files, and a run that spans what it changes (an entry's sequence number) is gone after it.
  const auto held = holdings(db->dir());
  REQUIRE_FALSE(held.compressed_data.empty());
  std::vector<std::string> probes;
  for (const auto& data : held.compressed_data) {
    std::size_t taken = 0;
    for (std::size_t at = 0; taken < 16 && at + 16 <= data.size(); at += 16) {
      const auto window = data.substr(at, 16);
      if (held.elsewhere.find(window) == std::string::npos) {
        probes.push_back(window);
        ++taken;
      }
    }
  }
  REQUIRE_FALSE(probes.empty());

  const auto report = eventstore::run_erasure_pass(*db, {purge.seqs.front()}, probes);
  // The pass's own compaction rewrote the files; some of the runs are still spelled by
  // compressed bytes, and none by anything else (else this would show nothing).
  const auto after = holdings(db->dir());
  const auto still_spelled = std::count_if(probes.begin(), probes.end(), [&](const std::string& probe) {
    return std::any_of(after.compressed_data.begin(), after.compressed_data.end(),
                       [&](const std::string& data) { return data.find(probe) != std::string::npos; });
  });
  REQUIRE(still_spelled > 0);
  for (const auto& probe : probes) REQUIRE(after.elsewhere.find(probe) == std::string::npos);
  CHECK(report.probes == probes.size());
  CHECK(report.residue == 0);
  CHECK(report.verified());
}

TEST_CASE("an empty WAL left by a read-write open that wrote nothing is deleted, not reported as stray",
          "[erasure][stray]") {
  TempDir dir;
  const auto data = dir.path() / "data";
  MarkedLedgerPlan plan;
  plan.customers = 20;
  plan.purge_every = 10;
  {
    auto db = eventstore::Database::open(data, {});
    auto opened = server::open_ledger(*db);
    auto& service = *opened;
    fill_marked_ledger(service, plan);
  }
  // What `ledger-admin compact` with nothing pending does: the open flushes the recovered WAL and
  // starts a new one, which stays empty and is left behind at close.
  eventstore::Database::open(data, {})->close();
  const auto empty_wals = [&] {
    std::set<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(data)) {
      if (e.path().extension() == ".log" && e.file_size() == 0) out.insert(e.path().filename().string());
    }
    return out;
  };
  const auto left = empty_wals();
  REQUIRE(left.size() == 1);

  auto db = eventstore::Database::open(data, {});
  server::CommandServiceOptions options;
  options.erasure_quiescence_timeout = std::chrono::seconds(5);
  auto opened = server::open_ledger(*db, options);
  auto& service = *opened;
  const auto seq = accepted(service.execute(domain::PurgeDeletedCustomers{true, 2})).seqs.front();
  auto report = parse_report(service.wait_for_erasure(seq, std::chrono::seconds(60)));
  INFO(boost::json::serialize(report));
  CHECK(report.at("verified").as_bool());
  CHECK(report.at("stray_files").as_array().empty());
  CHECK_FALSE(std::filesystem::exists(data / *left.begin()));
}

TEST_CASE("options that would keep old bytes are refused", "[erasure][options]") {
  rocksdb::DBOptions ok;
  std::vector<rocksdb::ColumnFamilyOptions> families(2);
  CHECK_FALSE(eventstore::erasure_blocker(ok, families));

  auto archive = ok;
  archive.WAL_ttl_seconds = 60;
  CHECK(eventstore::erasure_blocker(archive, families));
  archive = ok;
  archive.WAL_size_limit_MB = 1;
  CHECK(eventstore::erasure_blocker(archive, families));
  auto recycle = ok;
  recycle.recycle_log_file_num = 2;
  CHECK(eventstore::erasure_blocker(recycle, families));
  auto rate_limited = ok;
  rate_limited.sst_file_manager.reset(rocksdb::NewSstFileManager(rocksdb::Env::Default(), nullptr, "", 1 << 20));
  CHECK(eventstore::erasure_blocker(rate_limited, families));
  auto unlimited = ok;
  unlimited.sst_file_manager.reset(rocksdb::NewSstFileManager(rocksdb::Env::Default()));
  CHECK_FALSE(eventstore::erasure_blocker(unlimited, families));

  auto blobs = families;
  blobs[1].enable_blob_files = true;
  CHECK(eventstore::erasure_blocker(ok, blobs));
  blobs[1].enable_blob_garbage_collection = true;
  blobs[1].blob_garbage_collection_age_cutoff = 0.25;
  CHECK(eventstore::erasure_blocker(ok, blobs));
  blobs[1].blob_garbage_collection_age_cutoff = 1.0;
  CHECK_FALSE(eventstore::erasure_blocker(ok, blobs));
}

TEST_CASE("the probe matcher finds every occurrence at any position and ignores short probes", "[erasure][probes]") {
  eventstore::ProbeMatcher matcher({"Ada Lovelace", "ada@example.org", "short", "Ada Lovelace"});
  CHECK(matcher.size() == 2);
  std::vector<std::pair<std::string, std::size_t>> hits;
  const std::string hay = "Ada Lovelace|x ada@example.org Ada Lovelac short Ada Lovelace";
  matcher.scan(hay, [&](std::size_t index, std::size_t pos) {
    hits.emplace_back(matcher.probe(index), pos);
    return true;
  });
  CHECK(hits == std::vector<std::pair<std::string, std::size_t>>{
                    {"Ada Lovelace", 0}, {"ada@example.org", 15}, {"Ada Lovelace", hay.size() - 12}});
  CHECK(matcher.contains_any("xxada@example.orgxx"));
  CHECK_FALSE(matcher.contains_any("ada@example.or"));
  CHECK_FALSE(matcher.contains_any("short"));
  CHECK_FALSE(eventstore::ProbeMatcher({}).contains_any("anything at all"));
  for (std::size_t shift = 0; shift < 5; ++shift) {  // a probe ending the haystack, at every offset
    std::vector<std::size_t> at;
    matcher.scan(std::string(shift, 'x') + "ada@example.org", [&](std::size_t, std::size_t pos) {
      at.push_back(pos);
      return true;
    });
    CHECK(at == std::vector<std::size_t>{shift});
  }
}

TEST_CASE("the probe matcher finds the same hits as a search for each probe when many probes share a prefix",
          "[erasure][probes]") {
  // Marker-like probes: thousands share their first bytes, some are prefixes of others, some
  // hold bytes above 0x7f.
  std::vector<std::string> probes;
  for (int i = 0; i < 3000; i += 7) {
    probes.push_back(testing::marker('c', i, 0));
    probes.push_back(testing::marker('c', i, 0) + " GmbH");
    probes.push_back("\xc3\xa9t\xc3\xa9-" + std::to_string(i));
  }
  std::mt19937 random(11);
  std::string hay;
  for (int n = 0; n < 20'000; ++n) {
    const auto pick = random() % 4;
    if (pick == 0) hay += testing::marker('c', static_cast<int>(random() % 3000), 0);
    else if (pick == 1) hay += probes[random() % probes.size()];
    else if (pick == 2) hay += " GmbH\xc3\xa9t\xc3\xa9-";
    else hay.push_back(static_cast<char>(random() % 256));
  }
  const eventstore::ProbeMatcher matcher(probes);
  std::set<std::pair<std::string, std::size_t>> expected, found;
  for (std::size_t i = 0; i < matcher.size(); ++i) {
    const auto& p = matcher.probe(i);
    for (auto at = hay.find(p); at != std::string::npos; at = hay.find(p, at + 1)) expected.emplace(p, at);
  }
  matcher.scan(hay, [&](std::size_t index, std::size_t pos) {
    found.emplace(matcher.probe(index), pos);
    return true;
  });
  CHECK(expected.size() > 5'000);
  CHECK(found == expected);
}

TEST_CASE("a purged customer's entry left whole in the log makes the pass unverified, naming its seq",
          "[erasure][purge]") {
  // As if a purge had missed the entry: its probes would not have been taken either, so only the
  // check of the log against the purged ids can tell.
  TempDir dir;
  auto db = eventstore::Database::open(dir.path() / "data", {});
  auto opened = server::open_ledger(*db);
  auto& service = *opened;
  const auto ada = accepted(service.execute(domain::CreateCustomer{person("Ada Lovelace", "ada@example.org"), {}}));
  accepted(service.execute(domain::CreateCustomer{person("Bo Keeper"), {}}));
  accepted(service.execute(domain::DeleteCustomers{{1}}));
  const auto whole = eventstore::DatabaseReader(*db).get(eventstore::Family::kLog, eventstore::u64_key(ada.seqs.front()));
  REQUIRE(whole);
  auto purge = accepted(service.execute(domain::PurgeDeletedCustomers{true, 1}));
  const auto purge_seq = purge.seqs.back();
  CHECK(parse_report(service.wait_for_erasure(purge_seq, std::chrono::seconds(60))).at("verified").as_bool());
  opened.reset();

  put_raw(*db, eventstore::Family::kLog, eventstore::u64_key(ada.seqs.front()), *whole);
  eventstore::ErasurePassOptions options;
  options.purged_customers = projections::purge_receipt(eventstore::DatabaseReader(*db), purge_seq)->ids;
  CHECK(options.purged_customers == std::vector<std::uint64_t>{ada.id});
  const auto report = eventstore::run_erasure_pass(*db, {purge_seq}, {}, {}, options);
  INFO(eventstore::to_json(report));
  CHECK_FALSE(report.verified());
  CHECK(report.residue == 0);
  CHECK(report.unredacted_entries == std::vector<std::uint64_t>{ada.seqs.front()});
  const auto stored = parse_report(eventstore::erasure_report(eventstore::DatabaseReader(*db), purge_seq));
  CHECK_FALSE(stored.at("verified").as_bool());
  CHECK(stored.at("unredacted_entries").as_array().size() == 1);
}
