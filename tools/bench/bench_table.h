// The table in docs/performance.md: one row per ledger-bench --json result. Pure.
#pragma once

#include <string>
#include <vector>

namespace ledger::bench {

// `results`: JSON objects as ledger-bench --json prints them, one per string, in run order.
// Returns a Markdown table; a line that is not such an object becomes a row saying so.
std::string markdown_table(const std::vector<std::string>& results);

}  // namespace ledger::bench
