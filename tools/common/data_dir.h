// Opening a data directory for the command-line tools: as a RocksDB secondary instance for
// audits (works while ledgerd writes to the directory), or read-only or read-write for
// administration (only while ledgerd is stopped). Not thread-safe; one per process.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>

#include "eventstore/database.h"

namespace ledger::tools {

// A failure to report to the user as one line, with exit status 2.
class ToolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A secondary instance of `dir` with a scratch directory for its info logs, removed on
// destruction. Reads show the directory as of open (or the last catch_up()).
class AuditView {
 public:
  // Throws ToolError when `dir` is not a ledger data directory or cannot be opened.
  explicit AuditView(const std::filesystem::path& dir);
  ~AuditView();
  AuditView(const AuditView&) = delete;
  AuditView& operator=(const AuditView&) = delete;
  eventstore::Database& database() { return *database_; }

 private:
  std::filesystem::path scratch_;
  std::unique_ptr<eventstore::Database> database_;
};

// Opens `dir` read-only (RocksDB's OpenForReadOnly): for the commands that only read. Writes
// nothing into the directory, not even the new WAL file a read-write open creates and leaves
// behind. Throws ToolError("ledgerd is running on DIR; use --server") while another process
// holds the directory's lock, and when `dir` is not a ledger data directory.
std::unique_ptr<eventstore::Database> open_for_reading(const std::filesystem::path& dir);

// Opens `dir` read-write. When ledgerd (or any process) holds the directory's lock, throws
// ToolError("ledgerd is running on DIR; use --server"). Creates the directory only when
// `create` is true; otherwise a missing directory is a ToolError.
std::unique_ptr<eventstore::Database> open_for_admin(const std::filesystem::path& dir, bool create = false);

}  // namespace ledger::tools
