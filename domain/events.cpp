#include "domain/events.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include "domain/events.capnp.h"
#include "domain/overloaded.h"
#include "domain/stored_event.h"
#include "domain/stored_message.h"

namespace ledger::domain {
namespace {

capnp::Text::Reader text_of(const std::string& value) {
  // std::string keeps a NUL after its last byte, as Text::Reader requires.
  return capnp::Text::Reader(value.data(), value.size());
}

std::string string_of(capnp::Text::Reader text) { return std::string(text.begin(), text.size()); }

// Cap'n Proto's list iterators lack std::iterator_traits, so vector::assign cannot take them.
template <typename T>
std::vector<T> vector_of(typename capnp::List<T>::Reader list) {
  std::vector<T> out;
  out.reserve(list.size());
  for (T value : list) out.push_back(value);
  return out;
}

schema::Field schema_field(Field field) {
  switch (field) {
    case Field::kName: return schema::Field::NAME;
    case Field::kCompany: return schema::Field::COMPANY;
    case Field::kEmail: return schema::Field::EMAIL;
    case Field::kPhone: return schema::Field::PHONE;
    case Field::kAddress: return schema::Field::ADDRESS;
    case Field::kNotes: return schema::Field::NOTES;
  }
  // decide() validates every field it puts into an event; anything else is a bug.
  throw std::logic_error("encode_event: field value out of range");
}

void set_fields(schema::CustomerFields::Builder out, const CustomerFields& fields) {
  out.setName(text_of(fields.name));
  out.setCompany(text_of(fields.company));
  out.setEmail(text_of(fields.email));
  out.setPhone(text_of(fields.phone));
  out.setAddress(text_of(fields.address));
  out.setNotes(text_of(fields.notes));
}

CustomerFields fields_of(schema::CustomerFields::Reader in) {
  CustomerFields fields;
  fields.name = string_of(in.getName());
  fields.company = string_of(in.getCompany());
  fields.email = string_of(in.getEmail());
  fields.phone = string_of(in.getPhone());
  fields.address = string_of(in.getAddress());
  fields.notes = string_of(in.getNotes());
  return fields;
}

// About the words the event's message takes, so that it is built in one segment of about its
// size (Cap'n Proto's default first segment is 8 KiB).
unsigned words_hint(const Event& event) {
  constexpr unsigned kStructWords = 16;  // the structs and pointers of any event, with room
  const auto text = [](const std::string& value) { return static_cast<unsigned>(value.size() / sizeof(capnp::word)) + 2; };
  return kStructWords + std::visit(Overloaded{
                                       [&](const CustomerCreated& e) {
                                         unsigned words = 0;
                                         for (auto field : kAllFields) words += text(e.fields.get(field));
                                         return words;
                                       },
                                       [&](const CustomerEdited& e) {
                                         unsigned words = 0;
                                         for (const auto& change : e.changes) words += 2 + text(change.value);
                                         return words;
                                       },
                                       [](const CustomersPurged& e) {
                                         return static_cast<unsigned>(2 * e.ids.size() + e.entries_redacted.size() / 2 + 8);
                                       },
                                       [](const auto&) { return 0u; },
                                   },
                                   event);
}

void set_event(schema::Event::Builder out, const Event& event) {
  std::visit(
      Overloaded{
          [&](const CustomerCreated& e) {
            auto created = out.initCreated();
            created.setId(e.id);
            created.setNumber(e.number);
            set_fields(created.initFields(), e.fields);
          },
          [&](const CustomerEdited& e) {
            auto edited = out.initEdited();
            edited.setId(e.id);
            edited.setNumber(e.number);
            auto changes = edited.initChanges(static_cast<unsigned>(e.changes.size()));
            for (unsigned i = 0; i < e.changes.size(); ++i) {
              changes[i].setField(schema_field(e.changes[i].field));
              changes[i].setValue(text_of(e.changes[i].value));
            }
          },
          [&](const CustomerDeleted& e) {
            auto deleted = out.initDeleted();
            deleted.setId(e.id);
            deleted.setNumber(e.number);
          },
          [&](const CustomerUndeleted& e) {
            auto undeleted = out.initUndeleted();
            undeleted.setId(e.id);
            undeleted.setNumber(e.number);
          },
          [&](const CustomersPurged& e) {
            auto purged = out.initPurged();
            auto ids = purged.initIds(static_cast<unsigned>(e.ids.size()));
            for (unsigned i = 0; i < e.ids.size(); ++i) ids.set(i, e.ids[i]);
            auto numbers = purged.initNumbers(static_cast<unsigned>(e.numbers.size()));
            for (unsigned i = 0; i < e.numbers.size(); ++i) numbers.set(i, e.numbers[i]);
            auto entries =
                purged.initEntriesRedacted(static_cast<unsigned>(e.entries_redacted.size()));
            for (unsigned i = 0; i < e.entries_redacted.size(); ++i) {
              entries.set(i, e.entries_redacted[i]);
            }
            purged.setMerkleRoot(capnp::Data::Reader(e.merkle_root.data(), e.merkle_root.size()));
          },
      },
      event);
}

}  // namespace

std::optional<Field> field_of(schema::Field field) {
  switch (field) {
    case schema::Field::NAME: return Field::kName;
    case schema::Field::COMPANY: return Field::kCompany;
    case schema::Field::EMAIL: return Field::kEmail;
    case schema::Field::PHONE: return Field::kPhone;
    case schema::Field::ADDRESS: return Field::kAddress;
    case schema::Field::NOTES: return Field::kNotes;
  }
  return std::nullopt;
}

Result<Event> event_of(schema::Event::Reader in) {
  switch (in.which()) {
    case schema::Event::CREATED: {
      auto created = in.getCreated();
      return Event{
          CustomerCreated{created.getId(), created.getNumber(), fields_of(created.getFields())}};
    }
    case schema::Event::EDITED: {
      auto edited = in.getEdited();
      CustomerEdited out{edited.getId(), edited.getNumber(), {}};
      auto changes = edited.getChanges();
      out.changes.reserve(changes.size());
      for (auto change : changes) {
        auto field = field_of(change.getField());
        if (!field) {
          return Error{"event: CustomerEdited names an unknown field (ordinal " +
                       std::to_string(static_cast<unsigned>(change.getField())) + ")"};
        }
        out.changes.push_back(FieldChange{*field, string_of(change.getValue())});
      }
      return Event{std::move(out)};
    }
    case schema::Event::DELETED: {
      auto deleted = in.getDeleted();
      return Event{CustomerDeleted{deleted.getId(), deleted.getNumber()}};
    }
    case schema::Event::UNDELETED: {
      auto undeleted = in.getUndeleted();
      return Event{CustomerUndeleted{undeleted.getId(), undeleted.getNumber()}};
    }
    case schema::Event::PURGED: {
      auto purged = in.getPurged();
      CustomersPurged out;
      auto ids = purged.getIds();
      auto numbers = purged.getNumbers();
      auto entries = purged.getEntriesRedacted();
      // The lists run in parallel, one element per purged customer; the receipt's counts may
      // still be absent in an event that decide() built and the store has not filled yet.
      if (ids.size() != numbers.size()) {
        return Error{"event: CustomersPurged has " + std::to_string(ids.size()) + " ids but " +
                     std::to_string(numbers.size()) + " numbers"};
      }
      if (entries.size() != 0 && entries.size() != ids.size()) {
        return Error{"event: CustomersPurged has " + std::to_string(ids.size()) + " ids but " +
                     std::to_string(entries.size()) + " redaction counts"};
      }
      out.ids = vector_of<CustomerId>(ids);
      out.numbers = vector_of<CustomerNumber>(numbers);
      out.entries_redacted = vector_of<std::uint32_t>(entries);
      auto root = purged.getMerkleRoot();
      if (root.size() == out.merkle_root.size()) {
        std::copy(root.begin(), root.end(), out.merkle_root.begin());
      } else if (root.size() != 0) {
        return Error{"event: CustomersPurged Merkle root is " + std::to_string(root.size()) +
                     " bytes, not 32"};
      }
      return Event{std::move(out)};
    }
  }
  return Error{"event: unknown event kind (union ordinal " +
               std::to_string(static_cast<unsigned>(in.which())) + ")"};
}

EventKind kind_of(const Event& event) {
  return std::visit(Overloaded{
                        [](const CustomerCreated&) { return EventKind::kCreated; },
                        [](const CustomerEdited&) { return EventKind::kEdited; },
                        [](const CustomerDeleted&) { return EventKind::kDeleted; },
                        [](const CustomerUndeleted&) { return EventKind::kUndeleted; },
                        [](const CustomersPurged&) { return EventKind::kPurged; },
                    },
                    event);
}

std::string_view kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::kCreated: return "CustomerCreated";
    case EventKind::kEdited: return "CustomerEdited";
    case EventKind::kDeleted: return "CustomerDeleted";
    case EventKind::kUndeleted: return "CustomerUndeleted";
    case EventKind::kPurged: return "CustomersPurged";
  }
  // Envelopes store the kind as an integer; a corrupt or newer one must still print.
  return "UnknownEvent";
}

CustomerId customer_of(const Event& event) {
  return std::visit(Overloaded{
                        [](const CustomersPurged&) -> CustomerId { return 0; },
                        [](const auto& e) -> CustomerId { return e.id; },
                    },
                    event);
}

CustomerNumber number_of(const Event& event) {
  return std::visit(Overloaded{
                        [](const CustomersPurged&) -> CustomerNumber { return 0; },
                        [](const auto& e) -> CustomerNumber { return e.number; },
                    },
                    event);
}

std::string encode_event(const Event& event) {
  capnp::MallocMessageBuilder message(words_hint(event));
  set_event(message.initRoot<schema::Event>(), event);
  return stored_bytes(message);
}

Result<Event> decode_event(std::string_view bytes) {
  try {
    return read_stored_message<schema::Event>(bytes, kEventLimits, [](schema::Event::Reader root) { return event_of(root); });
  } catch (const MessageError& e) {
    return Error{std::string("event: ") + e.what()};
  }
}

}  // namespace ledger::domain
