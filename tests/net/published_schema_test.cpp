// The published schemas as a third party meets them: compiled by the capnp tool alone, with no
// import path but a directory holding nothing else.
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <capnp/schema.capnp.h>
#include <capnp/serialize.h>
#include <catch2/catch.hpp>

#include "support/temp_dir.h"

using namespace ledger;
using ledger::testing::TempDir;

namespace {

// What a client gets with the schemas alone.
const std::vector<std::string> kPublished = {"server/protocol.capnp", "domain/events.capnp"};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// `capnp compile -o-` of `schema` (one of kPublished) in a directory holding only copies of the
// published schemas, with that directory as the only import path (no /usr/include): the
// CodeGeneratorRequest it writes, as bytes; the compiler's complaints in `*errors`.
std::string compile_alone(const std::string& schema, std::string* errors) {
  TempDir dir;
  for (const auto& published : kPublished) {
    std::filesystem::create_directories((dir.path() / published).parent_path());
    std::filesystem::copy_file(std::string(LEDGER_SOURCE_DIR) + "/" + published, dir.path() / published);
  }
  const auto out = dir.path() / "request.bin", err = dir.path() / "errors.txt";
  const std::string command = "cd '" + dir.path().string() + "' && capnp compile --no-standard-import -I . -o- '" +
                              schema + "' > '" + out.string() + "' 2> '" + err.string() + "'";
  const int status = std::system(command.c_str());
  *errors = read_file(err);
  return status == 0 ? read_file(out) : std::string();
}

// A compiled CodeGeneratorRequest, kept with its bytes.
class Compiled {
 public:
  explicit Compiled(const std::string& bytes) : words_(kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word))) {
    REQUIRE(bytes.size() % sizeof(capnp::word) == 0);
    std::memcpy(words_.begin(), bytes.data(), bytes.size());
    reader_ = std::make_unique<capnp::FlatArrayMessageReader>(words_.asPtr());
  }
  capnp::schema::CodeGeneratorRequest::Reader get() { return reader_->getRoot<capnp::schema::CodeGeneratorRequest>(); }

 private:
  kj::Array<capnp::word> words_;
  std::unique_ptr<capnp::FlatArrayMessageReader> reader_;
};

}  // namespace

TEST_CASE("the published schemas compile with the capnp tool alone, importing nothing", "[schema]") {
  for (const auto& schema : kPublished) {
    CAPTURE(schema);
    std::string errors;
    const auto bytes = compile_alone(schema, &errors);
    INFO(errors);
    REQUIRE_FALSE(bytes.empty());
    CHECK(errors.empty());
    Compiled compiled(bytes);
    REQUIRE(compiled.get().getRequestedFiles().size() == 1);
    CHECK(compiled.get().getRequestedFiles()[0].getImports().size() == 0);
  }
}
