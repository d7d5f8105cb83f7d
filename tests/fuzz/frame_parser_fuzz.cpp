// Fuzzes FrameParser, which cuts untrusted bytes from a socket into Cap'n Proto frames, and the
// reading of each frame as a Request the way a connection reads it.
//
// Input: one byte of settings (frame limits, how the stream is cut into reads), then the stream.
// Properties: no crash; the frames are the stream's bytes, one after the other; cutting the
// stream into different reads gives the same frames and the same verdict; a bad frame says
// why; a parser that needs more has used every byte it was given.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <capnp/serialize.h>
#include <kj/exception.h>

#include "fuzz/fuzz_check.h"
#include "server/frame_parser.h"
#include "server/protocol.capnp.h"

namespace {

using ledger::server::FrameLimits;
using ledger::server::FrameParser;

constexpr std::size_t kLargeLimitBytes = 64 * 1024;

struct Parsed {
  std::vector<std::vector<std::uint8_t>> frames;
  bool bad = false;
  FrameParser::Problem problem = FrameParser::Problem::kNone;
  bool in_progress = false;
};

// Feeds [data, data + size) in reads of 1, 2, ..., `cycle` bytes, repeating; one read when
// `cycle` is 0.
Parsed parse_stream(const std::uint8_t* data, std::size_t size, const FrameLimits& limits, std::size_t cycle) {
  FrameParser parser(limits);
  Parsed out;
  std::size_t pos = 0;
  std::size_t reads = 0;
  while (pos < size) {
    const std::size_t chunk = cycle == 0 ? size - pos : std::min(size - pos, 1 + reads++ % cycle);
    std::size_t used = 0;
    while (used < chunk) {
      std::size_t consumed = 0;
      const auto result = parser.parse(data + pos + used, chunk - used, consumed);
      FUZZ_CHECK(consumed <= chunk - used);
      used += consumed;
      if (result == FrameParser::Result::kBad) {
        FUZZ_CHECK(parser.problem() != FrameParser::Problem::kNone);
        FUZZ_CHECK(!parser.error().empty());
        // A bad parser stays bad.
        FUZZ_CHECK(parser.parse(data, size, consumed) == FrameParser::Result::kBad);
        out.bad = true;
        out.problem = parser.problem();
        return out;
      }
      if (result == FrameParser::Result::kNeedMore) {
        FUZZ_CHECK(used == chunk);
        break;
      }
      auto frame = parser.take_frame();
      FUZZ_CHECK(!parser.in_progress());
      const auto bytes = frame.asBytes();
      FUZZ_CHECK(bytes.size() >= sizeof(capnp::word));
      out.frames.emplace_back(bytes.begin(), bytes.end());
    }
    pos += chunk;
  }
  out.in_progress = parser.in_progress();
  return out;
}

// What a connection does with a frame; a frame that is no Request is refused, never a crash.
void read_request(const std::vector<std::uint8_t>& bytes) {
  auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::copy(bytes.begin(), bytes.end(), words.asBytes().begin());
  try {
    capnp::FlatArrayMessageReader reader(words, ledger::server::frame_reader_options(words.size()));
    auto request = reader.getRoot<ledger::protocol::Request>();
    (void)request.totalSize();
    (void)request.getId();
    (void)request.which();
  } catch (const kj::Exception&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t settings = data[0];
  ++data;
  --size;
  FrameLimits limits;
  if (settings & 0x80) {
    // Small limits, so that inputs of fuzzer size reach them.
    limits.max_bytes = 64 + 8 * (settings & 0x1f);
    limits.max_segments = 1 + (settings & 0x3);
  } else {
    // Beyond the inputs libFuzzer makes (4 KiB by default), but not ledgerd's 1 MiB: the
    // parser allocates and zeroes what a table claims, which under ASan costs ~8 ms per MiB
    // and would otherwise dominate the run.
    limits.max_bytes = kLargeLimitBytes;
  }
  const std::size_t cycle = 1 + (settings >> 2 & 0x1f);

  const auto whole = parse_stream(data, size, limits, 0);
  const auto pieces = parse_stream(data, size, limits, cycle);
  FUZZ_CHECK(whole.frames == pieces.frames);
  FUZZ_CHECK(whole.bad == pieces.bad);
  FUZZ_CHECK(whole.problem == pieces.problem);
  FUZZ_CHECK(whole.in_progress == pieces.in_progress);

  std::size_t offset = 0;
  for (const auto& frame : whole.frames) {
    FUZZ_CHECK(frame.size() <= limits.max_bytes);
    FUZZ_CHECK(offset + frame.size() <= size);
    FUZZ_CHECK(std::equal(frame.begin(), frame.end(), data + offset));
    offset += frame.size();
    read_request(frame);
  }
  if (!whole.bad && !whole.in_progress) FUZZ_CHECK(offset == size);
  return 0;
}
