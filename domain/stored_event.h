// StoredEvent: an event read in place from its stored bytes (events.capnp), for folds over the
// whole log. Folding one this way gives what decode_event and evolve give, without first
// building an Event whose strings are copied out of the bytes only to be moved into the
// customer. Pure; thread-safe. A StoredEvent is valid only inside read_stored_event's call.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/customer.h"
#include "domain/events.capnp.h"
#include "domain/events.h"
#include "domain/result.h"
#include "domain/stored_message.h"

namespace ledger::domain {

// A legitimate event is read once, so the words traversed never exceed its size. The limit
// bounds the work a crafted message can cause (pointers aimed at the same data again and again)
// to a small multiple of its size; the floor keeps small events well clear of it, and scaling
// with the size keeps a purge of many customers readable. Event > CustomersPurged > list is
// three levels of nesting; sixteen leaves room for schema growth.
inline constexpr MessageLimits kEventLimits{.words_per_word = 4, .min_words = 64 * 1024, .nesting = 16};

// The event of a message already read: decode_event after reading the bytes.
Result<Event> event_of(schema::Event::Reader root);
// nullopt for an ordinal this build does not know (a newer schema, or corrupt bytes).
std::optional<Field> field_of(schema::Field field);

class StoredEvent {
 public:
  explicit StoredEvent(schema::Event::Reader root) : root_(root) {}

  // Throws MessageError for a kind this build does not know.
  EventKind kind() const;
  // The customer it belongs to, and its number; 0 for a purge.
  CustomerId customer() const;
  CustomerNumber number() const;
  // The whole event, as decode_event gives it: for a purge, whose ids a fold needs.
  Result<Event> decode() const { return event_of(root_); }
  // The error decode_event returns for these bytes, or nullopt when it decodes them: reads
  // every field once without copying any. Cap'n Proto's own refusals are thrown, and
  // read_stored_event turns them into MessageError, as decode_event does before it prefixes
  // "event: ".
  std::optional<std::string> decode_error() const;

  // evolve(std::nullopt, event): the customer a CustomerCreated makes. Throws std::logic_error
  // for any other event, as evolve does.
  Customer evolve_new() const;
  // evolve(std::move(state), event) with `state` changed in place: an edit assigns its values
  // into the state's strings, reusing their memory. Throws std::logic_error where evolve does
  // (a CustomerCreated for an existing state, an event of another customer), MessageError for
  // a field this build does not know (state unchanged).
  void evolve(Customer& state) const;

 private:
  schema::Event::Reader root_;
};

// Calls read(StoredEvent) on the event in `bytes` (read in place when word-aligned) under
// kEventLimits and returns what it returns. Throws MessageError when the bytes are not one
// Cap'n Proto message, or when Cap'n Proto refuses it while `read` walks it.
template <typename Read>
auto read_stored_event(std::string_view bytes, Read&& read) {
  return read_stored_message<schema::Event>(bytes, kEventLimits,
                                            [&](schema::Event::Reader root) { return read(StoredEvent(root)); });
}

}  // namespace ledger::domain
