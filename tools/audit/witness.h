// Witness files: an auditor's own record of the log's head (the last entry's seq and chain) at
// moments of their choosing, kept outside the data directory, and the check that the log still
// extends every recorded head. Whoever holds the data directory holds the HMAC keys too and can
// rewrite history consistently; they cannot make a rewritten log extend a head recorded
// before the rewrite (docs/tools.md, "Witness").
//
// One line per head, appended, never rewritten:
//   ledger-witness v1 seq=N chain=HEX64 at=TIME[ keyid=HEX64 sig=HEX128]
// A signature is Ed25519 over the line's text before " sig=" (tools/audit/witness_key.h).
// Functions are pure over their inputs apart from the file and reader they are given; they
// hold no state and may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "eventstore/crypto.h"
#include "eventstore/reader.h"
#include "tools/audit/witness_key.h"
#include "tools/common/server_session.h"

namespace ledger::tools {

// The log's head: the seq of its last entry and that entry's chain. An empty log has seq 0 and
// a chain of zeroes, the chain every log starts from.
struct WitnessHead {
  std::uint64_t seq = 0;
  eventstore::Digest chain{};
};

struct WitnessLine {
  std::size_t line = 0;  // 1-based line number in its file
  WitnessHead head;
  std::string at;         // when it was recorded, as written
  std::string keyid;      // empty when the line is not signed
  std::string signature;  // empty when the line is not signed
  std::string signed_text;  // the text a signature covers: the line before " sig="
};

// The head of the log a data directory (or a copy of a server's log) holds, read from its last
// entry. Throws ToolError when the entry that meta names as the last is missing.
WitnessHead head_of(const eventstore::Reader& reader);
// The head of a server's log: its next seq (stats), then the entry before it, read through a
// subscription. Throws as ServerSession does, ToolError when the entry does not come.
WitnessHead head_of(ServerSession& session);

// The line that records `head` at `at_us` (µs since the epoch), signed by `key` when it is not
// null (then it must be a private key). Without the newline.
std::string witness_line(const WitnessHead& head, std::int64_t at_us, const WitnessKey* key);

// Reads a witness file's lines. `name` names the file in errors. Throws ToolError
// ("NAME line N: why") at the first line that is not a witness line.
std::vector<WitnessLine> read_witness(std::istream& in, const std::string& name);

// Appends `line` and a newline to the file at `path` (created with mode 0644 when missing) in
// one write, and fsyncs the file, and its directory when the file was created. Checks first
// that whatever the file holds already is whole witness lines; never changes them. Throws
// ToolError when the file cannot be read or written, or holds anything else.
void append_witness(const std::string& path, const std::string& line);

struct WitnessCheck {
  bool ok = true;
  std::size_t heads = 0;         // recorded heads that the log extends
  std::size_t signed_heads = 0;  // of which signed
  bool signatures_checked = false;
  std::uint64_t highest_seq = 0;  // the highest seq among the heads checked
  std::size_t bad_line = 0;       // the first line that fails; 0 when ok
  std::string problem;            // why it fails; empty when ok
};

// For every line in order: with `key`, the line must be signed by it (keyid, then signature);
// the entry at the recorded seq must exist and carry the recorded chain. Stops at the first line
// that fails. Together with a verified chain from seq 1 to the head (verify_ledger) this proves
// that the log extends every recorded head. Throws CorruptionError when an entry is unreadable.
WitnessCheck check_witness(const eventstore::Reader& reader, const std::vector<WitnessLine>& lines,
                           const WitnessKey* key);

}  // namespace ledger::tools
