#include "projections/free_numbers.h"

#include <stdexcept>
#include <string>

#include "eventstore/encoding.h"
#include "eventstore/envelope.h"
#include "eventstore/layout_migration.h"

namespace ledger::projections {
namespace {

using eventstore::Family;
using eventstore::get_u64;
using eventstore::u64_key;

NumberInterval interval_at(const rocksdb::Iterator& it) {
  if (it.key().size() != 8 || it.value().size() != 8) {
    throw eventstore::CorruptionError("a free-number interval row is corrupt");
  }
  NumberInterval interval{get_u64(std::string_view(it.value().data(), 8)), get_u64(std::string_view(it.key().data(), 8))};
  if (interval.first > interval.last) throw eventstore::CorruptionError("a free-number interval row is corrupt");
  return interval;
}

}  // namespace

void FreeNumbers::initialize() {
  put({domain::kFirstCustomerNumber, domain::kMaxCustomerNumber});
  eventstore::mark_current_layout(reader_.database(), batch_);
  if (lowest_) *lowest_ = NumberInterval{domain::kFirstCustomerNumber, domain::kMaxCustomerNumber};
}

std::optional<domain::CustomerNumber> FreeNumbers::lowest() const {
  auto interval = lowest_interval();
  if (!interval) return std::nullopt;
  return interval->first;
}

std::optional<NumberInterval> FreeNumbers::lowest_interval() const {
  if (lowest_ && *lowest_) return *lowest_;
  auto it = reader_.iterate(Family::kNumbersFree);
  it->SeekToFirst();
  if (!it->Valid()) {
    eventstore::Database::check(it->status(), "reading free numbers");
    return std::nullopt;
  }
  const auto interval = interval_at(*it);
  if (lowest_) *lowest_ = interval;
  return interval;
}

std::optional<NumberInterval> FreeNumbers::ending_at_or_after(domain::CustomerNumber number) const {
  auto it = reader_.iterate(Family::kNumbersFree);
  it->Seek(u64_key(number));
  if (!it->Valid()) {
    eventstore::Database::check(it->status(), "reading free numbers");
    return std::nullopt;
  }
  return interval_at(*it);
}

bool FreeNumbers::is_free(domain::CustomerNumber number) const {
  auto interval = ending_at_or_after(number);
  return interval && interval->first <= number;
}

void FreeNumbers::take(domain::CustomerNumber number) {
  const bool from_lowest = lowest_ && *lowest_ && (*lowest_)->first <= number && number <= (*lowest_)->last;
  auto interval = from_lowest ? *lowest_ : ending_at_or_after(number);
  if (!interval || interval->first > number) {
    throw std::logic_error("number " + std::to_string(number) + " is not free");
  }
  if (number < interval->last) {
    put({number + 1, interval->last});  // overwrites the interval's row
  } else {
    erase(interval->last);
  }
  if (interval->first < number) put({interval->first, number - 1});
  if (from_lowest) {
    if (interval->first < number) {
      **lowest_ = {interval->first, number - 1};
    } else if (number < interval->last) {
      **lowest_ = {number + 1, interval->last};
    } else {
      // Used up: the next lowest is the first interval above it. Sought from there, not from
      // the family's start, which would step over the row of every interval used up before.
      *lowest_ = number < domain::kMaxCustomerNumber ? ending_at_or_after(number + 1) : std::nullopt;
    }
  }
}

void FreeNumbers::release(domain::CustomerNumber number) {
  auto after = ending_at_or_after(number);
  if (after && after->first <= number) return;  // already free
  if (after && after->first != number + 1) after.reset();  // not adjacent
  std::optional<NumberInterval> before;
  if (number > domain::kFirstCustomerNumber) {
    if (auto first = reader_.get(Family::kNumbersFree, u64_key(number - 1))) {
      if (first->size() != 8) throw eventstore::CorruptionError("a free-number interval row is corrupt");
      before = NumberInterval{get_u64(*first), number - 1};
    }
  }
  NumberInterval merged{number, number};
  if (before) {
    merged.first = before->first;
    erase(before->last);
  }
  if (after) merged.last = after->last;  // overwrites the following interval's row
  put(merged);
  // The freed number starts, joins or extends the lowest interval, or lies above it. Unknown
  // stays unknown (it is read when needed).
  if (lowest_ && *lowest_ && merged.first <= (*lowest_)->first) *lowest_ = merged;
}

void FreeNumbers::put(NumberInterval interval) {
  const auto [key, value] = free_interval_row(interval);
  eventstore::Database::check(batch_.Put(reader_.database().family(Family::kNumbersFree), key, value), "adding to batch");
}

void FreeNumbers::erase(domain::CustomerNumber last) {
  auto key = u64_key(last);
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

std::pair<std::string, std::string> free_interval_row(const NumberInterval& interval) {
  return {u64_key(interval.last), u64_key(interval.first)};
}

}  // namespace ledger::projections
