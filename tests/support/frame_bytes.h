// The bytes of frames as they go over the wire, for tests that write them raw (split, cut short,
// lying about sizes). Pure functions; for tests only.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include <capnp/message.h>
#include <capnp/serialize.h>

namespace ledger::testing {

// `message` framed as Cap'n Proto's stream format: the segment table, then the segments.
inline std::vector<std::uint8_t> bytes_of(capnp::MessageBuilder& message) {
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return {bytes.begin(), bytes.end()};
}

// Each value as four little-endian bytes: a hand-written segment table.
inline std::vector<std::uint8_t> u32s(std::initializer_list<std::uint32_t> values) {
  std::vector<std::uint8_t> out;
  for (auto v : values) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  return out;
}

}  // namespace ledger::testing
