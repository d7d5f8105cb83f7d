#include "projections/search_index.h"

#include <algorithm>
#include <array>
#include <bit>

#include "eventstore/encoding.h"

namespace ledger::projections {
namespace {

// ASCII only, whatever the C locale: the buckets are part of the storage format.
void lowercase_in_place(std::string& s) {
  for (auto& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  lowercase_in_place(out);
  return out;
}

std::string digits_only(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= '0' && c <= '9') out.push_back(c);
  }
  return out;
}

bool phone_like(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '+' || c == '(' || c == ')' || c == '-' || c == '.' || c == ' ';
  });
}

std::uint16_t bucket_of(std::string_view trigram) {
  // FNV-1a: fast and stable across versions (the bucket is part of the storage format).
  std::uint32_t h = 2166136261u;
  for (char c : trigram) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return static_cast<std::uint16_t>(h % kSearchBuckets);
}

// Calls `use` with the bucket of every trigram of `text`.
template <typename Use>
void for_each_bucket(std::string_view text, Use&& use) {
  for (std::size_t i = 0; i + 3 <= text.size(); ++i) use(bucket_of(text.substr(i, 3)));
}

// Appends the bucket of every trigram of `text`.
void add_buckets(std::string_view text, std::vector<std::uint16_t>& out) {
  for_each_bucket(text, [&out](std::uint16_t bucket) { out.push_back(bucket); });
}

std::vector<std::uint16_t> ascending(std::vector<std::uint16_t> buckets) {
  std::sort(buckets.begin(), buckets.end());
  buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
  return buckets;
}

}  // namespace

std::vector<std::uint16_t> search_buckets(const domain::CustomerFields& fields) {
  // A rebuild calls this for every customer: the buckets are collected in a bit set, which
  // yields them ascending and once each without sorting, and the lowercased fields share one
  // buffer.
  std::array<std::uint64_t, kSearchBuckets / 64> seen{};
  auto add = [&seen](std::string_view text) {
    for_each_bucket(text, [&seen](std::uint16_t bucket) { seen[bucket / 64] |= std::uint64_t{1} << (bucket % 64); });
  };
  std::string text;
  for (const std::string* field : {&fields.name, &fields.email, &fields.phone}) {
    text.assign(*field);
    lowercase_in_place(text);
    add(text);
  }
  add(digits_only(fields.phone));

  std::vector<std::uint16_t> buckets;
  for (std::size_t word = 0; word < seen.size(); ++word) {
    for (auto bits = seen[word]; bits != 0; bits &= bits - 1) {
      buckets.push_back(static_cast<std::uint16_t>(word * 64 + static_cast<std::size_t>(std::countr_zero(bits))));
    }
  }
  return buckets;
}

std::string search_row(std::uint16_t bucket, domain::CustomerId id) {
  std::string row;
  row.reserve(10);
  eventstore::put_u16(row, bucket);
  eventstore::put_u64(row, id);
  return row;
}

std::vector<std::vector<std::uint16_t>> query_buckets(std::string_view query) {
  std::vector<std::vector<std::uint16_t>> ways;
  auto add_way = [&ways](std::string_view text) {
    if (text.size() < 3) return false;
    std::vector<std::uint16_t> buckets;
    add_buckets(text, buckets);
    ways.push_back(ascending(std::move(buckets)));
    return true;
  };
  const auto typed = lowercase(query);
  if (!add_way(typed)) return {};
  if (phone_like(query)) {
    const auto digits = digits_only(query);
    if (digits != typed && !add_way(digits)) return {};
  }
  return ways;
}

bool matches(const domain::CustomerFields& fields, std::string_view query) {
  const auto q = lowercase(query);
  if (q.empty()) return true;
  if (lowercase(fields.name).find(q) != std::string::npos) return true;
  if (lowercase(fields.email).find(q) != std::string::npos) return true;
  if (lowercase(fields.phone).find(q) != std::string::npos) return true;
  if (phone_like(query)) {
    const auto digits = digits_only(query);
    if (!digits.empty() && digits_only(fields.phone).find(digits) != std::string::npos) return true;
  }
  return false;
}

}  // namespace ledger::projections
