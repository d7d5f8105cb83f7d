// The erasure report's JSON codec: reports stored by earlier versions read into the typed
// report, and what it writes keeps the field names external scripts read.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "eventstore/erasure_report.h"

using namespace ledger::eventstore;

namespace {

// The example of docs/erasure.md ("Reading the report"), as a pass with the key store stored it
// (the fields the example leaves out, after bytes_reclaimed, omitted).
const char* const kStoredWithKeys = R"({"purge_seqs":[30101],"verified":true,
 "unreadable":{"verified":true,"at_us":1796571092223547,"ms":8,"customers":100,"keys_deleted":100,
               "keys_probed":100,"files_scanned":8,"bytes_scanned":352590,"residue_files":[]},
 "started_at_us":1796571092223594,"duration_ms":2066,"check":"probed","probes":1200,
 "probes_shared":0,"purged_entries":400,"entries_probed":400,"files_scanned":17,
 "bytes_scanned":30063978,"sst_files":10,"residue":0,"residue_files":[],"stray_files":[],
 "unverifiable_files":[],"unredacted_entries":[],"quiescent":true,"bytes_reclaimed":11731478})";

// As a pass stored it before the key store, probe coverage and the targeted compaction existed:
// no unreadable, purged_entries, entries_probed, check or compaction fields.
const char* const kStoredBeforeKeys = R"({"purge_seqs":[7,9],"verified":false,"started_at_us":1700000000000000,
 "duration_ms":120,"flush_ms":3,"compaction_ms":40,"verify_ms":70,"probes":12,"probes_shared":1,
 "files_scanned":9,"bytes_scanned":4096,"sst_files":3,"sst_entries":50,"residue":2,
 "residue_files":[{"file":"000012.sst","hits":2}],"stray_files":["000003.log"],
 "unverifiable_files":[],"quiescent":true,"bytes_before":9000,"bytes_after":8000,"bytes_reclaimed":1000,
 "stopped":false,"error":""})";

}  // namespace

TEST_CASE("the stored report of docs/erasure.md reads into the typed report", "[erasure][report]") {
  const auto report = parse_erasure_report(kStoredWithKeys);
  REQUIRE(report);
  CHECK(report->state == ErasureState::kVerified);
  CHECK(report->verified());
  CHECK(report->purge_seqs == std::vector<std::uint64_t>{30101});
  REQUIRE(report->keys);
  CHECK(report->keys->verified());
  CHECK(report->keys->finished_at_us == 1796571092223547);
  CHECK(report->keys->seconds == Approx(0.008));
  CHECK(report->keys->customers == 100);
  CHECK(report->keys->keys_deleted == 100);
  CHECK(report->keys->keys_probed == 100);
  CHECK(report->keys->files_scanned == 8);
  CHECK(report->keys->bytes_scanned == 352590);
  CHECK(report->started_at_us == 1796571092223594);
  CHECK(report->duration_ms == 2066);
  CHECK(report->check() == ErasureCheck::kProbed);
  CHECK(report->probes == 1200);
  CHECK(report->purged_entries == 400);
  CHECK(report->entries_probed == 400);
  CHECK(report->files_scanned == 17);
  CHECK(report->bytes_scanned == 30063978);
  CHECK(report->sst_files == 10);
  CHECK(report->residue == 0);
  CHECK(report->residue_files.empty());
  CHECK(report->quiescent);
  // Absent in the stored text: zero.
  CHECK(report->compaction_ranges == 0);
  CHECK(report->live_sst_bytes == 0);
}

