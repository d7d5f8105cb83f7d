#include "server/outcome.h"

#include "eventstore/encoding.h"

namespace ledger::server {
namespace {

constexpr char kFormat = 1;

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

}  // namespace

std::string encode_remembered(std::int64_t written_at_us, const Accepted& a) {
  std::string out;
  eventstore::put_u64(out, static_cast<std::uint64_t>(written_at_us));
  out.push_back(kFormat);
  eventstore::put_u64(out, a.id);
  eventstore::put_u64(out, a.revision);
  eventstore::put_u64(out, a.purged);
  put_list(out, a.seqs);
  put_list(out, a.numbers);
  return out;
}

std::optional<std::pair<std::int64_t, Accepted>> decode_remembered(std::string_view bytes) {
  if (bytes.size() < 8 + 1 + 24 || bytes[8] != kFormat) return std::nullopt;
  const auto at = static_cast<std::int64_t>(eventstore::get_u64(bytes, 0));
  Accepted a;
  a.id = eventstore::get_u64(bytes, 9);
  a.revision = eventstore::get_u64(bytes, 17);
  a.purged = eventstore::get_u64(bytes, 25);
  std::size_t pos = 33;
  if (!get_list(bytes, pos, a.seqs) || !get_list(bytes, pos, a.numbers) || pos != bytes.size()) return std::nullopt;
  return std::pair{at, std::move(a)};
}

std::optional<projections::RememberedWrite> remembered_write(std::string_view bytes) {
  auto remembered = decode_remembered(bytes);
  if (!remembered) return std::nullopt;
  auto& accepted = remembered->second;
  return projections::RememberedWrite{std::move(accepted.seqs), accepted.id, std::move(accepted.numbers)};
}

}  // namespace ledger::server
