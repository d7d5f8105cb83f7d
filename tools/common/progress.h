// Progress of long work (scans, imports) on stderr: a line redrawn in place when stderr is a
// terminal, nothing otherwise, so that piped and logged output stays plain. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ledger::tools {

class Progress {
 public:
  // `total` 0 means unknown: the count is shown without a percentage.
  Progress(std::string label, std::uint64_t total);
  // Clears the line.
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Redraws at most ten times a second.
  void update(std::uint64_t done);
  void set_total(std::uint64_t total) { total_ = total; }
  bool visible() const { return visible_; }

 private:
  std::string label_;
  std::uint64_t total_;
  bool visible_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace ledger::tools
