#include "tools/audit/purge_proof.h"

#include <map>
#include <set>
#include <variant>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "domain/events.h"
#include "eventstore/event_log.h"
#include "projections/queries.h"
#include "projections/verify.h"
#include "tools/common/data_dir.h"
#include "tools/common/log_json.h"

namespace ledger::tools {
namespace {

constexpr auto kCreated = static_cast<std::uint16_t>(domain::EventKind::kCreated);
constexpr auto kDeleted = static_cast<std::uint16_t>(domain::EventKind::kDeleted);
constexpr auto kUndeleted = static_cast<std::uint16_t>(domain::EventKind::kUndeleted);
constexpr auto kPurged = static_cast<std::uint16_t>(domain::EventKind::kPurged);

EntryFacts facts_of(const eventstore::Envelope& e) {
  return {e.seq, e.at_us, e.actor, e.customer, e.kind, e.digest, e.chain, e.redacted_by};
}

std::string join(const std::set<std::uint64_t>& ids) {
  std::string out;
  for (auto id : ids) out += (out.empty() ? "" : ", ") + std::to_string(id);
  return out.empty() ? "none" : out;
}

}  // namespace

std::vector<EntryFacts> read_export(std::istream& in) {
  std::vector<EntryFacts> out;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    try {
      const auto object = boost::json::parse(line).as_object();
      EntryFacts e;
      e.seq = boost::json::value_to<std::uint64_t>(object.at("seq"));
      e.at_us = boost::json::value_to<std::int64_t>(object.at("at"));
      e.actor = boost::json::value_to<std::string>(object.at("actor"));
      e.customer = boost::json::value_to<std::uint64_t>(object.at("customer"));
      e.kind = boost::json::value_to<std::uint16_t>(object.at("kind"));
      e.redacted_by = boost::json::value_to<std::uint64_t>(object.at("redacted_by"));
      if (!digest_from_hex(object.at("digest").as_string(), e.digest) ||
          !digest_from_hex(object.at("chain").as_string(), e.chain)) {
        throw ToolError("digest or chain is not 64 hex digits");
      }
      if (!out.empty() && e.seq != out.back().seq + 1) {
        throw ToolError(fmt::format("seq {} follows seq {}: the export is not one dense range", e.seq, out.back().seq));
      }
      out.push_back(std::move(e));
    } catch (const std::exception& error) {
      throw ToolError(fmt::format("export line {}: {}", number, error.what()));
    }
  }
  if (out.empty()) throw ToolError("the export holds no entries");
  return out;
}

