#include "eventstore/residue_scan.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/utilities/debug.h>

namespace ledger::eventstore {
namespace {

constexpr std::size_t kReadChunk = 4 << 20;
constexpr std::size_t kReadahead = 2 << 20;

std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

}  // namespace

void ResidueScan::search(std::string_view bytes, const std::string& where, std::size_t already_seen) {
  report_.bytes_scanned += bytes.size() - already_seen;
  std::uint64_t hits = 0;
  // The probe's index is never reported: it would point at personal data.
  matcher_.scan(bytes, [&](std::size_t index, std::size_t pos) {
    if (pos + matcher_.probe(index).size() > already_seen) ++hits;
    return true;
  });
  if (hits > 0) add_residue(where, hits);
}

void ResidueScan::add_residue(const std::string& where, std::uint64_t hits) {
  report_.residue += hits;
  for (auto& r : report_.residue_files) {
    if (r.file == where) {
      r.hits += hits;
      return;
    }
  }
  report_.residue_files.push_back({where, hits});
}

void ResidueScan::raw_file(const DirFile& file, std::uint64_t from) {
  const int fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return;  // deleted since the listing
    throw StorageError("opening " + file.path.string() + " for the erasure scan: " + std::strerror(errno));
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  if (from > 0 && ::lseek(fd, static_cast<off_t>(from), SEEK_SET) < 0) {
    const auto error = std::string(std::strerror(errno));
    ::close(fd);
    throw StorageError("seeking in " + file.path.string() + " for the erasure scan: " + error);
  }
  ++report_.files_scanned;
  // The last longest-probe-minus-one bytes of a chunk are searched again at the front of the
  // next one, so that a probe across the boundary is found; a match lying wholly inside them
  // was counted already.
  const std::size_t overlap = matcher_.longest() > 0 ? matcher_.longest() - 1 : 0;
  buffer_.resize(overlap + kReadChunk);
  std::size_t carried = 0;
  for (;;) {
    const auto got = ::read(fd, buffer_.data() + carried, kReadChunk);
    if (got < 0) {
      if (errno == EINTR) continue;
      const auto error = std::string(std::strerror(errno));
      ::close(fd);
      throw StorageError("reading " + file.path.string() + " for the erasure scan: " + error);
    }
    if (got == 0) break;
    const std::size_t filled = carried + static_cast<std::size_t>(got);
    search({buffer_.data(), filled}, file.name, carried);
    const std::size_t keep = std::min(overlap, filled);
    std::memmove(buffer_.data(), buffer_.data() + filled - keep, keep);
    carried = keep;
  }
  ::close(fd);
}

bool ResidueScan::sst_file(const DirFile& file, std::int64_t& hidden, std::uint64_t& data_end) {
  rocksdb::Options options;
  rocksdb::SstFileReader reader(options);
  if (!reader.Open(file.path.string()).ok()) return false;
  ++report_.sst_files;
  rocksdb::ReadOptions read;
  read.fill_cache = false;
  read.readahead_size = kReadahead;
  std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(read));
  std::uint64_t visible = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    search(view(it->key()), file.name);
    search(view(it->value()), file.name);
    ++visible;
  }
  if (!it->status().ok()) return false;
  report_.sst_entries += visible;
  const auto props = reader.GetTableProperties();
  hidden = props ? static_cast<std::int64_t>(props->num_entries) - static_cast<std::int64_t>(props->num_deletions) -
                       static_cast<std::int64_t>(visible)
                 : 0;
  data_end = props ? props->data_size : 0;
  return true;
}

void ResidueScan::all_versions(Database& database, rocksdb::ColumnFamilyHandle* family, const std::string& where) {
  constexpr std::size_t kMaxVersions = 50'000;
  std::string begin;
  for (;;) {
    std::vector<rocksdb::KeyVersion> versions;
    Database::check(rocksdb::GetAllKeyVersions(&database.db(), family, begin, rocksdb::Slice(), kMaxVersions, &versions),
                    "reading every key version");
    const bool more = versions.size() >= kMaxVersions;
    std::string next;
    if (more) {
      next = versions.back().user_key;
      // The last key's versions may continue in the next slice: read them all there.
      if (next != versions.front().user_key) {
        while (!versions.empty() && versions.back().user_key == next) versions.pop_back();
      } else {
        next.push_back('\0');
      }
    }
    for (const auto& v : versions) {
      search(v.user_key, where);
      search(v.value, where);
      ++report_.versions_scanned;
    }
    if (!more) return;
    begin = next;
  }
}

}  // namespace ledger::eventstore
