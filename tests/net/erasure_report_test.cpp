// The erasure report a client reads over TCP from a real ledgerd: the typed Erasure fields
// (erasureState, erasureReport) and the deprecated text ones say the same.
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <boost/json.hpp>
#include <capnp/message.h>
#include <catch2/catch.hpp>

#include "eventstore/crypto.h"
#include "net/raw_connection.h"
#include "support/ledgerd_client.h"
#include "support/ledgerd_process.h"
#include "support/temp_dir.h"

using namespace ledger;
using ledger::testing::LedgerdClient;
using ledger::testing::LedgerdProcess;
using ledger::testing::RawConnection;
using ledger::testing::TempDir;

namespace {

// Creates a customer and deletes it: one more for the next purge.
void create_and_delete(LedgerdClient& client, const std::string& name, const std::string& email) {
  delete_customer(client, create_customer(client, name, email));
}

std::uint64_t number(const boost::json::object& o, const char* name) { return o.at(name).to_number<std::uint64_t>(); }

std::set<std::string> strings(const boost::json::object& o, const char* name) {
  std::set<std::string> out;
  for (const auto& v : o.at(name).as_array()) out.insert(std::string(v.as_string()));
  return out;
}

template <typename List>
std::set<std::string> strings(List list) {
  std::set<std::string> out;
  for (auto v : list) out.insert(v.cStr());
  return out;
}

// Every typed field a client needs equals the JSON text field's.
void same_as_text(protocol::Erasure::Reader erasure) {
  const std::string text = erasure.getReport().cStr();
  INFO(text);
  const auto json = boost::json::parse(text).as_object();
  REQUIRE(erasure.hasErasureReport());
  const auto typed = erasure.getErasureReport();
  CHECK(typed.getVerified() == json.at("verified").as_bool());
  REQUIRE(typed.getPurgeSeqs().size() == json.at("purge_seqs").as_array().size());
  for (unsigned i = 0; i < typed.getPurgeSeqs().size(); ++i) {
    CHECK(typed.getPurgeSeqs()[i] == json.at("purge_seqs").as_array()[i].to_number<std::uint64_t>());
  }
  CHECK(typed.getStartedAtUs() == json.at("started_at_us").to_number<std::int64_t>());
  CHECK(typed.getDurationMs() == number(json, "duration_ms"));
  CHECK(typed.getVerifyMs() == number(json, "verify_ms"));
  CHECK(typed.getProbes() == number(json, "probes"));
  CHECK(typed.getPurgedEntries() == number(json, "purged_entries"));
  CHECK(typed.getEntriesProbed() == number(json, "entries_probed"));
  CHECK(typed.getFilesScanned() == number(json, "files_scanned"));
  CHECK(typed.getResidue() == number(json, "residue"));
  CHECK(typed.getCompactionRanges() == number(json, "compaction_ranges"));
  CHECK(typed.getCompactedFiles() == number(json, "compacted_files"));
  CHECK(typed.getCompactedFileBytes() == number(json, "compacted_file_bytes"));
  CHECK(typed.getLiveSstBytes() == number(json, "live_sst_bytes"));
  CHECK(typed.getBytesReclaimed() == json.at("bytes_reclaimed").to_number<std::int64_t>());
  const std::map<protocol::ErasureCheck, std::string> checks = {{protocol::ErasureCheck::PROBED, "probed"},
                                                                {protocol::ErasureCheck::PARTLY_PROBED, "partly probed"},
                                                                {protocol::ErasureCheck::NOTHING_TO_PROBE, "nothing to probe"}};
  CHECK(checks.at(typed.getCheck()) == json.at("check").as_string().c_str());
  std::set<std::string> residue_files;
  for (auto f : typed.getResidueFiles()) residue_files.insert(f.getFile().cStr());
  std::set<std::string> residue_files_json;
  for (const auto& f : json.at("residue_files").as_array()) residue_files_json.insert(std::string(f.at("file").as_string()));
  CHECK(residue_files == residue_files_json);
  CHECK(strings(typed.getStrayFiles()) == strings(json, "stray_files"));
  CHECK(strings(typed.getUnverifiableFiles()) == strings(json, "unverifiable_files"));
  CHECK(typed.getUnredactedEntries().size() == json.at("unredacted_entries").as_array().size());
  REQUIRE(typed.hasUnreadable());
  const auto& unreadable = json.at("unreadable").as_object();
  CHECK(typed.getUnreadable().getVerified() == unreadable.at("verified").as_bool());
  CHECK(typed.getUnreadable().getCustomers() == number(unreadable, "customers"));
  CHECK(typed.getUnreadable().getKeysDeleted() == number(unreadable, "keys_deleted"));
  CHECK(typed.getUnreadable().getAtUs() == unreadable.at("at_us").to_number<std::int64_t>());
}

}  // namespace

