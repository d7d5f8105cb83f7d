// An independent look at a data directory, sharing no code with the erasure pass: every SST
// file decoded with RocksDB's SstFileReader (requiring that the file holds no entry its iterator
// hides, so every value is seen), every other file read raw, and every marker of the form
// written by marked_ledger.h collected. Those are plaintext, which the ledger never writes to a
// file: they must never be found. What shows whose data is still there is the header of every
// value sealed for a customer (docs/storage.md, "Sealed values"), computed here from that
// description with OpenSSL. Does not depend on Catch.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include <openssl/sha.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table_properties.h>

namespace ledger::testing {

struct DirectoryMarkers {
  std::set<std::string> markers;          // plaintext markers found
  std::set<std::uint64_t> sealed_for;     // customer ids with a sealed value found
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

// 0xE1 ‖ the first 8 bytes of SHA-256("ledger.sealed" ‖ u64 big-endian id).
inline std::string sealed_header_of(std::uint64_t id) {
  std::string input = "ledger.sealed";
  for (int shift = 56; shift >= 0; shift -= 8) input.push_back(static_cast<char>((id >> shift) & 0xff));
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return std::string(1, '\xE1') + std::string(reinterpret_cast<const char*>(digest), 8);
}

using SealedHeaders = std::unordered_map<std::string, std::uint64_t>;

inline void collect_sealed(std::string_view bytes, const SealedHeaders& headers, std::set<std::uint64_t>& out) {
  if (headers.empty()) return;
  for (auto pos = bytes.find('\xE1'); pos != std::string_view::npos && pos + 9 <= bytes.size();
       pos = bytes.find('\xE1', pos + 1)) {
    if (auto found = headers.find(std::string(bytes.substr(pos, 9))); found != headers.end()) out.insert(found->second);
  }
}

// Collects plaintext markers, and the sealed headers of customer ids 1 to `customers`.
inline DirectoryMarkers scan_directory(const std::filesystem::path& dir, std::uint64_t customers = 0) {
  DirectoryMarkers result;
  SealedHeaders headers;
  for (std::uint64_t id = 1; id <= customers; ++id) headers.emplace(sealed_header_of(id), id);
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
        collect_sealed(std::string_view(it->value().data(), it->value().size()), headers, result.sealed_for);
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
    collect_sealed(bytes, headers, result.sealed_for);
  }
  return result;
}

}  // namespace ledger::testing
