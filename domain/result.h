// Result<T>: a value or an error message, for failures the caller must look at
// (corrupt bytes, bad input). Refusals of commands have their own type (refusal.h).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace ledger::domain {

struct Error {
  std::string message;
};

template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}            // NOLINT: implicit by design
  Result(Error error) : value_(std::move(error)) {}        // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(value_); }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const std::string& error() const { return std::get<Error>(value_).message; }

 private:
  std::variant<T, Error> value_;
};

}  // namespace ledger::domain
