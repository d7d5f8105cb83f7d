// An independent look at a data directory, sharing no code with the erasure pass: every SST
// file decoded with RocksDB's SstFileReader (requiring that the file holds no entry its iterator
// hides, so every value is seen), every other file read raw, and every marker of the form
// written by marked_ledger.h collected. Does not depend on Catch.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table_properties.h>

namespace ledger::testing {

struct DirectoryMarkers {
  std::set<std::string> markers;
  std::size_t sst_files = 0;
  std::size_t other_files = 0;
  std::size_t compressed_sst_files = 0;
};

inline void collect_markers(std::string_view bytes, std::set<std::string>& out) {
  const auto digits = [](std::string_view s) {
    for (char c : s) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  };
  for (auto pos = bytes.find("zqm-"); pos != std::string_view::npos; pos = bytes.find("zqm-", pos + 1)) {
    auto token = bytes.substr(pos, 13);  // zqm-f-iiiii-v
    if (token.size() == 13 && token[5] == '-' && token[11] == '-' && digits(token.substr(6, 5)) &&
        digits(token.substr(12, 1))) {
      out.emplace(token);
    }
  }
  for (auto pos = bytes.find("+998 "); pos != std::string_view::npos; pos = bytes.find("+998 ", pos + 1)) {
    auto token = bytes.substr(pos, 12);  // +998 iiiii v
    if (token.size() == 12 && token[10] == ' ' && digits(token.substr(5, 5)) && digits(token.substr(11, 1))) {
      out.emplace(token);
    }
  }
}

inline DirectoryMarkers scan_directory(const std::filesystem::path& dir) {
  DirectoryMarkers result;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    if (entry.path().extension() == ".sst") {
      rocksdb::Options options;
      rocksdb::SstFileReader reader(options);
      auto status = reader.Open(entry.path().string());
      if (!status.ok()) throw std::runtime_error("cannot open " + entry.path().string() + ": " + status.ToString());
      std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(rocksdb::ReadOptions()));
      std::uint64_t visible = 0;
      for (it->SeekToFirst(); it->Valid(); it->Next(), ++visible) {
        collect_markers(std::string_view(it->key().data(), it->key().size()), result.markers);
        collect_markers(std::string_view(it->value().data(), it->value().size()), result.markers);
      }
      const auto props = reader.GetTableProperties();
      if (props->num_entries != visible + props->num_deletions) {
        throw std::runtime_error(entry.path().string() + " holds entries its iterator hides");
      }
      if (props->compression_name != "NoCompression") ++result.compressed_sst_files;
      ++result.sst_files;
    } else {
      ++result.other_files;
    }
    // Every file raw as well (SSTs too: blocks that did not compress are stored as they are).
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    collect_markers(bytes, result.markers);
  }
  return result;
}

}  // namespace ledger::testing
