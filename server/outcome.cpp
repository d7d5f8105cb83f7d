#include "server/outcome.h"

#include <fmt/format.h>

#include "domain/events.h"
#include "eventstore/encoding.h"
#include "eventstore/event_log.h"

namespace ledger::server {
namespace {

// Format 1 was written before a key was bound to its command: it holds no fingerprint.
constexpr char kUnboundFormat = 1;
constexpr char kFormat = 2;

void put_list(std::string& out, const std::vector<std::uint64_t>& values) {
  eventstore::put_u64(out, values.size());
  for (auto v : values) eventstore::put_u64(out, v);
}

bool get_list(std::string_view bytes, std::size_t& pos, std::vector<std::uint64_t>& out) {
  if (bytes.size() - pos < 8) return false;
  const auto count = eventstore::get_u64(bytes, pos);
  pos += 8;
  if (count > (bytes.size() - pos) / 8) return false;
  out.resize(count);
  for (auto& v : out) {
    v = eventstore::get_u64(bytes, pos);
    pos += 8;
  }
  return true;
}

// The kind of the command whose format-1 outcome this is: an outcome without entries is an
// edit that changed nothing; else the command that writes the kind of its first entry (a stub
// keeps the kind). nullopt when the entry is missing or unreadable.
std::optional<CommandKind> unbound_kind(const Accepted& accepted, const eventstore::Reader& reader) {
  if (accepted.seqs.empty()) return CommandKind::kEdit;
  std::optional<eventstore::Envelope> entry;
  try {
    entry = eventstore::read_entry(reader, accepted.seqs.front());
  } catch (const eventstore::CorruptionError&) {
    return std::nullopt;
  }
  if (!entry) return std::nullopt;
  switch (static_cast<domain::EventKind>(entry->kind)) {
    case domain::EventKind::kCreated: return CommandKind::kCreate;
    case domain::EventKind::kEdited: return CommandKind::kEdit;
    case domain::EventKind::kDeleted: return CommandKind::kDelete;
    case domain::EventKind::kUndeleted: return CommandKind::kUndelete;
    case domain::EventKind::kPurged: return CommandKind::kPurge;
  }
  return std::nullopt;
}

}  // namespace

std::string encode_remembered(std::int64_t written_at_us, const CommandFingerprint& command, const Accepted& a) {
  std::string out;
  eventstore::put_u64(out, static_cast<std::uint64_t>(written_at_us));
  out.push_back(kFormat);
  out.push_back(static_cast<char>(command.kind));
  out.append(eventstore::as_bytes(command.digest));
  eventstore::put_u64(out, a.id);
  eventstore::put_u64(out, a.revision);
  eventstore::put_u64(out, a.purged);
  put_list(out, a.seqs);
  put_list(out, a.numbers);
  return out;
}

std::optional<Remembered> decode_remembered(std::string_view bytes) {
  if (bytes.size() < 9) return std::nullopt;
  Remembered remembered;
  remembered.written_at_us = static_cast<std::int64_t>(eventstore::get_u64(bytes, 0));
  std::size_t pos = 9;
  if (bytes[8] == kFormat) {
    if (bytes.size() < pos + 1 + 32) return std::nullopt;
    CommandFingerprint command;
    command.kind = static_cast<CommandKind>(static_cast<std::uint8_t>(bytes[pos]));
    if (!eventstore::digest_from(bytes.substr(pos + 1, 32), command.digest)) return std::nullopt;
    remembered.command = command;
    pos += 1 + 32;
  } else if (bytes[8] != kUnboundFormat) {
    return std::nullopt;
  }
  if (bytes.size() < pos + 24) return std::nullopt;
  auto& a = remembered.accepted;
  a.id = eventstore::get_u64(bytes, pos);
  a.revision = eventstore::get_u64(bytes, pos + 8);
  a.purged = eventstore::get_u64(bytes, pos + 16);
  pos += 24;
  if (!get_list(bytes, pos, a.seqs) || !get_list(bytes, pos, a.numbers) || pos != bytes.size()) return std::nullopt;
  return remembered;
}

Outcome answer_remembered(Remembered remembered, const CommandFingerprint& command, const eventstore::Reader& reader) {
  const auto first = remembered.command ? std::optional(remembered.command->kind) : unbound_kind(remembered.accepted, reader);
  const bool same = remembered.command ? *remembered.command == command : first == command.kind;
  if (same) {
    remembered.accepted.replayed = true;
    return std::move(remembered.accepted);
  }
  const auto first_name = first ? fmt::format("a {}", command_kind_name(*first)) : std::string("another command");
  return domain::Refusal{
      domain::RefusalCode::kRequestKeyReused,
      fmt::format("this request key was already used for {}, and a key belongs to one command: this {} was not done; "
                  "send it with a new request key",
                  first_name, command_kind_name(command.kind)),
      "requestKey",
      {}};
}

std::optional<projections::RememberedWrite> remembered_write(std::string_view bytes) {
  auto remembered = decode_remembered(bytes);
  if (!remembered) return std::nullopt;
  auto& accepted = remembered->accepted;
  return projections::RememberedWrite{std::move(accepted.seqs), accepted.id, std::move(accepted.numbers)};
}

}  // namespace ledger::server
