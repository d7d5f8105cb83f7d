#include "server/erasure_wire.h"

namespace ledger::server {
namespace {

using eventstore::ErasureState;

protocol::ErasureState wire_state(ErasureState state) {
  switch (state) {
    case ErasureState::kVerified: return protocol::ErasureState::VERIFIED;
    case ErasureState::kNotVerified: return protocol::ErasureState::NOT_VERIFIED;
    case ErasureState::kPending:
    case ErasureState::kStopped: break;
  }
  return protocol::ErasureState::PENDING;
}

protocol::ErasureCheck wire_check(eventstore::ErasureCheck check) {
  switch (check) {
    case eventstore::ErasureCheck::kProbed: return protocol::ErasureCheck::PROBED;
    case eventstore::ErasureCheck::kPartlyProbed: return protocol::ErasureCheck::PARTLY_PROBED;
    case eventstore::ErasureCheck::kNothingToProbe: break;
  }
  return protocol::ErasureCheck::NOTHING_TO_PROBE;
}

template <typename List, typename T>
void fill(List list, const std::vector<T>& items) {
  for (unsigned i = 0; i < items.size(); ++i) list.set(i, items[i]);
}

void set_unreadable(protocol::KeyDestruction::Builder out, const eventstore::KeyShred& keys) {
  out.setVerified(keys.verified());
  out.setAtUs(keys.finished_at_us);
  out.setMs(static_cast<std::uint64_t>(keys.seconds * 1000));
  out.setCustomers(keys.customers);
  out.setKeysDeleted(keys.keys_deleted);
  out.setKeysProbed(keys.keys_probed);
  out.setFilesScanned(keys.files_scanned);
  out.setBytesScanned(keys.bytes_scanned);
  auto files = out.initResidueFiles(static_cast<unsigned>(keys.residue_files.size()));
  for (unsigned i = 0; i < keys.residue_files.size(); ++i) files.set(i, keys.residue_files[i]);
}

void set_report(protocol::ErasureReport::Builder out, const eventstore::ErasureReport& r) {
  fill(out.initPurgeSeqs(static_cast<unsigned>(r.purge_seqs.size())), r.purge_seqs);
  out.setVerified(r.verified());
  out.setCheck(wire_check(r.check()));
  out.setStartedAtUs(r.started_at_us);
  out.setDurationMs(r.duration_ms);
  out.setProbeFilterMs(r.probe_filter_ms);
  out.setFlushMs(r.flush_ms);
  out.setCompactionMs(r.compaction_ms);
  out.setVerifyMs(r.verify_ms);
  out.setProbes(r.probes);
  out.setProbesShared(r.probes_shared);
  out.setPurgedEntries(r.purged_entries);
  out.setEntriesProbed(r.entries_probed);
  out.setFilesScanned(r.files_scanned);
  out.setBytesScanned(r.bytes_scanned);
  out.setSstFiles(r.sst_files);
  out.setSstEntries(r.sst_entries);
  out.setVersionsScanned(r.versions_scanned);
  out.setResidue(r.residue);
  auto residue = out.initResidueFiles(static_cast<unsigned>(r.residue_files.size()));
  for (unsigned i = 0; i < r.residue_files.size(); ++i) {
    residue[i].setFile(r.residue_files[i].file);
    residue[i].setHits(r.residue_files[i].hits);
  }
  auto stray = out.initStrayFiles(static_cast<unsigned>(r.stray_files.size()));
  for (unsigned i = 0; i < r.stray_files.size(); ++i) stray.set(i, r.stray_files[i]);
  auto unverifiable = out.initUnverifiableFiles(static_cast<unsigned>(r.unverifiable_files.size()));
  for (unsigned i = 0; i < r.unverifiable_files.size(); ++i) unverifiable.set(i, r.unverifiable_files[i]);
  fill(out.initUnredactedEntries(static_cast<unsigned>(r.unredacted_entries.size())), r.unredacted_entries);
  out.setQuiescent(r.quiescent);
  out.setBytesBefore(r.bytes_before);
  out.setBytesAfter(r.bytes_after);
  out.setBytesReclaimed(r.bytes_reclaimed());
  out.setCompactionRanges(r.compaction_ranges);
  out.setCompactedFiles(r.compacted_files);
  out.setCompactedFileBytes(r.compacted_file_bytes);
  out.setLiveSstBytes(r.live_sst_bytes);
  if (r.keys) set_unreadable(out.initUnreadable(), *r.keys);
  out.setError(r.error);
}

}  // namespace

void set_erasure(protocol::Erasure::Builder out, const eventstore::ErasureReport& report) {
  const auto state = wire_state(report.state);
  out.setErasureState(state);
  switch (state) {
    case protocol::ErasureState::VERIFIED: out.setState("done"); break;
    case protocol::ErasureState::NOT_VERIFIED: out.setState("failed"); break;
    default: out.setState("pending"); break;
  }
  if (state == protocol::ErasureState::PENDING) {
    out.setReport("{}");
    return;
  }
  out.setReport(eventstore::to_json(report));
  set_report(out.initErasureReport(), report);
}

void set_receipt(protocol::PurgeReceipt::Builder out, const domain::CustomersPurged& receipt) {
  out.setPurged(receipt.ids.size());
  fill(out.initNumbersFreed(static_cast<unsigned>(receipt.numbers.size())), receipt.numbers);
  std::uint64_t redacted = 0;
  for (auto n : receipt.entries_redacted) redacted += n;
  out.setEntriesRedacted(redacted);
  out.setMerkleRoot(kj::arrayPtr(receipt.merkle_root.data(), receipt.merkle_root.size()));
}

}  // namespace ledger::server
