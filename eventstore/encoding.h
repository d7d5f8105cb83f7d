// Key and integer encodings shared by every layer that writes RocksDB keys.
// Integers are big-endian so that bytewise key order is numeric order. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ledger::eventstore {

// Writes `v` big-endian into out[0..8).
inline void store_u64(char* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
}
// Writes `v` big-endian into out[0..2).
inline void store_u16(char* out, std::uint16_t v) {
  out[0] = static_cast<char>(v >> 8);
  out[1] = static_cast<char>(v & 0xff);
}
inline void put_u64(std::string& out, std::uint64_t v) {
  char bytes[8];
  store_u64(bytes, v);
  out.append(bytes, sizeof bytes);
}
inline void put_u16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}
inline std::string u64_key(std::uint64_t v) {
  std::string s;
  s.reserve(8);
  put_u64(s, v);
  return s;
}
inline std::string u64_pair_key(std::uint64_t a, std::uint64_t b) {
  std::string s;
  s.reserve(16);
  put_u64(s, a);
  put_u64(s, b);
  return s;
}
// Reads 8 big-endian bytes at `offset`; the caller checks the size first.
inline std::uint64_t get_u64(std::string_view s, std::size_t offset = 0) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[offset + i]);
  return v;
}
inline std::uint16_t get_u16(std::string_view s, std::size_t offset = 0) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(s[offset]) << 8) |
                                    static_cast<unsigned char>(s[offset + 1]));
}

}  // namespace ledger::eventstore
