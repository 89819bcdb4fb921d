// Parsing of readiness SPECs. Hosts are numeric or resolvable names; URLs are
// http:// only (the probe speaks plain HTTP/1.0 over TCP).
#include "launch/ready_spec.h"

#include <charconv>

#include "core/error.h"
#include "launch/log_pattern.h"

namespace coldstart::launch {
namespace {

uint16_t parse_port(std::string_view text) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v == 0 || v > 65535) {
    throw UserError("bad port '" + std::string(text) + "' (want 1-65535)");
  }
  return static_cast<uint16_t>(v);
}

// "HOST:PORT" or "[V6]:PORT".
void parse_host_port(std::string_view hp, ReadySpec& out) {
  size_t colon;
  if (hp.starts_with('[')) {
    size_t close = hp.find(']');
    if (close == std::string_view::npos || close + 1 >= hp.size() || hp[close + 1] != ':') {
      throw UserError("bad address '" + std::string(hp) + "' (want HOST:PORT)");
    }
    out.host = std::string(hp.substr(1, close - 1));
    colon = close + 1;
  } else {
    colon = hp.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      throw UserError("bad address '" + std::string(hp) + "' (want HOST:PORT)");
    }
    out.host = std::string(hp.substr(0, colon));
  }
  out.port = parse_port(hp.substr(colon + 1));
}

}  // namespace

ReadySpec ReadySpec::parse(std::string_view text) {
  ReadySpec s;
  s.text = std::string(text);
  if (text == "exit") {
    s.kind = ProbeKind::kExit;
  } else if (text == "notify") {
    s.kind = ProbeKind::kNotify;
  } else if (text == "listen") {
    s.kind = ProbeKind::kListen;
  } else if (text.starts_with("tcp:")) {
    s.kind = ProbeKind::kTcp;
    parse_host_port(text.substr(4), s);
  } else if (text.starts_with("http:")) {
    s.kind = ProbeKind::kHttp;
    std::string_view url = text.substr(5);
    // "http://HOST:PORT/PATH" is the usual form; "http:HOST:PORT/PATH" works too.
    if (url.starts_with("//")) url.remove_prefix(2);
    else if (url.starts_with("http://")) url.remove_prefix(7);
    size_t slash = url.find('/');
    std::string_view hp = url.substr(0, slash);
    s.http_path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
    if (hp.find(':') == std::string_view::npos) {
      if (hp.empty()) throw UserError("bad URL: no host");
      s.host = std::string(hp);
      s.port = 80;
    } else {
      parse_host_port(hp, s);
    }
  } else if (text.starts_with("log:")) {
    s.kind = ProbeKind::kLog;
    s.pattern = std::string(text.substr(4));
    if (s.pattern.empty()) throw UserError("empty REGEX after log:");
    LogPattern check(s.pattern);  // throws with PCRE2's reason
  } else {
    throw UserError("unknown readiness SPEC '" + std::string(text) +
                    "' (want exit, notify, tcp:HOST:PORT, listen, http:URL or log:REGEX)");
  }
  return s;
}

}  // namespace coldstart::launch
