#include "server/console_assets.h"

namespace ledger::server {

namespace {

constexpr std::string_view kPrefix = "/console/";

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

ConsoleAssets::ConsoleAssets(std::span<const EmbeddedFile> files) {
  for (const auto& file : files) {
    ConsoleAsset asset{std::string_view(reinterpret_cast<const char*>(file.bytes), file.size),
                       content_type_of(file.path), "\"" + std::string(file.sha256_hex).substr(0, 32) + "\""};
    const std::string path(file.path);
    if (path == "index.html") by_target_.emplace("/", asset);
    by_target_.emplace(std::string(kPrefix) + path, std::move(asset));
  }
}

const ConsoleAsset* ConsoleAssets::find(std::string_view target) const {
  target = target.substr(0, target.find('?'));
  auto it = by_target_.find(target);
  return it == by_target_.end() ? nullptr : &it->second;
}

std::string_view ConsoleAssets::content_type_of(std::string_view path) {
  if (ends_with(path, ".html")) return "text/html; charset=utf-8";
  if (ends_with(path, ".js")) return "text/javascript; charset=utf-8";
  if (ends_with(path, ".css")) return "text/css; charset=utf-8";
  if (ends_with(path, ".svg")) return "image/svg+xml";
  if (ends_with(path, ".png")) return "image/png";
  if (ends_with(path, ".ico")) return "image/x-icon";
  if (ends_with(path, ".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

bool ConsoleAssets::matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    const auto comma = if_none_match.find(',');
    auto candidate = trim(if_none_match.substr(0, comma));
    if (candidate == "*") return true;
    if (candidate.substr(0, 2) == "W/") candidate.remove_prefix(2);
    if (candidate == etag) return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace ledger::server
