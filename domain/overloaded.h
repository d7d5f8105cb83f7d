// Overloaded: builds one visitor for std::visit from several lambdas. Header-only; stateless.
#pragma once

namespace ledger::domain {

template <typename... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <typename... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace ledger::domain
