#include "eventstore/erasure_report.h"

#include <boost/json.hpp>

#include "eventstore/encoding.h"
#include "eventstore/envelope.h"

namespace ledger::eventstore {
namespace {

namespace json = boost::json;

constexpr std::string_view kReportPrefix = "erasure.report.";

std::string report_key(std::uint64_t purge_seq) {
  std::string key(kReportPrefix);
  put_u64(key, purge_seq);
  return key;
}

template <typename T>
json::array array_of(const std::vector<T>& items) {
  json::array out;
  out.reserve(items.size());
  for (const auto& item : items) out.emplace_back(item);
  return out;
}

json::value unreadable_json(const std::optional<KeyShred>& keys) {
  if (!keys) return nullptr;
  return json::object{
      {"verified", keys->verified()},
      {"at_us", keys->finished_at_us},
      {"ms", static_cast<std::uint64_t>(keys->seconds * 1000)},
      {"customers", keys->customers},
      {"keys_deleted", keys->keys_deleted},
      {"keys_probed", keys->keys_probed},
      {"files_scanned", keys->files_scanned},
      {"bytes_scanned", keys->bytes_scanned},
      {"residue_files", array_of(keys->residue_files)},
  };
}

// Reading: a field that is absent or of another type keeps its default, so that a report stored
// by any earlier version reads.
template <typename T>
void read_number(const json::object& o, std::string_view name, T& out) {
  const auto* v = o.if_contains(name);
  if (!v || !v->is_number()) return;
  boost::system::error_code ec;
  const auto n = v->to_number<T>(ec);
  if (!ec) out = n;
}

void read_bool(const json::object& o, std::string_view name, bool& out) {
  const auto* v = o.if_contains(name);
  if (v && v->is_bool()) out = v->get_bool();
}

void read_string(const json::object& o, std::string_view name, std::string& out) {
  const auto* v = o.if_contains(name);
  if (v && v->is_string()) out = std::string(v->get_string());
}

void read_strings(const json::object& o, std::string_view name, std::vector<std::string>& out) {
  const auto* v = o.if_contains(name);
  if (!v || !v->is_array()) return;
  for (const auto& item : v->get_array()) {
    if (item.is_string()) out.emplace_back(item.get_string());
  }
}

void read_numbers(const json::object& o, std::string_view name, std::vector<std::uint64_t>& out) {
  const auto* v = o.if_contains(name);
  if (!v || !v->is_array()) return;
  for (const auto& item : v->get_array()) {
    boost::system::error_code ec;
    const auto n = item.is_number() ? item.to_number<std::uint64_t>(ec) : 0;
    if (item.is_number() && !ec) out.push_back(n);
  }
}

std::optional<KeyShred> read_unreadable(const json::object& o) {
  const auto* v = o.if_contains("unreadable");
  if (!v || !v->is_object()) return std::nullopt;
  const auto& u = v->get_object();
  KeyShred keys;
  read_number(u, "at_us", keys.finished_at_us);
  std::uint64_t ms = 0;
  read_number(u, "ms", ms);
  keys.seconds = static_cast<double>(ms) / 1000;
  read_number(u, "customers", keys.customers);
  read_number(u, "keys_deleted", keys.keys_deleted);
  read_number(u, "keys_probed", keys.keys_probed);
  read_number(u, "files_scanned", keys.files_scanned);
  read_number(u, "bytes_scanned", keys.bytes_scanned);
  read_strings(u, "residue_files", keys.residue_files);
  return keys;
}

}  // namespace

std::string_view state_name(ErasureState state) {
  switch (state) {
    case ErasureState::kPending: return "pending";
    case ErasureState::kVerified: return "verified";
    case ErasureState::kNotVerified: return "not verified";
    case ErasureState::kStopped: return "stopped";
  }
  return "unknown";
}

std::string_view check_name(ErasureCheck check) {
  switch (check) {
    case ErasureCheck::kProbed: return "probed";
    case ErasureCheck::kPartlyProbed: return "partly probed";
    case ErasureCheck::kNothingToProbe: return "nothing to probe";
  }
  return "unknown";
}

ErasureState ErasureReport::findings() const {
  const bool clean = error.empty() && quiescent && residue == 0 && stray_files.empty() && unverifiable_files.empty() &&
                     unredacted_entries.empty() && (!keys || keys->verified());
  return clean ? ErasureState::kVerified : ErasureState::kNotVerified;
}

ErasureCheck ErasureReport::check() const {
  if (probes == 0) return ErasureCheck::kNothingToProbe;
  if (entries_probed < purged_entries) return ErasureCheck::kPartlyProbed;
  return ErasureCheck::kProbed;
}

std::string to_json(const ErasureReport& r) {
  json::array residue_files;
  for (const auto& f : r.residue_files) residue_files.emplace_back(json::object{{"file", f.file}, {"hits", f.hits}});
  // Insertion order is the order the fields are written in: the order reports always had.
  const json::object o{
      {"purge_seqs", array_of(r.purge_seqs)},
      {"verified", r.verified()},
      {"unreadable", unreadable_json(r.keys)},
      {"started_at_us", r.started_at_us},
      {"duration_ms", r.duration_ms},
      {"probe_filter_ms", r.probe_filter_ms},
      {"flush_ms", r.flush_ms},
      {"compaction_ms", r.compaction_ms},
      {"compaction_ranges", r.compaction_ranges},
      {"compacted_files", r.compacted_files},
      {"compacted_file_bytes", r.compacted_file_bytes},
      {"live_sst_bytes", r.live_sst_bytes},
      {"verify_ms", r.verify_ms},
      {"check", check_name(r.check())},
      {"probes", r.probes},
      {"probes_shared", r.probes_shared},
      {"purged_entries", r.purged_entries},
      {"entries_probed", r.entries_probed},
      {"files_scanned", r.files_scanned},
      {"bytes_scanned", r.bytes_scanned},
      {"sst_files", r.sst_files},
      {"sst_entries", r.sst_entries},
      {"versions_scanned", r.versions_scanned},
      {"residue", r.residue},
      {"residue_files", std::move(residue_files)},
      {"stray_files", array_of(r.stray_files)},
      {"unverifiable_files", array_of(r.unverifiable_files)},
      {"unredacted_entries", array_of(r.unredacted_entries)},
      {"quiescent", r.quiescent},
      {"bytes_before", r.bytes_before},
      {"bytes_after", r.bytes_after},
      {"bytes_reclaimed", r.bytes_reclaimed()},
      {"stopped", r.state == ErasureState::kStopped},
      {"error", r.error},
  };
  return json::serialize(o);
}

std::optional<ErasureReport> parse_erasure_report(std::string_view text) {
  boost::system::error_code ec;
  const auto parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  const auto& o = parsed.get_object();
  ErasureReport r;
  bool verified = false, stopped = false;
  read_bool(o, "verified", verified);
  read_bool(o, "stopped", stopped);
  r.state = stopped ? ErasureState::kStopped : verified ? ErasureState::kVerified : ErasureState::kNotVerified;
  read_numbers(o, "purge_seqs", r.purge_seqs);
  r.keys = read_unreadable(o);
  read_number(o, "started_at_us", r.started_at_us);
  read_number(o, "duration_ms", r.duration_ms);
  read_number(o, "probe_filter_ms", r.probe_filter_ms);
  read_number(o, "flush_ms", r.flush_ms);
  read_number(o, "compaction_ms", r.compaction_ms);
  read_number(o, "compaction_ranges", r.compaction_ranges);
  read_number(o, "compacted_files", r.compacted_files);
  read_number(o, "compacted_file_bytes", r.compacted_file_bytes);
  read_number(o, "live_sst_bytes", r.live_sst_bytes);
  read_number(o, "verify_ms", r.verify_ms);
  read_number(o, "probes", r.probes);
  read_number(o, "probes_shared", r.probes_shared);
  read_number(o, "purged_entries", r.purged_entries);
  read_number(o, "entries_probed", r.entries_probed);
  read_number(o, "files_scanned", r.files_scanned);
  read_number(o, "bytes_scanned", r.bytes_scanned);
  read_number(o, "sst_files", r.sst_files);
  read_number(o, "sst_entries", r.sst_entries);
  read_number(o, "versions_scanned", r.versions_scanned);
  read_number(o, "residue", r.residue);
  if (const auto* files = o.if_contains("residue_files"); files && files->is_array()) {
    for (const auto& f : files->get_array()) {
      if (!f.is_object()) continue;
      ResidueFile file;
      read_string(f.get_object(), "file", file.file);
      read_number(f.get_object(), "hits", file.hits);
      r.residue_files.push_back(std::move(file));
    }
  }
  read_strings(o, "stray_files", r.stray_files);
  read_strings(o, "unverifiable_files", r.unverifiable_files);
  read_numbers(o, "unredacted_entries", r.unredacted_entries);
  read_bool(o, "quiescent", r.quiescent);
  read_number(o, "bytes_before", r.bytes_before);
  read_number(o, "bytes_after", r.bytes_after);
  read_string(o, "error", r.error);
  return r;
}

void put_erasure_report(Database& database, rocksdb::WriteBatch& batch, const ErasureReport& report) {
  const auto json = to_json(report);
  for (auto seq : report.purge_seqs) {
    Database::check(batch.Put(database.family(Family::kMeta), report_key(seq), json), "adding to batch");
  }
}

std::optional<ErasureReport> erasure_report(const Reader& reader, std::uint64_t purge_seq) {
  auto text = reader.get(Family::kMeta, report_key(purge_seq));
  if (!text) return std::nullopt;
  auto report = parse_erasure_report(*text);
  if (!report) throw CorruptionError("the erasure report of purge " + std::to_string(purge_seq) + " is not a JSON object");
  return report;
}

}  // namespace ledger::eventstore
