// Parsing of readiness SPECs and their error messages.
#include <gtest/gtest.h>

#include "core/error.h"
#include "launch/ready_spec.h"

namespace coldstart::launch {
namespace {

std::string error_of(const char* text) {
  try {
    ReadySpec::parse(text);
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ReadySpec, ParsesEveryKind) {
  EXPECT_EQ(ReadySpec::parse("exit").kind, ProbeKind::kExit);
  EXPECT_EQ(ReadySpec::parse("notify").kind, ProbeKind::kNotify);
  EXPECT_EQ(ReadySpec::parse("listen").kind, ProbeKind::kListen);
  auto tcp = ReadySpec::parse("tcp:127.0.0.1:8081");
  EXPECT_EQ(tcp.kind, ProbeKind::kTcp);
  EXPECT_EQ(tcp.host, "127.0.0.1");
  EXPECT_EQ(tcp.port, 8081);
  auto v6 = ReadySpec::parse("tcp:[::1]:80");
  EXPECT_EQ(v6.host, "::1");
  auto http = ReadySpec::parse("http://localhost:8081/users/1?x=y");
  EXPECT_EQ(http.kind, ProbeKind::kHttp);
  EXPECT_EQ(http.host, "localhost");
  EXPECT_EQ(http.port, 8081);
  EXPECT_EQ(http.http_path, "/users/1?x=y");
  EXPECT_EQ(ReadySpec::parse("http://example.org").port, 80);
  EXPECT_EQ(ReadySpec::parse("http://example.org").http_path, "/");
  EXPECT_EQ(ReadySpec::parse("log:listening on [0-9]+").pattern, "listening on [0-9]+");
}

TEST(ReadySpec, ErrorsNameTheBadPart) {
  EXPECT_EQ(error_of("tcp:host:99999"), "bad port '99999' (want 1-65535)");
  EXPECT_EQ(error_of("tcp:host"), "bad address 'host' (want HOST:PORT)");
  EXPECT_NE(error_of("log:([").find("bad REGEX '(['"), std::string::npos);
  EXPECT_NE(error_of("log:a{2,1}").find("at offset"), std::string::npos);  // PCRE2's reason and where
  EXPECT_NE(error_of("ready").find("unknown readiness SPEC 'ready'"), std::string::npos);
  EXPECT_EQ(error_of("log:"), "empty REGEX after log:");
}

}  // namespace
}  // namespace coldstart::launch
