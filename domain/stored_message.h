// read_stored_message: reads one Cap'n Proto message from bytes that were stored or received,
// the one way every stored value of the ledger (events, envelopes, customer state) is decoded;
// stored_bytes: the bytes of a built message, the one way they are encoded.
//
// Stored and received bytes carry no alignment promise, and Cap'n Proto reads words in place
// and refuses unaligned segments, so bytes that are not word-aligned are copied into
// word-aligned memory first (on the stack when small); aligned bytes, such as a payload held in
// a std::string, are read where they are. The
// reader runs under tight limits: a traversal limit proportional to the message's size (so a
// crafted message cannot make a small value expensive to read) and a small nesting limit.
// Thread-safe: it holds no state.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>
#include <kj/exception.h>
#include <kj/io.h>

namespace ledger::domain {

// The bytes do not hold one valid message. what() says why, never what the bytes hold.
class MessageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MessageLimits {
  // Traversal limit: this many words for each word of the message, at least `min_words`, plus
  // 64 words of slack for the segment table and getters that read a pointer twice.
  std::uint64_t words_per_word = 1;
  std::uint64_t min_words = 0;
  int nesting = 8;
};

// The message as one flat array (segment table first, as capnp::messageToFlatArray), written
// straight into the string.
inline std::string stored_bytes(capnp::MessageBuilder& message) {
  const auto segments = message.getSegmentsForOutput();
  std::string bytes(capnp::computeSerializedSizeInWords(segments) * sizeof(capnp::word), '\0');
  kj::ArrayOutputStream out(kj::arrayPtr(reinterpret_cast<kj::byte*>(bytes.data()), bytes.size()));
  capnp::writeMessage(out, segments);
  return bytes;
}

// Calls read(root) with the message's root as Root::Reader and returns what it returns. The
// reader is valid only during the call: `read` copies out what it keeps. Throws MessageError
// when the size is not a whole number of words, when bytes follow the message, or when Cap'n
// Proto refuses the message (including a kj::Exception raised while `read` walks it).
template <typename Root, typename Read>
auto read_stored_message(std::string_view bytes, const MessageLimits& limits, Read&& read)
    -> decltype(read(std::declval<typename Root::Reader>())) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    throw MessageError(std::to_string(bytes.size()) + " bytes is not a whole number of 8-byte words");
  }
  const std::size_t count = bytes.size() / sizeof(capnp::word);
  constexpr std::size_t kStackWords = 128;  // 1 KiB: every envelope and event of usual size
  capnp::word stack[kStackWords];
  kj::Array<capnp::word> heap;
  kj::ArrayPtr<const capnp::word> words;
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(capnp::word) == 0) {
    words = {reinterpret_cast<const capnp::word*>(bytes.data()), count};
  } else {
    capnp::word* copy = stack;
    if (count > kStackWords) {
      heap = kj::heapArray<capnp::word>(count);
      copy = heap.begin();
    }
    std::memcpy(copy, bytes.data(), bytes.size());
    words = {copy, count};
  }
  capnp::ReaderOptions options;
  options.traversalLimitInWords = std::max<std::uint64_t>(limits.min_words, limits.words_per_word * words.size()) + 64;
  options.nestingLimit = limits.nesting;
  try {
    capnp::FlatArrayMessageReader reader(words, options);
    if (reader.getEnd() != words.end()) throw MessageError("bytes follow the end of the message");
    return read(reader.getRoot<Root>());
  } catch (const kj::Exception& e) {
    throw MessageError(std::string("not a valid Cap'n Proto message: ") + e.getDescription().cStr());
  }
}

}  // namespace ledger::domain
