// ledger::client::FrameReader: cuts the bytes a server sends into whole Cap'n Proto frames
// (standard stream framing: u32 segment count - 1, u32 words per segment, padding, segments).
// The segment table is checked against the limits before the body is allocated; the body is
// copied into a word-aligned array, so the message can be read in place.
//
// Not thread-safe: one reader per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <capnp/message.h>
#include <kj/array.h>

namespace ledger::client {

struct FrameLimits {
  std::size_t max_bytes = 16 << 20;  // whole frame, table included
  std::uint32_t max_segments = 512;
};

class FrameReader {
 public:
  enum class Result { kGood, kBad, kNeedMore };

  explicit FrameReader(FrameLimits limits = {}) : limits_(limits) {}

  // Consumes bytes of [data, data + size) up to the end of one frame and sets `consumed`.
  // kGood: a frame is complete (take_frame()); kNeedMore: every byte was used; kBad: the
  // table breaks the limits, and the reader stays bad (error() says why).
  Result parse(const std::uint8_t* data, std::size_t size, std::size_t& consumed);
  // The complete frame as words, after kGood; resets the reader for the next frame.
  kj::Array<capnp::word> take_frame();
  const std::string& error() const { return error_; }

  // Whether [data, data + size), read from the start of a frame, holds that whole frame, or a
  // segment table parse() refuses under `limits` (so that parsing it reports why rather than
  // waiting for bytes that will not come). Reads the table only; copies nothing.
  static bool holds_frame(const std::uint8_t* data, std::size_t size, const FrameLimits& limits = {});

 private:
  FrameLimits limits_;
  std::vector<std::uint8_t> header_;
  std::size_t header_bytes_ = 0;
  kj::Array<capnp::word> frame_;
  std::size_t filled_ = 0;
  std::string error_;
};

// Reader limits for a frame of `words` words: a traversal limit proportional to its size and a
// nesting limit of 16, so that no frame makes the reader do more work than its bytes justify.
capnp::ReaderOptions frame_reader_options(std::size_t words);

}  // namespace ledger::client
