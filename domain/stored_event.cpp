#include "domain/stored_event.h"

#include <stdexcept>
#include <string>

namespace ledger::domain {
namespace {

[[noreturn]] void bug(const char* what) { throw std::logic_error(std::string("evolve: ") + what); }

[[noreturn]] void unknown_kind(schema::Event::Which which) {
  throw MessageError("unknown event kind (union ordinal " + std::to_string(static_cast<unsigned>(which)) + ")");
}

void assign(std::string& out, capnp::Text::Reader text) { out.assign(text.begin(), text.size()); }

}  // namespace

EventKind StoredEvent::kind() const {
  switch (root_.which()) {
    case schema::Event::CREATED: return EventKind::kCreated;
    case schema::Event::EDITED: return EventKind::kEdited;
    case schema::Event::DELETED: return EventKind::kDeleted;
    case schema::Event::UNDELETED: return EventKind::kUndeleted;
    case schema::Event::PURGED: return EventKind::kPurged;
  }
  unknown_kind(root_.which());
}

CustomerId StoredEvent::customer() const {
  switch (root_.which()) {
    case schema::Event::CREATED: return root_.getCreated().getId();
    case schema::Event::EDITED: return root_.getEdited().getId();
    case schema::Event::DELETED: return root_.getDeleted().getId();
    case schema::Event::UNDELETED: return root_.getUndeleted().getId();
    case schema::Event::PURGED: return 0;
  }
  unknown_kind(root_.which());
}

CustomerNumber StoredEvent::number() const {
  switch (root_.which()) {
    case schema::Event::CREATED: return root_.getCreated().getNumber();
    case schema::Event::EDITED: return root_.getEdited().getNumber();
    case schema::Event::DELETED: return root_.getDeleted().getNumber();
    case schema::Event::UNDELETED: return root_.getUndeleted().getNumber();
    case schema::Event::PURGED: return 0;
  }
  unknown_kind(root_.which());
}

std::optional<std::string> StoredEvent::decode_error() const {
  switch (root_.which()) {
    case schema::Event::CREATED: {
      // Reading a text checks it, as decode_event's copy of it does.
      auto fields = root_.getCreated().getFields();
      static_cast<void>(fields.getName());
      static_cast<void>(fields.getCompany());
      static_cast<void>(fields.getEmail());
      static_cast<void>(fields.getPhone());
      static_cast<void>(fields.getAddress());
      static_cast<void>(fields.getNotes());
      return std::nullopt;
    }
    case schema::Event::EDITED:
      for (auto change : root_.getEdited().getChanges()) {
        if (!field_of(change.getField())) {
          return "event: CustomerEdited names an unknown field (ordinal " +
                 std::to_string(static_cast<unsigned>(change.getField())) + ")";
        }
        static_cast<void>(change.getValue());
      }
      return std::nullopt;
    case schema::Event::DELETED: static_cast<void>(root_.getDeleted()); return std::nullopt;
    case schema::Event::UNDELETED: static_cast<void>(root_.getUndeleted()); return std::nullopt;
    case schema::Event::PURGED: {
      auto purge = event_of(root_);
      if (!purge) return purge.error();
      return std::nullopt;
    }
  }
  return "event: unknown event kind (union ordinal " + std::to_string(static_cast<unsigned>(root_.which())) + ")";
}

Customer StoredEvent::evolve_new() const {
  switch (root_.which()) {
    case schema::Event::CREATED: {
      auto created = root_.getCreated();
      auto in = created.getFields();
      Customer customer{created.getId(), created.getNumber(), CustomerStatus::kActive, 1, {}};
      assign(customer.fields.name, in.getName());
      assign(customer.fields.company, in.getCompany());
      assign(customer.fields.email, in.getEmail());
      assign(customer.fields.phone, in.getPhone());
      assign(customer.fields.address, in.getAddress());
      assign(customer.fields.notes, in.getNotes());
      return customer;
    }
    case schema::Event::EDITED:
    case schema::Event::DELETED:
    case schema::Event::UNDELETED: bug("event before CustomerCreated");
    case schema::Event::PURGED: bug("CustomersPurged folded into no customer");
  }
  unknown_kind(root_.which());
}

void StoredEvent::evolve(Customer& state) const {
  auto existing = [&](CustomerId id) {
    if (state.id != id) bug("event for another customer");
  };
  switch (root_.which()) {
    case schema::Event::CREATED: bug("CustomerCreated for a customer that exists");
    case schema::Event::EDITED: {
      auto edited = root_.getEdited();
      existing(edited.getId());
      auto changes = edited.getChanges();
      // Every field known before any is assigned: decode_event refuses the whole event.
      for (auto change : changes) {
        if (!field_of(change.getField())) {
          throw MessageError("CustomerEdited names an unknown field (ordinal " +
                             std::to_string(static_cast<unsigned>(change.getField())) + ")");
        }
      }
      for (auto change : changes) assign(state.fields.get(*field_of(change.getField())), change.getValue());
      ++state.revision;
      return;
    }
    case schema::Event::DELETED:
      existing(root_.getDeleted().getId());
      state.status = CustomerStatus::kDeleted;
      ++state.revision;
      return;
    case schema::Event::UNDELETED:
      existing(root_.getUndeleted().getId());
      state.status = CustomerStatus::kActive;
      ++state.revision;
      return;
    case schema::Event::PURGED:
      // As evolve: a purge ends customers rather than changing them; callers remove them.
      return;
  }
  unknown_kind(root_.which());
}

}  // namespace ledger::domain
