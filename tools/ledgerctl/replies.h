// How ledgerctl shows what the server answers: refusals on stderr (and as JSON on stdout with
// --json), customers as JSON objects, the outcome of a write. Writes to std::cout and std::cerr;
// not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "ledger/client/client.h"
#include "tools/ledgerctl/command.h"

namespace ledger::ledgerctl {

// Printed after the outcome of a command whose key the ledger had seen before.
constexpr std::string_view kReplayedNote = " (already done earlier with this request key)";

// Reports a refusal or connection-level error from the server: the message on stderr, with
// --json the error as JSON on stdout. Returns the exit code: kNoAccess when the token is unknown
// or its role may not send the request, kRefused otherwise.
int report_error(const Globals& globals, protocol::Error::Reader error);

// Shows the outcome of create or edit, "<verb> customer N (revision R)", or reports its refusal.
// Returns the exit code.
int show_written(const Globals& globals, client::Reply& reply, const char* verb);

boost::json::object customer_object(protocol::Customer::Reader customer);

// One compact JSON document on one line of stdout.
void print_json(const boost::json::value& value);

// "1, 2, 3".
std::string join_numbers(capnp::List<std::uint64_t>::Reader numbers);
std::string join_numbers(const std::vector<std::uint64_t>& numbers);

}  // namespace ledger::ledgerctl