TEST_CASE("a report stored before the key store and the compaction fields reads, every missing field empty",
          "[erasure][report]") {
  const auto report = parse_erasure_report(kStoredBeforeKeys);
  REQUIRE(report);
  CHECK(report->state == ErasureState::kNotVerified);
  CHECK(report->purge_seqs == std::vector<std::uint64_t>{7, 9});
  CHECK_FALSE(report->keys);
  CHECK(report->residue == 2);
  REQUIRE(report->residue_files.size() == 1);
  CHECK(report->residue_files[0].file == "000012.sst");
  CHECK(report->residue_files[0].hits == 2);
  CHECK(report->stray_files == std::vector<std::string>{"000003.log"});
  CHECK(report->unredacted_entries.empty());
  CHECK(report->bytes_reclaimed() == 1000);
  CHECK(report->purged_entries == 0);
  CHECK(report->compacted_files == 0);
}

TEST_CASE("the report's JSON keeps every documented field name, and reads back the same", "[erasure][report]") {
  ErasureReport report;
  report.state = ErasureState::kNotVerified;
  report.purge_seqs = {5};
  report.keys = KeyShred{};
  report.keys->customers = 3;
  report.keys->residue_files = {"keystore/000004.log"};
  report.probes = 10;
  report.purged_entries = 6;
  report.entries_probed = 4;
  report.residue = 1;
  report.residue_files = {{"rocksdb:log", 1}};
  report.unredacted_entries = {17};
  report.compaction_ranges = 2;
  report.compacted_files = 3;
  report.compacted_file_bytes = 4000;
  report.live_sst_bytes = 9000;
  report.bytes_before = 100;
  report.bytes_after = 150;
  report.error = "a \"quoted\" failure";
  const auto text = to_json(report);
  INFO(text);
  const auto json = boost::json::parse(text).as_object();
  std::vector<std::string> names;
  for (const auto& field : json) names.emplace_back(field.key());
  CHECK(names == std::vector<std::string>{
                     "purge_seqs", "verified", "unreadable", "started_at_us", "duration_ms", "probe_filter_ms",
                     "flush_ms", "compaction_ms", "compaction_ranges", "compacted_files", "compacted_file_bytes",
                     "live_sst_bytes", "verify_ms", "check", "probes", "probes_shared", "purged_entries",
                     "entries_probed", "files_scanned", "bytes_scanned", "sst_files", "sst_entries", "versions_scanned",
                     "residue", "residue_files", "stray_files", "unverifiable_files", "unredacted_entries", "quiescent",
                     "bytes_before", "bytes_after", "bytes_reclaimed", "stopped", "error"});
  std::vector<std::string> unreadable;
  for (const auto& field : json.at("unreadable").as_object()) unreadable.emplace_back(field.key());
  CHECK(unreadable == std::vector<std::string>{"verified", "at_us", "ms", "customers", "keys_deleted", "keys_probed",
                                               "files_scanned", "bytes_scanned", "residue_files"});
  CHECK(json.at("check").as_string() == "partly probed");
  CHECK(json.at("bytes_reclaimed").to_number<std::int64_t>() == -50);
  CHECK(json.at("unreadable").at("verified").as_bool() == false);

  const auto back = parse_erasure_report(text);
  REQUIRE(back);
  CHECK(back->state == ErasureState::kNotVerified);
  CHECK(back->purge_seqs == report.purge_seqs);
  REQUIRE(back->keys);
  CHECK(back->keys->residue_files == report.keys->residue_files);
  CHECK(back->residue_files.at(0).file == "rocksdb:log");
  CHECK(back->unredacted_entries == report.unredacted_entries);
  CHECK(back->compacted_file_bytes == 4000);
  CHECK(back->live_sst_bytes == 9000);
  CHECK(back->error == report.error);
  CHECK(to_json(*back) == text);
}

TEST_CASE("a stored value that is not a JSON object is no report", "[erasure][report]") {
  CHECK_FALSE(parse_erasure_report(""));
  CHECK_FALSE(parse_erasure_report("[1,2]"));
  CHECK_FALSE(parse_erasure_report("{\"verified\":tru"));
  const auto empty = parse_erasure_report("{}");
  REQUIRE(empty);
  CHECK(empty->state == ErasureState::kNotVerified);
  CHECK(parse_erasure_report(R"({"stopped":true})")->state == ErasureState::kStopped);
}
