// The agent's /metrics endpoint (cpp-httplib), served from its own thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace coldstart::watch {

class Metrics;

/// "127.0.0.1:9477" or "[::1]:9477" -> {host, port}. Throws UserError.
std::pair<std::string, uint16_t> parse_listen_address(const std::string& text);

/// MetricsServer answers GET /metrics with metrics.exposition() from the
/// moment it is constructed (bound and listening) until it is destroyed
/// (stopped and joined). Port 0 picks a free port; endpoint() tells which.
class MetricsServer {
 public:
  /// Throws UserError when the address cannot be bound.
  MetricsServer(const std::string& listen, const Metrics& metrics);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  /// "http://127.0.0.1:9477/metrics"
  const std::string& endpoint() const { return endpoint_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string endpoint_;
};

}  // namespace coldstart::watch
