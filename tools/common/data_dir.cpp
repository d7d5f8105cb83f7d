#include "tools/common/data_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <system_error>

namespace ledger::tools {
namespace {

void require_data_dir(const std::filesystem::path& dir) {
  if (!std::filesystem::exists(dir / "CURRENT")) {
    throw ToolError(dir.string() + " is not a ledger data directory (no CURRENT file)");
  }
}

std::string running_message(const std::filesystem::path& dir) {
  return "ledgerd is running on " + dir.string() + "; use --server";
}

// A read-only open does not take RocksDB's lock, so ask whether another process holds it (RocksDB
// locks the LOCK file with fcntl).
bool locked_by_another_process(const std::filesystem::path& dir) {
  const int fd = ::open((dir / "LOCK").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // no LOCK file: no process has opened the directory read-write
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  const bool locked = ::fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
  ::close(fd);
  return locked;
}

}  // namespace

AuditView::AuditView(const std::filesystem::path& dir) {
  require_data_dir(dir);
  std::string pattern = (std::filesystem::temp_directory_path() / "ledger-audit-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw ToolError("cannot create a scratch directory: " + std::generic_category().message(errno));
  scratch_ = pattern;
  eventstore::OpenOptions options;
  options.create_if_missing = false;
  options.secondary_path = scratch_;
  try {
    database_ = eventstore::Database::open(dir, options);
  } catch (const eventstore::StorageError& error) {
    std::error_code ignored;
    std::filesystem::remove_all(scratch_, ignored);
    throw ToolError(error.what());
  }
}

AuditView::~AuditView() {
  database_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(scratch_, ignored);
}

std::unique_ptr<eventstore::Database> open_for_reading(const std::filesystem::path& dir) {
  require_data_dir(dir);
  if (locked_by_another_process(dir)) throw ToolError(running_message(dir));
  eventstore::OpenOptions options;
  options.create_if_missing = false;
  options.read_only = true;
  try {
    return eventstore::Database::open(dir, options);
  } catch (const eventstore::StorageError& error) {
    throw ToolError(error.what());
  }
}

std::unique_ptr<eventstore::Database> open_for_admin(const std::filesystem::path& dir, bool create) {
  if (!create) require_data_dir(dir);
  eventstore::OpenOptions options;
  options.create_if_missing = create;
  try {
    return eventstore::Database::open(dir, options);
  } catch (const eventstore::StorageError& error) {
    // Database::open reports RocksDB's LOCK failure this way.
    if (std::string(error.what()).find("in use by another process") != std::string::npos) {
      throw ToolError(running_message(dir));
    }
    throw ToolError(error.what());
  }
}

}  // namespace ledger::tools
