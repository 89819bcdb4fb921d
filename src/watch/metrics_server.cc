// /metrics over HTTP/1.1 with cpp-httplib. The content type is the text
// exposition format's (version=0.0.4), which Prometheus 2.x asks for first.
// Bind errors surface before the agent reports itself attached, so a taken
// port is one error line and exit 2, not a silent agent without an endpoint.
#include "watch/metrics_server.h"

#include <httplib.h>

#include <charconv>

#include "core/error.h"
#include "watch/metrics.h"

namespace coldstart::watch {

std::pair<std::string, uint16_t> parse_listen_address(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size())
    throw UserError("--listen " + text + ": expected HOST:PORT (e.g. 127.0.0.1:9477)");
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) throw UserError("--listen " + text + ": empty host");
  unsigned port = 0;
  std::string_view digits(text.data() + colon + 1, text.size() - colon - 1);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || port > 65535)
    throw UserError("--listen " + text + ": bad port '" + std::string(digits) + "'");
  return {host, static_cast<uint16_t>(port)};
}

MetricsServer::MetricsServer(const std::string& listen, const Metrics& metrics)
    : server_(std::make_unique<httplib::Server>()) {
  auto [host, port] = parse_listen_address(listen);
  server_->Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.exposition(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("coldstart watch: see /metrics\n", "text/plain");
  });
  int bound = port;
  if (port == 0) {
    bound = server_->bind_to_any_port(host);
    if (bound < 0) throw UserError("watch: cannot listen on " + listen);
  } else if (!server_->bind_to_port(host, port)) {
    throw UserError("watch: cannot listen on " + listen + " (address in use or not local)");
  }
  std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  endpoint_ = "http://" + shown + ":" + std::to_string(bound) + "/metrics";
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

MetricsServer::~MetricsServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace coldstart::watch
