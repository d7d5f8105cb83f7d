// The tools print their data (tables, JSON) on stdout; what the libraries log (an erasure pass's
// outcome, a pending erasure found at open) goes to stderr so that it never mixes into that data.
#pragma once

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace ledger::tools {

inline void log_to_stderr(const char* tool) { spdlog::set_default_logger(spdlog::stderr_color_mt(tool)); }

}  // namespace ledger::tools
