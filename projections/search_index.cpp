#include "projections/search_index.h"

#include <algorithm>
#include <cctype>

#include "eventstore/encoding.h"

namespace ledger::projections {
namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
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

// Appends the bucket of every trigram of `text`.
void add_buckets(std::string_view text, std::vector<std::uint16_t>& out) {
  for (std::size_t i = 0; i + 3 <= text.size(); ++i) out.push_back(bucket_of(text.substr(i, 3)));
}

std::vector<std::uint16_t> ascending(std::vector<std::uint16_t> buckets) {
  std::sort(buckets.begin(), buckets.end());
  buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
  return buckets;
}

}  // namespace

std::vector<std::uint16_t> search_buckets(const domain::CustomerFields& fields) {
  std::vector<std::uint16_t> buckets;
  add_buckets(lowercase(fields.name), buckets);
  add_buckets(lowercase(fields.email), buckets);
  add_buckets(lowercase(fields.phone), buckets);
  add_buckets(digits_only(fields.phone), buckets);
  return ascending(std::move(buckets));
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
