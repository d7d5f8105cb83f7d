#include "tools/audit/witness.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>
#include <system_error>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "eventstore/event_log.h"
#include "tools/common/data_dir.h"
#include "tools/common/log_json.h"

namespace ledger::tools {
namespace {

constexpr std::string_view kMagic = "ledger-witness v1";

// "seq=12" with key "seq" gives "12"; nullopt when the token is not key=something.
std::optional<std::string_view> value_of(std::string_view token, std::string_view key) {
  if (token.size() <= key.size() + 1 || token.substr(0, key.size()) != key || token[key.size()] != '=') return std::nullopt;
  return token.substr(key.size() + 1);
}

std::vector<std::string_view> split_spaces(std::string_view text) {
  std::vector<std::string_view> tokens;
  std::size_t start = 0;
  for (;;) {
    const auto space = text.find(' ', start);
    tokens.push_back(text.substr(start, space == std::string_view::npos ? std::string_view::npos : space - start));
    if (space == std::string_view::npos) return tokens;
    start = space + 1;
  }
}

bool lowercase_hex(std::string_view text, std::size_t digits) {
  return text.size() == digits &&
         text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// Why `text` is not a witness line; empty when it is one, and then `out` holds it.
std::string parse_line(std::string_view text, WitnessLine& out) {
  if (text.substr(0, kMagic.size() + 1) != std::string(kMagic) + " ") return "does not begin with \"ledger-witness v1 \"";
  const auto tokens = split_spaces(text.substr(kMagic.size() + 1));
  if (tokens.size() != 3 && tokens.size() != 5) {
    return "expected seq=N chain=HEX at=TIME and optionally keyid=HEX sig=HEX, separated by single spaces";
  }
  const auto seq = value_of(tokens[0], "seq");
  if (!seq) return "the first field is not seq=N";
  auto [end, ec] = std::from_chars(seq->data(), seq->data() + seq->size(), out.head.seq);
  if (ec != std::errc() || end != seq->data() + seq->size() || (seq->size() > 1 && (*seq)[0] == '0')) {
    return "seq is not a number";
  }
  const auto chain = value_of(tokens[1], "chain");
  if (!chain || !lowercase_hex(*chain, 64) || !digest_from_hex(*chain, out.head.chain)) {
    return "the second field is not chain= and 64 lowercase hex digits";
  }
  const auto at = value_of(tokens[2], "at");
  if (!at || !parse_time(*at)) return "the third field is not at=TIME (2024-05-01T12:00:00.000000Z)";
  out.at = std::string(*at);
  if (tokens.size() == 5) {
    const auto keyid = value_of(tokens[3], "keyid");
    if (!keyid || !lowercase_hex(*keyid, 64)) return "the fourth field is not keyid= and 64 lowercase hex digits";
    const auto sig = value_of(tokens[4], "sig");
    if (!sig || !lowercase_hex(*sig, 128)) return "the fifth field is not sig= and 128 lowercase hex digits";
    out.keyid = std::string(*keyid);
    out.signature = std::string(*sig);
    out.signed_text = std::string(text.substr(0, text.size() - sig->size() - std::string_view(" sig=").size()));
  } else {
    out.signed_text = std::string(text);
  }
  return {};
}

}  // namespace

WitnessHead head_of(const eventstore::Reader& reader) {
  const auto next = eventstore::load_head(reader).next_seq;
  if (next <= 1) return {};
  const auto last = eventstore::read_entry(reader, next - 1);
  if (!last) throw ToolError(fmt::format("the log's last entry {} is missing; run verify", next - 1));
  return {last->seq, last->chain};
}

WitnessHead head_of(ServerSession& session) {
  const auto next = session.next_seq();
  if (next <= 1) return {};
  const auto subscription = session.send([&](protocol::Request::Builder r) { r.initSubscribe().setFromSeq(next - 1); });
  for (;;) {
    auto reply = session.receive();
    auto response = reply.get();
    if (response.getId() != subscription) continue;
    if (response.isError()) throw ToolError("the server refused to send the log's head: " + describe_error(response.getError()));
    if (!response.isEntry()) continue;
    const auto entry = envelope_from(response.getEntry());
    if (entry.seq != next - 1) {
      throw ToolError(fmt::format("the server sent entry {} where {} was due", entry.seq, next - 1));
    }
    return {entry.seq, entry.chain};
  }
}

std::string witness_line(const WitnessHead& head, std::int64_t at_us, const WitnessKey* key) {
  auto line = fmt::format("{} seq={} chain={} at={}", kMagic, head.seq, eventstore::to_hex(head.chain), format_time(at_us));
  if (!key) return line;
  line += " keyid=" + key->id();
  return line + " sig=" + key->sign(line);
}

std::vector<WitnessLine> read_witness(std::istream& in, const std::string& name) {
  std::vector<WitnessLine> lines;
  std::string text;
  for (std::size_t number = 1; std::getline(in, text); ++number) {
    WitnessLine line;
    line.line = number;
    if (auto why = parse_line(text, line); !why.empty()) {
      throw ToolError(fmt::format("{} line {}: not a witness line: {}", name, number, why));
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

void append_witness(const std::string& path, const std::string& line) {
  const bool created = !std::filesystem::exists(path);
  if (!created) {
    std::ifstream existing(path, std::ios::binary);
    if (!existing) throw ToolError("cannot read " + path);
    read_witness(existing, path);
    existing.clear();
    existing.seekg(0, std::ios::end);
    if (existing.tellg() > 0) {
      existing.seekg(-1, std::ios::end);
      if (existing.get() != '\n') {
        throw ToolError(path + ": the last line has no newline (a write was cut off?); repair the file before appending");
      }
    }
  }
  const auto fail = [&](const char* what) {
    return ToolError(fmt::format("cannot {} {}: {}", what, path, std::generic_category().message(errno)));
  };
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw fail("open");
  const std::string text = line + "\n";
  const auto written = ::write(fd, text.data(), text.size());
  if (written != static_cast<ssize_t>(text.size())) {
    const int error = written < 0 ? errno : EIO;
    ::close(fd);
    errno = error;
    throw fail("append to");
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    throw fail("fsync");
  }
  ::close(fd);
  if (created) {
    // The new file's name must survive a crash as well as its line.
    const auto parent = std::filesystem::absolute(path).parent_path();
    const int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0 || ::fsync(dir) != 0) {
      if (dir >= 0) ::close(dir);
      throw fail("fsync the directory of");
    }
    ::close(dir);
  }
}

WitnessCheck check_witness(const eventstore::Reader& reader, const std::vector<WitnessLine>& lines,
                           const WitnessKey* key) {
  WitnessCheck check;
  check.signatures_checked = key != nullptr;
  const auto last_seq = eventstore::load_head(reader).next_seq - 1;
  const auto failed = [&](const WitnessLine& line, std::string problem) {
    check.ok = false;
    check.bad_line = line.line;
    check.problem = std::move(problem);
    return check;
  };
  for (const auto& line : lines) {
    const bool is_signed = !line.signature.empty();
    if (key) {
      if (!is_signed) return failed(line, "the line is not signed, and --witness-key requires every line to be");
      if (line.keyid != key->id()) {
        return failed(line, fmt::format("signed by another key (keyid {}), not by the witness key (keyid {})", line.keyid, key->id()));
      }
      if (!key->verify(line.signed_text, line.signature)) {
        return failed(line, "the signature does not match the line: it was changed after signing");
      }
    }
    const auto& head = line.head;
    const auto recorded = fmt::format("the log no longer extends the head recorded at seq {} (chain {})", head.seq, eventstore::to_hex(head.chain));
    if (head.seq > last_seq) return failed(line, fmt::format("{}: entry missing: log ends at {}", recorded, last_seq));
    eventstore::Digest found{};
    if (head.seq > 0) {
      const auto entry = eventstore::read_entry(reader, head.seq);
      if (!entry) return failed(line, fmt::format("{}: entry missing", recorded));
      found = entry->chain;
    }
    if (found != head.chain) return failed(line, fmt::format("{}: found chain {}", recorded, eventstore::to_hex(found)));
    ++check.heads;
    if (is_signed) ++check.signed_heads;
    check.highest_seq = std::max(check.highest_seq, head.seq);
  }
  return check;
}

}  // namespace ledger::tools
