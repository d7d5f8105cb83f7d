#include "tools/audit/log_mirror.h"

#include <cstdlib>
#include <system_error>
#include <variant>

#include "domain/events.h"
#include "eventstore/key_store.h"
#include "projections/rebuild.h"
#include "tools/common/data_dir.h"
#include "tools/common/progress.h"

namespace ledger::tools {
namespace {

constexpr std::uint64_t kEntriesPerBatch = 1000;
constexpr auto kPurgedKind = static_cast<std::uint16_t>(domain::EventKind::kPurged);

std::filesystem::path make_private_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "ledger-audit-mirror-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw ToolError("cannot create a temporary directory for the log's copy: " + std::generic_category().message(errno));
  return pattern;
}

}  // namespace

LogMirror::LogMirror(const ClientOptions& server, const std::string& token, std::string role_needed)
    : dir_(make_private_dir()), session_([&]() -> ServerSession {
        // The directory exists now: remove it when the connection cannot be made.
        try {
          return ServerSession(server, token, std::move(role_needed));
        } catch (...) {
          std::error_code ignored;
          std::filesystem::remove_all(dir_, ignored);
          throw;
        }
      }()) {
  // Before RocksDB starts its threads, which inherit the mask: only the watcher takes them.
  sigemptyset(&blocked_);
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&blocked_, signal);
  pthread_sigmask(SIG_BLOCK, &blocked_, &old_mask_);
  watcher_ = std::thread([this] { watch_signals(); });
  try {
    eventstore::OpenOptions options;
    options.create_if_missing = true;
    options.block_cache_bytes = 8 << 20;
    database_ = eventstore::Database::open(dir_ / "data", options);
  } catch (const eventstore::StorageError& error) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    stopping_ = true;
    watcher_.join();
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    throw ToolError(std::string("cannot create the log's local copy: ") + error.what());
  }
  subscription_ = session_.send([](protocol::Request::Builder r) { r.initSubscribe().setFromSeq(1); });
}

LogMirror::~LogMirror() {
  database_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
  stopping_ = true;
  watcher_.join();
  // A signal that came after the watcher stopped is delivered now, with the copy gone.
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

void LogMirror::watch_signals() {
  // Wakes every 100 ms to see whether the mirror is going away.
  const timespec slice{0, 100'000'000};
  while (!stopping_) {
    const int signal = sigtimedwait(&blocked_, nullptr, &slice);
    if (signal > 0) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
      std::_Exit(128 + signal);
    }
  }
}

void LogMirror::write_pending() {
  if (pending_entries_ == 0) return;
  eventstore::Database::check(database_->db().Write(rocksdb::WriteOptions(), &pending_), "writing the log's copy");
  pending_.Clear();
  pending_entries_ = 0;
}

void LogMirror::apply_purge(const eventstore::Envelope& purge) {
  // The server redacted its copies of these customers' entries in the purge's own batch.
  write_pending();
  auto event = domain::decode_event(purge.payload);
  if (!event || !std::holds_alternative<domain::CustomersPurged>(*event)) {
    throw ToolError("the server sent purge " + std::to_string(purge.seq) + " with a receipt that cannot be read");
  }
  eventstore::DatabaseReader reader(*database_);
  for (auto id : std::get<domain::CustomersPurged>(*event).ids) eventstore::redact_stream(reader, pending_, id, purge.seq);
  eventstore::append_copied_entry(*database_, pending_, head_, purge);
  ++pending_entries_;
  write_pending();
}

void LogMirror::follow_to(std::uint64_t last_seq) {
  Progress progress("reading the log from the server", last_seq);
  std::uint64_t until = last_seq;
  while (head_.next_seq <= until) {
    auto reply = session_.receive();
    auto response = reply.get();
    if (response.isError()) {
      throw ToolError("the server ended the subscription: " + describe_error(response.getError()));
    }
    if (response.getId() != subscription_ || response.isSubscribed()) continue;
    if (!response.isEntry()) continue;
    auto entry = envelope_from(response.getEntry());
    if (entry.seq != head_.next_seq) {
      throw ToolError("the server sent entry " + std::to_string(entry.seq) + " where " + std::to_string(head_.next_seq) +
                      " was due");
    }
    // A stub of a purge beyond `until`: that purge happened while copying; copy up to it, so that
    // the earlier copies of its customers' entries are redacted too.
    if (entry.redacted() && entry.redacted_by > until) until = entry.redacted_by;
    if (entry.kind == kPurgedKind && !entry.redacted()) {
      apply_purge(entry);
    } else {
      // The copy seals what it stores, as the ledger does: payloads and states under keys of the
      // copy's own (the server's never leave it; digests are not checked against them here).
      std::optional<eventstore::CustomerKeys> keys;
      if (entry.customer != 0 && !entry.redacted()) keys = database_->key_store().for_new_customer(entry.customer);
      eventstore::append_copied_entry(*database_, pending_, head_, entry, keys ? &keys->data : nullptr);
      if (++pending_entries_ >= kEntriesPerBatch) write_pending();
    }
    progress.update(entry.seq);
  }
  write_pending();
}

void LogMirror::rebuild() { projections::rebuild_projections(*database_); }

}  // namespace ledger::tools
