#include "projections/customer_codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/io.h>
#include <openssl/crypto.h>

#include "domain/stored_message.h"
#include "eventstore/envelope.h"
#include "projections/customer_state.capnp.h"

namespace ledger::projections {
namespace {

capnp::Text::Reader text_of(const std::string& s) { return {s.data(), s.size()}; }

// Words of one segment that holds the whole state: its structs, pointers and text ends take at
// most 24 words beside the text itself. One segment, so the same bytes whatever the memory.
unsigned state_words(const domain::Customer& c) {
  std::size_t text = 0;
  for (auto field : domain::kAllFields) text += c.fields.get(field).size();
  return static_cast<unsigned>(24 + text / sizeof(capnp::word));
}

// Words kept for the encoder's segment to begin with: a customer of usual size fits.
constexpr unsigned kFirstSegmentWords = 128;

void fill(capnp::MessageBuilder& message, const domain::Customer& c) {
  auto root = message.initRoot<schema::CustomerState>();
  root.setId(c.id);
  root.setNumber(c.number);
  root.setStatus(c.status == domain::CustomerStatus::kActive ? schema::Status::ACTIVE : schema::Status::DELETED);
  root.setRevision(c.revision);
  auto f = root.initFields();
  f.setName(text_of(c.fields.name));
  f.setCompany(text_of(c.fields.company));
  f.setEmail(text_of(c.fields.email));
  f.setPhone(text_of(c.fields.phone));
  f.setAddress(text_of(c.fields.address));
  f.setNotes(text_of(c.fields.notes));
}

}  // namespace

std::string encode_customer(const domain::Customer& c) {
  capnp::MallocMessageBuilder message(state_words(c));
  fill(message, c);
  return domain::stored_bytes(message);
}

CustomerEncoder::CustomerEncoder() : first_segment_(kFirstSegmentWords, 0) {}

std::string_view CustomerEncoder::encode(const domain::Customer& c) {
  {
    // One segment that holds the whole state, as encode_customer's, so the same bytes; the
    // builder zeroes what it used of the segment when it goes.
    if (first_segment_.size() < state_words(c)) first_segment_.resize(state_words(c), 0);
    capnp::MallocMessageBuilder message(
        kj::arrayPtr(reinterpret_cast<capnp::word*>(first_segment_.data()), first_segment_.size()));
    fill(message, c);
    const auto segments = message.getSegmentsForOutput();
    bytes_.resize(capnp::computeSerializedSizeInWords(segments) * sizeof(capnp::word));
    kj::ArrayOutputStream out(kj::arrayPtr(reinterpret_cast<kj::byte*>(bytes_.data()), bytes_.size()));
    capnp::writeMessage(out, segments);
  }
  return bytes_;
}

domain::Customer decode_customer(std::string_view bytes, domain::CustomerId id) {
  const auto fail = [id](const std::string& why) {
    return eventstore::CorruptionError("the state of customer id " + std::to_string(id) + " is corrupt: " + why);
  };
  domain::Customer c;
  try {
    domain::read_stored_message<schema::CustomerState>(bytes, {}, [&](schema::CustomerState::Reader root) {
      c.id = root.getId();
      c.number = root.getNumber();
      switch (root.getStatus()) {
        case schema::Status::ACTIVE: c.status = domain::CustomerStatus::kActive; break;
        case schema::Status::DELETED: c.status = domain::CustomerStatus::kDeleted; break;
        default: throw fail("unknown status");
      }
      c.revision = root.getRevision();
      auto f = root.getFields();
      c.fields.name = f.getName();
      c.fields.company = f.getCompany();
      c.fields.email = f.getEmail();
      c.fields.phone = f.getPhone();
      c.fields.address = f.getAddress();
      c.fields.notes = f.getNotes();
    });
  } catch (const domain::MessageError& error) {
    throw fail(error.what());
  }
  if (c.id != id) throw fail("it says it is id " + std::to_string(c.id));
  return c;
}

std::string seal_customer(const eventstore::KeyStore& keys, const domain::Customer& customer,
                          const eventstore::DataKey* key) {
  const eventstore::SealPlace place{eventstore::SealedIn::kCustomers, customer.id, 0};
  thread_local CustomerEncoder encoder;
  const auto plain = encoder.encode(customer);
  if (key) return eventstore::seal(*key, place, plain);
  auto stored = keys.get(customer.id);
  if (!stored) throw eventstore::CorruptionError("customer id " + std::to_string(customer.id) + " has no keys in the key store");
  auto sealed = eventstore::seal(stored->data, place, plain);
  OPENSSL_cleanse(&*stored, sizeof(*stored));
  return sealed;
}

std::optional<domain::Customer> read_customer(const std::optional<eventstore::CustomerKeys>& keys,
                                              std::string_view stored, domain::CustomerId id) {
  eventstore::require_sealed({eventstore::SealedIn::kCustomers, id, 0}, stored);
  if (!keys) return std::nullopt;
  std::string plain;
  eventstore::open_sealed(keys->data, {eventstore::SealedIn::kCustomers, id, 0}, stored, plain);
  auto customer = decode_customer(plain, id);
  OPENSSL_cleanse(plain.data(), plain.size());
  return customer;
}

domain::Customer read_customer(const eventstore::KeyStore& keys, std::string_view stored, domain::CustomerId id) {
  auto key = keys.get(id);
  auto customer = read_customer(key, stored, id);
  if (key) OPENSSL_cleanse(&*key, sizeof(*key));
  if (!customer) {
    throw eventstore::CorruptionError("the state of customer id " + std::to_string(id) +
                                      " is sealed, but the customer has no key (destroyed by a purge?)");
  }
  return std::move(*customer);
}

}  // namespace ledger::projections
