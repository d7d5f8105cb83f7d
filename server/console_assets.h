// ConsoleAssets: the web console's static files (console/ in the repository), embedded into
// ledgerd at build time (server/embed_console.cmake), looked up by the path a browser asks for.
// A lookup is in a fixed table of the embedded files' names: no file system, so no path a client
// sends ("/../", "%2e%2e", a symlink) can reach another file.
//
// Thread-safe: immutable after construction.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>

namespace ledger::server {

// One embedded file as the generated code holds it.
struct EmbeddedFile {
  const char* path;  // relative to console/, "/"-separated: "index.html", "js/app.js"
  const unsigned char* bytes;
  std::size_t size;
  const char* sha256_hex;  // of the bytes, computed at build time
};

// Every file of console/, sorted by path; defined by the generated code.
std::span<const EmbeddedFile> embedded_console_files();

// A file as it is served.
struct ConsoleAsset {
  std::string_view body;
  std::string_view content_type;
  std::string etag;  // strong: "\"" + the first 32 hex digits of the SHA-256 + "\""
};

class ConsoleAssets {
 public:
  // Serves `files`; they must outlive this object (the embedded ones are static).
  explicit ConsoleAssets(std::span<const EmbeddedFile> files = embedded_console_files());

  // The asset for a request target: "/" is index.html, "/console/PATH" is the file PATH;
  // a query string is ignored. nullptr for anything else.
  const ConsoleAsset* find(std::string_view target) const;

  // The Content-Type for a file name, by its extension; application/octet-stream if unknown.
  static std::string_view content_type_of(std::string_view path);

  // Whether an If-None-Match header value names `etag` (or is "*"); weak validators
  // (W/"...") match too, as RFC 9110 says for If-None-Match.
  static bool matches(std::string_view if_none_match, std::string_view etag);

 private:
  std::map<std::string, ConsoleAsset, std::less<>> by_target_;
};

}  // namespace ledger::server