TEST_CASE("a purge with wait answers the typed erasure report, the same as its JSON text", "[ledgerd][erasure]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  LedgerdClient client(server);

  create_and_delete(client, "Bo", "bo.erased@example.org");
  create_and_delete(client, "Cy", "cy.erased@example.org");
  auto verified = purge_deleted(client, true);
  auto purged = verified.get().getPurged();
  auto erasure = purged.getErasure();
  CHECK(erasure.getErasureState() == protocol::ErasureState::VERIFIED);
  CHECK(std::string(erasure.getState().cStr()) == "done");
  same_as_text(erasure);
  const auto typed = erasure.getErasureReport();
  CHECK(typed.getVerified());
  REQUIRE(typed.getPurgeSeqs().size() == 1);
  CHECK(typed.getPurgeSeqs()[0] == purged.getSeq());
  CHECK(typed.getCheck() == protocol::ErasureCheck::PROBED);
  CHECK(typed.getPurgedEntries() == 4);  // two created and deleted
  CHECK(typed.getEntriesProbed() == 4);
  CHECK(typed.getProbes() > 0);
  CHECK(typed.getResidue() == 0);
  CHECK(typed.getQuiescent());
  CHECK(typed.getUnreadable().getVerified());
  CHECK(typed.getUnreadable().getCustomers() == 2);
  CHECK(std::string(typed.getError().cStr()).empty());

  // Asked for again, the stored report reads the same.
  auto again = client.call([&](auto r) { r.setErasureReport(purged.getSeq()); });
  REQUIRE(again.get().isErasure());
  CHECK(again.get().getErasure().getErasureState() == protocol::ErasureState::VERIFIED);
  CHECK(std::string(again.get().getErasure().getReport().cStr()) == erasure.getReport().cStr());
  same_as_text(again.get().getErasure());

  // One that does not verify: a copy of the purged customer's e-mail address left by hand.
  create_and_delete(client, "Di", "di.left-behind@example.org");
  std::ofstream(dir.path() / "data" / "notes.txt") << "copied by hand: di.left-behind@example.org\n";
  auto failed = purge_deleted(client, true);
  auto failed_erasure = failed.get().getPurged().getErasure();
  CHECK(failed_erasure.getErasureState() == protocol::ErasureState::NOT_VERIFIED);
  CHECK(std::string(failed_erasure.getState().cStr()) == "failed");
  same_as_text(failed_erasure);
  CHECK_FALSE(failed_erasure.getErasureReport().getVerified());
  CHECK(failed_erasure.getErasureReport().getResidue() > 0);
  std::set<std::string> holders;
  for (auto f : failed_erasure.getErasureReport().getResidueFiles()) holders.insert(f.getFile().cStr());
  CHECK(holders.contains("notes.txt"));

  // Not waited for: pending, with no typed report.
  std::filesystem::remove(dir.path() / "data" / "notes.txt");
  create_and_delete(client, "Ed", "ed@example.org");
  auto pending = purge_deleted(client, false);
  auto pending_erasure = pending.get().getPurged().getErasure();
  CHECK(pending_erasure.getErasureState() == protocol::ErasureState::PENDING);
  CHECK(std::string(pending_erasure.getState().cStr()) == "pending");
  CHECK(std::string(pending_erasure.getReport().cStr()) == "{}");
  CHECK_FALSE(pending_erasure.hasErasureReport());
  CHECK(server.stop() == 0);
}

