// Fuzzes the readers of stored bytes: decode_envelope (a log entry) and decode_event (its
// payload). Bytes on disk may be corrupt; reading them must fail cleanly.
//
// Input: the bytes of a stored value. Properties: decode_envelope either returns an envelope or
// throws CorruptionError, nothing else; decode_event returns an event or an error and never
// throws; what decodes, encodes and decodes again to the same value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "domain/events.h"
#include "eventstore/envelope.h"
#include "fuzz/fuzz_check.h"

namespace {

using ledger::domain::decode_event;
using ledger::domain::encode_event;
using ledger::eventstore::CorruptionError;
using ledger::eventstore::decode_envelope;
using ledger::eventstore::encode_envelope;

// The seed corpus's envelopes are entry 1; any other seq still reads every field first.
constexpr std::uint64_t kSeq = 1;

void check_event(std::string_view bytes) {
  auto event = decode_event(bytes);
  if (!event) return;
  const auto again = decode_event(encode_event(*event));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *event);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check_event(bytes);
  try {
    const auto envelope = decode_envelope(bytes, kSeq);
    FUZZ_CHECK(envelope.seq == kSeq);
    FUZZ_CHECK(decode_envelope(encode_envelope(envelope), kSeq) == envelope);
    check_event(envelope.payload);
  } catch (const CorruptionError& e) {
    FUZZ_CHECK(std::string_view(e.what()).find("log entry 1 ") == 0);
  }
  return 0;
}
