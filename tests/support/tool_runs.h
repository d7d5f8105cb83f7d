// ledger-audit and ledger-admin run as programs on a test Ledger's data directory (the tests of
// the tools and of history rewritten behind the ledger's back). The test's CMake target defines
// LEDGER_AUDIT_PATH and LEDGER_ADMIN_PATH. For tests only.
#pragma once

#include <string>

#include "support/ledger_fixture.h"
#include "support/run_tool.h"

namespace ledger::testing {

// `ledger-audit --data <ledger's data> args`.
inline ToolRun audit(const Ledger& ledger, const std::string& args) {
  return run_on_data(LEDGER_AUDIT_PATH, ledger.dir() / "data", args);
}

// `ledger-admin --data <ledger's data> args`.
inline ToolRun admin(const Ledger& ledger, const std::string& args) {
  return run_on_data(LEDGER_ADMIN_PATH, ledger.dir() / "data", args);
}

}  // namespace ledger::testing