namespace {

std::string bytes_of(capnp::Data::Reader data) { return std::string(data.asChars().begin(), data.asChars().end()); }

}  // namespace

TEST_CASE("a purge's answer and its stored report carry its receipt, whose Merkle root is over its stubs' digests",
          "[ledgerd][erasure]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  LedgerdClient client(server);
  create_and_delete(client, "Bo", "bo.erased@example.org");
  create_and_delete(client, "Cy", "cy.erased@example.org");
  auto answer = purge_deleted(client, true);
  const auto purged = answer.get().getPurged();
  REQUIRE(purged.getErasure().hasReceipt());
  const auto receipt = purged.getErasure().getReceipt();
  CHECK(receipt.getPurged() == 2);
  REQUIRE(receipt.getNumbersFreed().size() == 2);
  CHECK(receipt.getNumbersFreed()[0] == 1);
  CHECK(receipt.getNumbersFreed()[1] == 2);
  CHECK(receipt.getEntriesRedacted() == 4);
  REQUIRE(receipt.getMerkleRoot().size() == 32);

  // The root is over the redacted entries' digests, which their stubs keep, ordered by
  // (customer, seq): read them from the log as any subscriber would.
  RawConnection reader(server.port());
  capnp::MallocMessageBuilder hello, subscribe;
  auto h = hello.initRoot<protocol::Request>();
  h.setId(1);
  h.initHello();
  auto s = subscribe.initRoot<protocol::Request>();
  s.setId(2);
  s.initSubscribe().setFromSeq(1);
  REQUIRE(reader.send(hello));
  REQUIRE(reader.send(subscribe));
  REQUIRE(reader.response()->get().isWelcome());
  REQUIRE(reader.response()->get().isSubscribed());
  std::map<std::pair<std::uint64_t, std::uint64_t>, eventstore::Digest> stubs;
  std::string purge_chain;
  for (;;) {
    auto response = reader.response();
    REQUIRE(response);
    REQUIRE(response->get().isEntry());
    const auto entry = response->get().getEntry();
    if (entry.getRedactedBy() == purged.getSeq()) {
      eventstore::Digest digest{};
      REQUIRE(entry.getDigest().size() == digest.size());
      std::copy(entry.getDigest().begin(), entry.getDigest().end(), digest.begin());
      stubs[{entry.getCustomer(), entry.getSeq()}] = digest;
    }
    if (entry.getSeq() == purged.getSeq()) {
      purge_chain = bytes_of(entry.getChain());
      break;
    }
  }
  REQUIRE(stubs.size() == 4);
  std::vector<eventstore::Digest> leaves;
  for (const auto& [key, digest] : stubs) leaves.push_back(digest);
  const auto root = eventstore::merkle_root(leaves);
  CHECK(bytes_of(receipt.getMerkleRoot()) == std::string(root.begin(), root.end()));

  // The stored report answers the same receipt.
  auto again = client.call([&](auto r) { r.setErasureReport(purged.getSeq()); });
  REQUIRE(again.get().getErasure().hasReceipt());
  CHECK(bytes_of(again.get().getErasure().getReceipt().getMerkleRoot()) == bytes_of(receipt.getMerkleRoot()));
  CHECK(again.get().getErasure().getReceipt().getEntriesRedacted() == 4);

  // stats names the chain head: the chain of the last entry, the purge's.
  auto stats = client.call([](auto r) { r.setStats(); });
  REQUIRE(stats.get().isStats());
  CHECK(stats.get().getStats().getNextSeq() == purged.getSeq() + 1);
  CHECK(purge_chain.size() == 32);
  CHECK(bytes_of(stats.get().getStats().getChainHead()) == purge_chain);
  CHECK(server.stop() == 0);
}

