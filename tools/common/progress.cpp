#include "tools/common/progress.h"

#include <cstdio>

#include <unistd.h>

namespace ledger::tools {

Progress::Progress(std::string label, std::uint64_t total)
    : label_(std::move(label)), total_(total), visible_(isatty(STDERR_FILENO) == 1) {}

Progress::~Progress() {
  if (drawn_) std::fputs("\r\033[K", stderr);
}

void Progress::update(std::uint64_t done) {
  if (!visible_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100) && done != total_) return;
  last_ = now;
  drawn_ = true;
  if (total_ == 0) {
    std::fprintf(stderr, "\r\033[K%s: %llu", label_.c_str(), static_cast<unsigned long long>(done));
  } else {
    constexpr int kWidth = 30;
    const double part = done >= total_ ? 1.0 : static_cast<double>(done) / static_cast<double>(total_);
    const int filled = static_cast<int>(part * kWidth);
    std::fprintf(stderr, "\r\033[K%s [%.*s%*s] %llu/%llu", label_.c_str(), filled, "==============================",
                 kWidth - filled, "", static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_));
  }
  std::fflush(stderr);
}

}  // namespace ledger::tools
