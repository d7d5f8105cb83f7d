#include "projections/free_numbers.h"

#include <stdexcept>
#include <string>

#include "eventstore/encoding.h"
#include "eventstore/envelope.h"

namespace ledger::projections {
namespace {

using eventstore::Family;
using eventstore::get_u64;
using eventstore::u64_key;

NumberInterval interval_at(const rocksdb::Iterator& it) {
  if (it.key().size() != 8 || it.value().size() != 8) {
    throw eventstore::CorruptionError("a free-number interval row is corrupt");
  }
  return {get_u64(std::string_view(it.key().data(), 8)), get_u64(std::string_view(it.value().data(), 8))};
}

}  // namespace

void FreeNumbers::initialize() { put({domain::kFirstCustomerNumber, domain::kMaxCustomerNumber}); }

std::optional<domain::CustomerNumber> FreeNumbers::lowest(domain::CustomerNumber at_least) const {
  auto it = reader_.iterate(Family::kNumbersFree);
  it->Seek(u64_key(at_least));
  if (!it->Valid()) {
    eventstore::Database::check(it->status(), "reading free numbers");
    return std::nullopt;
  }
  return interval_at(*it).first;
}

std::optional<NumberInterval> FreeNumbers::containing_or_before(domain::CustomerNumber number) const {
  auto it = reader_.iterate(Family::kNumbersFree);
  it->SeekForPrev(u64_key(number));
  if (!it->Valid()) {
    eventstore::Database::check(it->status(), "reading free numbers");
    return std::nullopt;
  }
  return interval_at(*it);
}

bool FreeNumbers::is_free(domain::CustomerNumber number) const {
  auto interval = containing_or_before(number);
  return interval && interval->last >= number;
}

void FreeNumbers::take(domain::CustomerNumber number) {
  auto interval = containing_or_before(number);
  if (!interval || interval->last < number) {
    throw std::logic_error("number " + std::to_string(number) + " is not free");
  }
  erase(interval->first);
  if (interval->first < number) put({interval->first, number - 1});
  if (number < interval->last) put({number + 1, interval->last});
}

void FreeNumbers::release(domain::CustomerNumber number) {
  auto before = containing_or_before(number);
  if (before && before->last >= number) return;  // already free
  std::optional<NumberInterval> after;
  if (number < domain::kMaxCustomerNumber) {
    if (auto end = reader_.get(Family::kNumbersFree, u64_key(number + 1))) {
      if (end->size() != 8) throw eventstore::CorruptionError("a free-number interval row is corrupt");
      after = NumberInterval{number + 1, get_u64(*end)};
    }
  }
  NumberInterval merged{number, number};
  if (before && before->last + 1 == number) merged.first = before->first;
  if (after) {
    merged.last = after->last;
    erase(after->first);
  }
  put(merged);
}

void FreeNumbers::put(NumberInterval interval) {
  auto key = u64_key(interval.first);
  auto value = u64_key(interval.last);
  eventstore::Database::check(batch_.Put(reader_.database().family(Family::kNumbersFree), key, value), "adding to batch");
}

void FreeNumbers::erase(domain::CustomerNumber first) {
  auto key = u64_key(first);
  eventstore::Database::check(batch_.Delete(reader_.database().family(Family::kNumbersFree), key), "adding to batch");
}

std::vector<NumberInterval> FreeNumbers::all(const eventstore::Reader& reader) {
  std::vector<NumberInterval> out;
  auto it = reader.iterate(Family::kNumbersFree);
  for (it->SeekToFirst(); it->Valid(); it->Next()) out.push_back(interval_at(*it));
  eventstore::Database::check(it->status(), "reading free numbers");
  return out;
}

std::vector<NumberInterval> complement(const std::vector<domain::CustomerNumber>& held) {
  std::vector<NumberInterval> out;
  domain::CustomerNumber next = domain::kFirstCustomerNumber;
  for (auto number : held) {
    if (number > next) out.push_back({next, number - 1});
    next = number + 1;
  }
  if (next <= domain::kMaxCustomerNumber) out.push_back({next, domain::kMaxCustomerNumber});
  return out;
}

}  // namespace ledger::projections
