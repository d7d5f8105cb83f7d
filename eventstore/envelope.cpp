#include "eventstore/envelope.h"

#include <cstring>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include "domain/stored_message.h"
#include "eventstore/envelope.capnp.h"
#include "eventstore/key_store.h"
#include "eventstore/sealing.h"

namespace ledger::eventstore {
namespace {

capnp::Data::Reader data_of(std::string_view bytes) {
  return {reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()};
}

std::string_view view_of(capnp::Data::Reader data) {
  return {reinterpret_cast<const char*>(data.begin()), data.size()};
}

}  // namespace

Digest chain_link(const Digest& previous, const Envelope& e) {
  return chain_link(previous, e.seq, e.at_us, e.kind, e.customer, e.actor, e.digest, e.number);
}

Digest chain_link(const Digest& previous, const EnvelopeView& e) {
  return chain_link(previous, e.seq, e.at_us, e.kind, e.customer, e.actor, e.digest, e.number);
}

std::string encode_envelope(const Envelope& e) {
  // One segment of about the entry's size: its fixed fields and pointers take 16 words.
  capnp::MallocMessageBuilder message(
      static_cast<unsigned>(24 + (e.actor.size() + e.request.size() + e.payload.size()) / sizeof(capnp::word)));
  auto root = message.initRoot<schema::Envelope>();
  root.setSeq(e.seq);
  root.setAt(e.at_us);
  root.setActor(capnp::Text::Reader(e.actor.data(), e.actor.size()));
  root.setRequest(data_of(e.request));
  root.setCustomer(e.customer);
  root.setKind(e.kind);
  root.setPayload(data_of(e.payload));
  root.setDigest(data_of(as_bytes(e.digest)));
  root.setChain(data_of(as_bytes(e.chain)));
  root.setRedactedBy(e.redacted_by);
  root.setNumber(e.number);
  return domain::stored_bytes(message);
}

Envelope EnvelopeView::copy() const {
  Envelope e;
  e.seq = seq;
  e.at_us = at_us;
  e.actor = actor;
  e.request = request;
  e.customer = customer;
  e.kind = kind;
  e.payload = payload;
  e.digest = digest;
  e.chain = chain;
  e.redacted_by = redacted_by;
  e.number = number;
  return e;
}

Envelope decode_envelope(std::string_view bytes, std::uint64_t seq) {
  // Its own decoder: the view may point into the decoder's buffer, which lives until the copy.
  EnvelopeDecoder decoder;
  return decoder.decode(bytes, seq).copy();
}

EnvelopeDecoder::EnvelopeDecoder(const KeyStore* keys) : opener_(keys ? std::make_unique<PayloadOpener>(*keys) : nullptr) {}

EnvelopeDecoder::~EnvelopeDecoder() = default;

void open_payload(Envelope& envelope, const KeyStore& keys) {
  if (!stored_sealed(envelope.customer, envelope.payload)) return;
  PayloadOpener opener(keys);
  envelope.payload = std::string(opener.open(envelope.seq, envelope.customer, envelope.payload));
}

const EnvelopeView& EnvelopeDecoder::decode(std::string_view bytes, std::uint64_t seq) {
  const auto fail = [seq](const std::string& why) {
    return CorruptionError("log entry " + std::to_string(seq) + " is corrupt: " + why);
  };
  // read_stored_message reads aligned bytes in place and would copy others to a buffer that
  // ends with the call: copied here instead, so that the views outlive it.
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(capnp::word) != 0) {
    words_.resize((bytes.size() + sizeof(capnp::word) - 1) / sizeof(capnp::word));
    std::memcpy(words_.data(), bytes.data(), bytes.size());
    bytes = {reinterpret_cast<const char*>(words_.data()), bytes.size()};
  }
  EnvelopeView& e = view_;
  try {
    domain::read_stored_message<schema::Envelope>(bytes, {}, [&](schema::Envelope::Reader root) {
      e.seq = root.getSeq();
      e.at_us = root.getAt();
      auto actor = root.getActor();
      e.actor = {actor.begin(), actor.size()};
      e.request = view_of(root.getRequest());
      e.customer = root.getCustomer();
      e.kind = root.getKind();
      e.payload = view_of(root.getPayload());
      if (!digest_from(view_of(root.getDigest()), e.digest)) throw fail("digest is not 32 bytes");
      if (!digest_from(view_of(root.getChain()), e.chain)) throw fail("chain is not 32 bytes");
      e.redacted_by = root.getRedactedBy();
      e.number = root.getNumber();
    });
  } catch (const domain::MessageError& error) {
    throw fail(error.what());
  }
  if (e.seq != seq) throw fail("it says it is entry " + std::to_string(e.seq));
  if (opener_ && stored_sealed(e.customer, e.payload)) e.payload = opener_->open(e.seq, e.customer, e.payload);
  return e;
}

}  // namespace ledger::eventstore
