// confirm_purge: the question ledger-admin asks before a purge, with --data and with --server
// alike. Reads the answer from stdin; not thread-safe (it uses std::cin and std::cout).
#pragma once

#include <cstdint>
#include <iostream>
#include <string>

#include <fmt/format.h>
#include <unistd.h>

#include "tools/common/data_dir.h"

namespace ledger::tools {

// Asks whether to erase the `deleted` customers for good; true only when the answer is "yes".
// Throws ToolError when stdin is not a terminal: a purge cannot be undone, so it is never
// confirmed by whatever a pipe happens to hold (--yes is the way to skip the question).
inline bool confirm_purge(std::uint64_t deleted) {
  if (isatty(STDIN_FILENO) != 1) throw ToolError("purge cannot be undone; without a terminal to confirm on, pass --yes");
  std::cout << fmt::format("Cleanup old customers erases all {} deleted customers for good and frees their numbers.\n"
                           "This cannot be undone. Type yes to go on: ",
                           deleted);
  std::cout.flush();
  std::string answer;
  std::getline(std::cin, answer);
  if (answer == "yes") return true;
  std::cout << "nothing purged\n";
  return false;
}

}  // namespace ledger::tools
