// FrameParser: cuts a byte stream into Cap'n Proto messages in the standard stream framing
// (u32 segment count - 1, u32 size in words per segment, padding to 8 bytes, the segments),
// checking the segment table before anything is allocated for the body. Received bytes are
// copied into a word-aligned buffer, so the message can be read in place.
//
// Not thread-safe: one parser per connection, used by one strand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <capnp/message.h>
#include <kj/array.h>

namespace ledger::server {

struct FrameLimits {
  // Whole frame, segment table included.
  std::size_t max_bytes = 1 << 20;
  std::uint32_t max_segments = 512;
};

class FrameParser {
 public:
  enum class Result { kGood, kBad, kNeedMore };
  // Why a frame was bad: kTooLarge for a table claiming more than the limits allow.
  enum class Problem { kNone, kTooLarge, kMalformed };

  explicit FrameParser(FrameLimits limits = {}) : limits_(limits) {}

  // Consumes bytes from [data, data + size) up to the end of one frame. Returns kGood when a
  // frame is complete (take it with take_frame()), kNeedMore when every byte was consumed
  // without completing one, kBad when the table breaks the limits (the parser then stays bad;
  // the connection should be closed). `consumed` says how many bytes were used.
  Result parse(const std::uint8_t* data, std::size_t size, std::size_t& consumed);

  // The complete frame (table and segments) as words; valid after parse() returned kGood.
  // Resets the parser for the next frame.
  kj::Array<capnp::word> take_frame();

  // True while part of a frame has arrived: the frame deadline runs.
  bool in_progress() const { return header_.size() > 0 || frame_.size() > 0; }
  Problem problem() const { return problem_; }
  const std::string& error() const { return error_; }

 private:
  Result fail(Problem problem, std::string message);

  FrameLimits limits_;
  std::vector<std::uint8_t> header_;   // the segment table as it arrives
  std::size_t header_bytes_ = 0;        // its full size, once the count is known
  kj::Array<capnp::word> frame_;        // allocated once the table is checked
  std::size_t filled_ = 0;              // bytes of frame_ written
  Problem problem_ = Problem::kNone;
  std::string error_;
};

// Reader limits for a received frame of `words` words: a traversal limit proportional to its
// size and a nesting limit of 16, so that no message can make the reader do more work than
// its bytes justify.
capnp::ReaderOptions frame_reader_options(std::size_t words);

}  // namespace ledger::server
