// Plain HTTP against a real ledgerd's --http port, for the integration tests: one request on a
// connection of its own, the whole answer back; and a sample read from a /metrics text.
// Reads fail after 30 s instead of hanging. For tests only.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <sys/socket.h>
#include <sys/time.h>

namespace ledger::testing {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;
using HttpAnswer = boost::beast::http::response<boost::beast::http::string_body>;

// `headers` are added to (or replace) Host and Content-Length. A write the server cuts short
// (it answered an oversized body before reading it) is not an error: its answer is read.
inline HttpAnswer http_exchange(std::uint16_t port, boost::beast::http::verb method, const std::string& target,
                                const std::string& body = "", const HttpHeaders& headers = {}) {
  namespace http = boost::beast::http;
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::address_v4::loopback(), port});
  timeval timeout{30, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  http::request<http::string_body> request{method, target, 11};
  request.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();
  boost::system::error_code ec;
  http::write(socket, request, ec);
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  parser.skip(method == http::verb::head);  // a HEAD answer has a length but no body
  http::read(socket, buffer, parser);
  return parser.release();
}

// The value of the sample `name` (labels included) in a /metrics text; -1 when absent.
inline double metric_sample(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

}  // namespace ledger::testing
