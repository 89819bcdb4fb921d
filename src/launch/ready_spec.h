// The readiness SPEC of design.md, shared by bench, trace, prewarm record and
// run: exit | notify | tcp:HOST:PORT | listen | http:URL | log:REGEX.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace coldstart::launch {

enum class ProbeKind { kExit, kNotify, kTcp, kListen, kHttp, kLog };

/// ReadySpec is one parsed readiness SPEC; the launcher's probes interpret it.
struct ReadySpec {
  ProbeKind kind = ProbeKind::kExit;
  std::string host;        ///< tcp:, http:
  uint16_t port = 0;       ///< tcp:, http:
  std::string http_path;   ///< http: path + query ("/" when absent)
  std::string pattern;     ///< log: the regular expression (ECMAScript)
  std::string text;        ///< the SPEC as written

  /// Parses a SPEC; throws UserError naming the bad part.
  static ReadySpec parse(std::string_view text);
  /// "exit", "notify", "tcp:127.0.0.1:80", ...
  std::string to_string() const { return text; }
  bool polled() const { return kind == ProbeKind::kTcp || kind == ProbeKind::kListen || kind == ProbeKind::kHttp; }
};

}  // namespace coldstart::launch