PurgeProof prove_purge(const eventstore::Reader& reader, const std::vector<EntryFacts>& exported,
                       std::optional<std::uint64_t> purge_seq, const projections::VerifyOptions& verify) {
  PurgeProof proof;
  auto differ = [&](std::string what) { proof.differences.push_back(std::move(what)); };
  const auto export_last = exported.back().seq;

  auto verified = projections::verify_ledger(reader, verify);
  if (verified.ok) {
    proof.findings.push_back(verified.digests_checked
                                 ? fmt::format("the log verifies: {} entries, chain, digests and receipts", verified.entries)
                                 : fmt::format("the log verifies: {} entries, chain and receipts (digests: not checkable "
                                               "through the server; run verify with --data)",
                                               verified.entries));
  } else {
    differ(fmt::format("the log does not verify at seq {}: {}", verified.first_bad_seq, verified.problem));
  }

  // The log now, and who was deleted at each purge: derived from the kinds, which stubs keep and
  // the chain protects, not from the receipts under test.
  std::map<std::uint64_t, EntryFacts> current;
  std::map<std::uint64_t, std::set<std::uint64_t>> deleted_at;  // purge seq -> customer ids
  std::map<std::uint64_t, domain::CustomersPurged> receipts;
  std::map<std::uint64_t, bool> is_deleted;
  eventstore::scan_entries(reader, 1, [&](const eventstore::Envelope& e) {
    current.emplace(e.seq, facts_of(e));
    if (e.kind == kCreated || e.kind == kUndeleted) is_deleted[e.customer] = false;
    if (e.kind == kDeleted) is_deleted[e.customer] = true;
    if (e.kind == kPurged && !e.redacted()) {
      auto& set = deleted_at[e.seq];
      for (auto it = is_deleted.begin(); it != is_deleted.end();) {
        if (it->second) {
          set.insert(it->first);
          it = is_deleted.erase(it);
        } else {
          ++it;
        }
      }
      auto event = domain::decode_event(e.payload);
      if (event && std::holds_alternative<domain::CustomersPurged>(*event)) {
        receipts.emplace(e.seq, std::get<domain::CustomersPurged>(*event));
      } else {
        differ(fmt::format("purge {}: its receipt cannot be read", e.seq));
      }
    }
    return true;
  });

  std::set<std::uint64_t> proven;
  for (const auto& [seq, ids] : deleted_at) {
    if (purge_seq ? seq == *purge_seq : seq > export_last) proven.insert(seq);
  }
  if (purge_seq && !proven.contains(*purge_seq)) differ(fmt::format("seq {} is not a purge", *purge_seq));
  if (!purge_seq && proven.empty()) differ(fmt::format("no purge follows the export (its last entry is seq {})", export_last));
  if (purge_seq && *purge_seq <= export_last) {
    differ(fmt::format("purge {} is inside the export (last seq {}); export before the purge", *purge_seq, export_last));
  }

  // Every exported entry: unchanged, or redacted by a proven purge of a customer deleted then.
  std::uint64_t unchanged = 0;
  std::map<std::uint64_t, std::uint64_t> removed;  // purge -> exported entries it redacted
  for (const auto& e : exported) {
    auto found = current.find(e.seq);
    if (found == current.end()) {
      differ(fmt::format("entry {} is in the export but no longer in the log", e.seq));
      continue;
    }
    const auto& c = found->second;
    if (c.at_us != e.at_us || c.actor != e.actor || c.customer != e.customer || c.kind != e.kind ||
        c.digest != e.digest || c.chain != e.chain) {
      differ(fmt::format("entry {} changed since the export (time, actor, customer, kind, digest or chain)", e.seq));
      continue;
    }
    if (e.redacted_by != 0) {
      if (c.redacted_by != e.redacted_by) differ(fmt::format("stub {} now names purge {}", e.seq, c.redacted_by));
      else ++unchanged;
      continue;
    }
    if (c.redacted_by == 0) {
      bool should_be_removed = false;
      for (auto p : proven) should_be_removed |= deleted_at[p].contains(e.customer);
      if (should_be_removed) {
        differ(fmt::format("entry {} of customer id {}, deleted at the purge, was not removed", e.seq, e.customer));
      } else {
        ++unchanged;
      }
      continue;
    }
    const auto p = c.redacted_by;
    if (!proven.contains(p)) {
      differ(fmt::format("entry {} was removed by purge {}, which is not under proof", e.seq, p));
    } else if (!deleted_at[p].contains(e.customer)) {
      differ(fmt::format("entry {} (customer id {}) was removed by purge {}, but that customer was not deleted then",
                         e.seq, e.customer, p));
    } else {
      ++removed[p];
    }
  }

  for (auto p : proven) {
    const auto& deleted = deleted_at[p];
    auto receipt_it = receipts.find(p);
    if (receipt_it == receipts.end()) continue;
    const auto& receipt = receipt_it->second;
    const std::set<std::uint64_t> named(receipt.ids.begin(), receipt.ids.end());
    if (named != deleted) {
      differ(fmt::format("purge {}: the receipt names customer ids {} but ids {} were deleted at that moment", p,
                         join(named), join(deleted)));
    }
    // Leaves: digests of the deleted customers' entries before the purge, by customer id then
    // seq, taken from the export where it covers them.
    std::map<std::uint64_t, std::vector<eventstore::Digest>> leaves_by_customer;
    std::map<std::uint64_t, std::uint32_t> counts;
    for (const auto& [seq, c] : current) {
      if (seq >= p) break;
      if (!deleted.contains(c.customer)) continue;
      const bool in_export = seq >= exported.front().seq && seq <= export_last;
      const auto& digest = in_export ? exported[seq - exported.front().seq].digest : c.digest;
      leaves_by_customer[c.customer].push_back(digest);
      ++counts[c.customer];
    }
    std::vector<eventstore::Digest> leaves;
    for (const auto& [id, digests] : leaves_by_customer) leaves.insert(leaves.end(), digests.begin(), digests.end());
    for (std::size_t i = 0; i < receipt.ids.size(); ++i) {
      const auto claimed = i < receipt.entries_redacted.size() ? receipt.entries_redacted[i] : 0;
      if (claimed != counts[receipt.ids[i]]) {
        differ(fmt::format("purge {}: the receipt counts {} entries of customer id {}, the log holds {}", p, claimed,
                           receipt.ids[i], counts[receipt.ids[i]]));
      }
    }
    const auto root = eventstore::merkle_root(leaves);
    if (root != receipt.merkle_root) {
      differ(fmt::format("purge {}: the Merkle root of the deleted customers' digests is {}, the receipt says {}", p,
                         eventstore::to_hex(root), eventstore::to_hex(receipt.merkle_root)));
    } else {
      proof.findings.push_back(fmt::format(
          "purge {} at {} by {}: removed {} entries ({} of them exported) of the {} customers deleted at that moment "
          "(ids {}); their digests give the receipt's Merkle root {}",
          p, format_time(current[p].at_us), current[p].actor, leaves.size(), removed[p], deleted.size(), join(deleted),
          eventstore::to_hex(root)));
    }
  }
  proof.findings.push_back(fmt::format("{} other exported entries (seq {} to {}) are unchanged", unchanged,
                                       exported.front().seq, export_last));
  proof.ok = proof.differences.empty();
  return proof;
}

}  // namespace ledger::tools
