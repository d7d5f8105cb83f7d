// Runs a tool executable as a child process and returns its exit status, its stdout (the data a
// script would parse) and its whole output (stdout, then stderr). Paths to the executables come
// from CMake. For tests only.
#pragma once

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

namespace ledger::testing {

struct ToolRun {
  int status = -1;
  std::string output;  // stdout, then stderr
  std::string stdout_text;
};

// `args` is appended to the command line as is; callers quote paths they build themselves.
inline ToolRun run_tool(const std::string& executable, const std::string& args) {
  char stderr_path[] = "/tmp/ledger-tool-stderr-XXXXXX";
  const int fd = mkstemp(stderr_path);
  if (fd < 0) return {};
  close(fd);
  const std::string command = "'" + executable + "' " + args + " </dev/null 2>'" + stderr_path + "'";
  ToolRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe) {
    std::array<char, 4096> buffer{};
    std::size_t n = 0;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) run.stdout_text.append(buffer.data(), n);
    const int raw = pclose(pipe);
    run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  }
  std::ifstream errors(stderr_path, std::ios::binary);
  run.output = run.stdout_text + std::string(std::istreambuf_iterator<char>(errors), {});
  std::filesystem::remove(stderr_path);
  return run;
}

inline std::string quoted(const std::string& path) { return "'" + path + "'"; }

// Runs `executable --data DIR args`: a tool on a data directory.
inline ToolRun run_on_data(const std::string& executable, const std::filesystem::path& dir, const std::string& args) {
  return run_tool(executable, "--data " + quoted(dir.string()) + " " + args);
}

}  // namespace ledger::testing
