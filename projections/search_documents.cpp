#include "projections/search_documents.h"

#include <bit>
#include <limits>
#include <utility>
#include <stdexcept>

namespace ledger::projections {
namespace {

constexpr std::size_t kFirstCapacity = 1024;  // a power of two

std::uint32_t pack(std::size_t length, domain::CustomerStatus status) {
  return static_cast<std::uint32_t>(length << 1) | (status == domain::CustomerStatus::kDeleted ? 1u : 0u);
}

domain::CustomerStatus status_of(std::uint32_t packed) {
  return packed & 1u ? domain::CustomerStatus::kDeleted : domain::CustomerStatus::kActive;
}

}  // namespace

std::size_t SearchDocuments::home(domain::CustomerNumber number) const {
  // Numbers are mostly consecutive: a multiplicative hash spreads them over the table.
  // Fibonacci hashing: the product's top bits pick the slot.
  return static_cast<std::size_t>((number * 0x9E3779B97F4A7C15ull) >> shift_);
}

const SearchDocuments::Slot* SearchDocuments::slot_of(domain::CustomerNumber number) const {
  if (slots_.empty()) return nullptr;
  for (auto i = home(number);; i = (i + 1) & (slots_.size() - 1)) {
    if (slots_[i].number == number) return &slots_[i];
    if (slots_[i].number == 0) return nullptr;
  }
}

SearchDocuments::Slot* SearchDocuments::slot_of(domain::CustomerNumber number) {
  return const_cast<Slot*>(std::as_const(*this).slot_of(number));
}

std::uint32_t SearchDocuments::store(std::string_view text) {
  if (arena_.size() + text.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw std::length_error("the search index's texts exceed 4 GiB");
  }
  const auto offset = static_cast<std::uint32_t>(arena_.size());
  arena_.append(text);
  return offset;
}

void SearchDocuments::put(domain::CustomerNumber number, domain::CustomerId id, domain::CustomerStatus status,
                          std::string_view text) {
  if (text.size() > (std::numeric_limits<std::uint32_t>::max() >> 1)) throw std::length_error("search text too long");
  if (auto* slot = slot_of(number)) {
    garbage_ += slot->length_and_status >> 1;
    slot->id = id;
    slot->offset = store(text);
    slot->length_and_status = pack(text.size(), status);
    if (garbage_ > arena_.size() / 2 && garbage_ > (std::size_t{1} << 20)) compact();
    return;
  }
  if ((size_ + 1) * 10 > slots_.size() * 7) grow();
  auto i = home(number);
  while (slots_[i].number != 0) i = (i + 1) & (slots_.size() - 1);
  slots_[i] = {number, id, store(text), pack(text.size(), status)};
  ++size_;
}

bool SearchDocuments::set_status(domain::CustomerNumber number, domain::CustomerStatus status) {
  auto* slot = slot_of(number);
  if (!slot) return false;
  slot->length_and_status = pack(slot->length_and_status >> 1, status);
  return true;
}

void SearchDocuments::erase(domain::CustomerNumber number) {
  auto* slot = slot_of(number);
  if (!slot) return;
  garbage_ += slot->length_and_status >> 1;
  --size_;
  // Backward-shift deletion: later slots of the same probe run move up, so no tombstones.
  const auto mask = slots_.size() - 1;
  auto hole = static_cast<std::size_t>(slot - slots_.data());
  for (auto i = (hole + 1) & mask; slots_[i].number != 0; i = (i + 1) & mask) {
    const auto want = home(slots_[i].number);
    // Move slot i into the hole when its home is not in (hole, i] (cyclically).
    const bool stays = hole <= i ? (hole < want && want <= i) : (hole < want || want <= i);
    if (!stays) {
      slots_[hole] = slots_[i];
      hole = i;
    }
  }
  slots_[hole] = Slot{};
  if (size_ == 0) {
    arena_.clear();
    garbage_ = 0;
  } else if (garbage_ > arena_.size() / 2 && garbage_ > (std::size_t{1} << 20)) {
    compact();
  }
}

SearchDocuments::Document SearchDocuments::document_of(const Slot& slot) const {
  return {slot.id, status_of(slot.length_and_status),
          std::string_view(arena_).substr(slot.offset, slot.length_and_status >> 1)};
}

bool SearchDocuments::find(domain::CustomerNumber number, Document& out) const {
  const auto* slot = slot_of(number);
  if (!slot) return false;
  out = document_of(*slot);
  return true;
}

void SearchDocuments::grow() {
  std::vector<Slot> old(slots_.empty() ? kFirstCapacity : slots_.size() * 2);
  old.swap(slots_);
  shift_ = 64 - static_cast<unsigned>(std::countr_zero(slots_.size()));
  const auto mask = slots_.size() - 1;
  for (const auto& slot : old) {
    if (slot.number == 0) continue;
    auto i = home(slot.number);
    while (slots_[i].number != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

void SearchDocuments::compact() {
  std::string live;
  live.reserve(arena_.size() - garbage_);
  for (auto& slot : slots_) {
    if (slot.number == 0) continue;
    const auto length = slot.length_and_status >> 1;
    const auto offset = static_cast<std::uint32_t>(live.size());
    live.append(arena_, slot.offset, length);
    slot.offset = offset;
  }
  arena_ = std::move(live);
  garbage_ = 0;
}

}  // namespace ledger::projections
