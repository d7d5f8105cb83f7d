// Runs a tool executable as a child process and returns its exit status and output (stdout
// and stderr together). Paths to the executables come from CMake. For tests only.
#pragma once

#include <array>
#include <cstdio>
#include <string>

#include <sys/wait.h>

namespace ledger::testing {

struct ToolRun {
  int status = -1;
  std::string output;
};

// `args` is appended to the command line as is; callers quote paths they build themselves.
inline ToolRun run_tool(const std::string& executable, const std::string& args) {
  const std::string command = "'" + executable + "' " + args + " </dev/null 2>&1";
  ToolRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return run;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) run.output.append(buffer.data(), n);
  const int raw = pclose(pipe);
  run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return run;
}

inline std::string quoted(const std::string& path) { return "'" + path + "'"; }

}  // namespace ledger::testing
