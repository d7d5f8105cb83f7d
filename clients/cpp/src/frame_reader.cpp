#include "ledger/client/frame_reader.h"

#include <algorithm>
#include <cstring>

namespace ledger::client {
namespace {

std::uint32_t read_u32_le(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

}  // namespace

FrameReader::Result FrameReader::parse(const std::uint8_t* data, std::size_t size, std::size_t& consumed) {
  consumed = 0;
  if (!error_.empty()) return Result::kBad;
  while (consumed < size || (frame_.size() > 0 && filled_ == frame_.size() * sizeof(capnp::word))) {
    if (frame_.size() == 0) {
      // The segment table: first the count, then the sizes and the padding.
      const std::size_t want = header_bytes_ == 0 ? 4 : header_bytes_;
      const std::size_t take = std::min(want - header_.size(), size - consumed);
      header_.insert(header_.end(), data + consumed, data + consumed + take);
      consumed += take;
      if (header_.size() < want) return Result::kNeedMore;
      const std::uint64_t segments = std::uint64_t{read_u32_le(header_.data())} + 1;
      if (header_bytes_ == 0) {
        if (segments > limits_.max_segments) {
          error_ = "a frame of " + std::to_string(segments) + " segments; at most " +
                   std::to_string(limits_.max_segments) + " are allowed";
          return Result::kBad;
        }
        header_bytes_ = static_cast<std::size_t>((4 + 4 * segments + 7) / 8 * 8);
        continue;
      }
      std::uint64_t body_words = 0;
      for (std::uint64_t i = 0; i < segments; ++i) body_words += read_u32_le(header_.data() + 4 + 4 * i);
      const std::uint64_t total_bytes = header_bytes_ + body_words * sizeof(capnp::word);
      if (total_bytes > limits_.max_bytes) {
        error_ = "a frame of " + std::to_string(total_bytes) + " bytes; at most " + std::to_string(limits_.max_bytes) +
                 " are allowed";
        return Result::kBad;
      }
      frame_ = kj::heapArray<capnp::word>(total_bytes / sizeof(capnp::word));
      std::memset(frame_.begin(), 0, total_bytes);
      std::memcpy(frame_.begin(), header_.data(), header_.size());
      filled_ = header_.size();
      header_.clear();
      continue;
    }
    const std::size_t total = frame_.size() * sizeof(capnp::word);
    const std::size_t take = std::min(total - filled_, size - consumed);
    std::memcpy(reinterpret_cast<std::uint8_t*>(frame_.begin()) + filled_, data + consumed, take);
    filled_ += take;
    consumed += take;
    if (filled_ == total) return Result::kGood;
  }
  return Result::kNeedMore;
}

bool FrameReader::holds_frame(const std::uint8_t* data, std::size_t size, const FrameLimits& limits) {
  if (size < 4) return false;
  const std::uint64_t segments = std::uint64_t{read_u32_le(data)} + 1;
  if (segments > limits.max_segments) return true;
  const std::uint64_t table_bytes = (4 + 4 * segments + 7) / 8 * 8;
  if (size < table_bytes) return false;
  std::uint64_t body_words = 0;
  for (std::uint64_t i = 0; i < segments; ++i) body_words += read_u32_le(data + 4 + 4 * i);
  const std::uint64_t total_bytes = table_bytes + body_words * sizeof(capnp::word);
  return total_bytes > limits.max_bytes || size >= total_bytes;
}

kj::Array<capnp::word> FrameReader::take_frame() {
  auto frame = std::move(frame_);
  frame_ = nullptr;
  filled_ = 0;
  header_bytes_ = 0;
  header_.clear();
  return frame;
}

capnp::ReaderOptions frame_reader_options(std::size_t words) {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = 4 * words + 1024;
  options.nestingLimit = 16;
  return options;
}

}  // namespace ledger::client
