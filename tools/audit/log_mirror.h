// LogMirror: ledger-audit's local copy of a server's log for the --server mode. It subscribes
// from seq 1 and writes every entry it receives, as it is, into a database of the ledger's own
// format in a fresh temporary directory (mode 0700, removed with the object). A purge that
// arrives redacts the copies of its customers' entries, as the server did; entries read after a
// purge arrive as stubs. Once the log is copied, rebuild() builds the projections from it with
// the ledger's replay, and every audit command runs on the copy as it would on a data directory.
//
// The copy holds customers' data while the audit runs; it is not reachable by the ledger's
// erasure. SIGINT, SIGTERM and SIGHUP are taken over while a mirror exists: a thread waits for
// them, removes the directory and ends the process with status 128 + the signal. Only one
// mirror per process. Not thread-safe.
#pragma once

#include <atomic>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <rocksdb/write_batch.h>

#include "eventstore/database.h"
#include "eventstore/event_log.h"
#include "tools/common/server_session.h"

namespace ledger::tools {

class LogMirror {
 public:
  // Opens a second connection to `server` for the subscription. Throws AccessError when it
  // cannot connect or the token may not subscribe, ToolError when the copy cannot be created.
  LogMirror(const ClientOptions& server, const std::string& token, std::string role_needed);
  ~LogMirror();
  LogMirror(const LogMirror&) = delete;
  LogMirror& operator=(const LogMirror&) = delete;

  // Copies entries until every entry up to `last_seq` is in, and every purge that a received
  // stub names: the copy is then a whole prefix of the log, never half a purge. Throws
  // ToolError when the server ends the subscription, or sends entries out of order.
  void follow_to(std::uint64_t last_seq);
  // The seq after the last entry copied.
  std::uint64_t next_seq() const { return head_.next_seq; }

  // Builds every projection of the copy from its log (projections::rebuild_projections).
  void rebuild();

  eventstore::Database& database() { return *database_; }

 private:
  void write_pending();
  void apply_purge(const eventstore::Envelope& purge);

  void watch_signals();

  std::filesystem::path dir_;
  sigset_t blocked_{};
  sigset_t old_mask_{};
  std::atomic<bool> stopping_{false};
  std::thread watcher_;
  std::unique_ptr<eventstore::Database> database_;
  ServerSession session_;
  std::uint64_t subscription_ = 0;
  eventstore::LogHead head_;
  rocksdb::WriteBatch pending_;
  std::uint64_t pending_entries_ = 0;
};

}  // namespace ledger::tools
