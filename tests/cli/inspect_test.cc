// End-to-end `coldstart inspect`: JSON schema fields on the fixtures, the
// human view, and bad input (one line, exit 2, nothing on stdout).
#include <unistd.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace coldstart {
namespace {

using nlohmann::json;

std::string cs() { return test::coldstart_binary(); }

json inspect_json(const std::string& args) {
  auto r = test::run_shell(cs() + " inspect --json " + args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  return json::parse(r.out);
}

TEST(InspectCli, JsonDescribesEveryFixture) {
  std::string args;
  for (const char* n : {"user-service", "go-user-service-static", "go-user-service-pie", "noop-static"})
    args += " '" + test::fixture(n) + "'";
  json doc = inspect_json(args);
  EXPECT_EQ(doc["schema"], "coldstart.inspect/1");
  ASSERT_EQ(doc["files"].size(), 4u);
  const json& cpp = doc["files"][0];
  EXPECT_EQ(cpp["type"], "pie");
  EXPECT_EQ(cpp["static"], false);
  EXPECT_EQ(cpp["interpreter"], "/lib64/ld-linux-x86-64.so.2");
  EXPECT_FALSE(cpp["libraries"].empty());
  EXPECT_TRUE(cpp["unresolved"].empty());
  EXPECT_EQ(cpp["service_hints"]["notify_socket"], true);
  EXPECT_EQ(cpp["go"], nullptr);
  const json& go_static = doc["files"][1];
  EXPECT_EQ(go_static["type"], "executable");
  EXPECT_EQ(go_static["static"], true);
  EXPECT_EQ(go_static["interpreter"], nullptr);
  EXPECT_TRUE(go_static["libraries"].empty());
  EXPECT_EQ(go_static["go"]["settings"]["CGO_ENABLED"], "0");
  EXPECT_TRUE(go_static["go"]["version"].get<std::string>().starts_with("go1."));
  const json& go_pie = doc["files"][2];
  const json& rel = go_pie["census"]["relocations"];
  EXPECT_GT(rel["relative"].get<uint64_t>(), 1000u);
  EXPECT_EQ(rel["total"].get<uint64_t>(), rel["relative"].get<uint64_t>() + rel["glob_dat"].get<uint64_t>() +
                                              rel["jump_slot"].get<uint64_t>() + rel["irelative"].get<uint64_t>() +
                                              rel["other"].get<uint64_t>() + rel["relr_relocations"].get<uint64_t>());
  bool pie_finding = false;
  for (const auto& f : go_pie["findings"])
    if (f["id"] == "pie-relocations")
      pie_finding = f["summary"].get<std::string>().find("relocations") != std::string::npos;
  EXPECT_TRUE(pie_finding) << go_pie["findings"].dump();
  EXPECT_EQ(doc["files"][3]["service_hints"]["notify_socket"], false);
}

TEST(InspectCli, HumanOutputShowsTreeAndFindings) {
  auto r = test::run_shell(cs() + " inspect '" + test::fixture("go-user-service-pie") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ELF64 x86-64 pie, dynamic, interpreter /lib64/ld-linux-x86-64.so.2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("libc.so.6 => /"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("findings:\n    - PIE: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Go go1."), std::string::npos) << r.out;
}

TEST(InspectCli, ExportJsonWritesTheSameDocument) {
  test::TempDir dir;
  std::string out = dir.path() + "/inspect.json";
  auto r = test::run_shell(cs() + " inspect --json --export-json '" + out + "' '" + test::fixture("noop-static") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), json::parse(test::run_shell("cat '" + out + "'").out));
}

// One line on stderr, exit 2, nothing on stdout, no export file left behind.
void expect_bad_input(const std::string& args, const std::string& fragment) {
  test::TempDir dir;
  std::string out = dir.path() + "/out.json";
  auto r = test::run_shell(cs() + " inspect --export-json '" + out + "' " + args);
  EXPECT_EQ(r.exit_code, 2) << args;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_TRUE(r.err.starts_with("coldstart: error: ")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
  EXPECT_NE(::access(out.c_str(), F_OK), 0) << "partial export left behind";
}

TEST(InspectCli, BadInputIsOneLineExit2) {
  test::TempDir dir;
  const std::string d = dir.path();
  expect_bad_input("'" + d + "/missing'", "No such file or directory");
  expect_bad_input("'" + d + "'", "is a directory");
  expect_bad_input("/etc/passwd", "not an ELF file");
  test::run_shell("head -c 5000 '" + test::fixture("user-service") + "' > '" + d + "/cut'");
  expect_bad_input("'" + d + "/cut'", "corrupt or truncated ELF");
  // A 32-bit ELF header (i386) written by hand.
  test::run_shell("printf '\\177ELF\\001\\001\\001' > '" + d + "/elf32'; head -c 57 /dev/zero >> '" + d + "/elf32'");
  expect_bad_input("'" + d + "/elf32'", "unsupported ELF: 32-bit");
  // A good file and a bad one: nothing is printed for the good one either.
  expect_bad_input("'" + test::fixture("noop-static") + "' /etc/passwd", "/etc/passwd: not an ELF file");
  expect_bad_input("", "FILE is required");
}

TEST(InspectCli, MissingLibraryIsReportedNotAnError) {
  // The binary is fine; its library is gone: exit 0, the library listed as
  // unresolved with a finding, exactly what ldd calls "not found".
  test::TempDir dir;
  const std::string d = dir.path();
  auto gcc = test::run_shell("cd '" + d + "' && echo 'int leaf(void){return 1;}' > l.c && "
                             "gcc -shared -fPIC -o libgone.so l.c && echo 'int main(void){return 0;}' > m.c && "
                             "gcc -o app m.c -Wl,--no-as-needed -L. -lgone && rm libgone.so");
  ASSERT_EQ(gcc.exit_code, 0) << gcc.err;
  auto r = test::run_shell(cs() + " inspect --json '" + d + "/app'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json file = json::parse(r.out)["files"][0];
  ASSERT_EQ(file["unresolved"].size(), 1u) << file["unresolved"].dump();
  EXPECT_EQ(file["unresolved"][0]["name"], "libgone.so");
  EXPECT_EQ(file["unresolved"][0]["reason"], "not found");
  bool finding = false;
  for (const auto& f : file["findings"]) finding = finding || f["id"] == "unresolved";
  EXPECT_TRUE(finding);
  EXPECT_NE(test::run_shell("ldd '" + d + "/app'").out.find("libgone.so => not found"), std::string::npos);
}

TEST(InspectCli, UnreadableFileIsOneLineExit2) {
  // Root reads any file, so drop to nobody for this one (setpriv, util-linux).
  if (test::run_shell("command -v setpriv").exit_code != 0) GTEST_SKIP() << "setpriv not installed";
  test::TempDir dir;
  std::string f = dir.path() + "/secret";
  test::run_shell("cp '" + test::fixture("noop-static") + "' '" + f + "' && chmod 000 '" + f + "' && chmod 755 '" +
                  dir.path() + "' && chmod 755 " + test::fixture("") + " && cp " + cs() + " '" + dir.path() + "/cs'");
  auto r = test::run_shell("setpriv --reuid=65534 --regid=65534 --clear-groups '" + dir.path() + "/cs' inspect '" + f + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "coldstart: error: open " + f + ": Permission denied\n");
  EXPECT_TRUE(r.out.empty());
}

}  // namespace
}  // namespace coldstart

namespace coldstart {
namespace {

// The Go function table in inspect: count and source, and the findings that
// use it; a stripped copy keeps it (and says trace will use it).
TEST(InspectCli, GoFunctionsFromPclntab) {
  json pie = inspect_json(test::fixture("go-user-service-pie"))["files"][0];
  ASSERT_TRUE(pie["go_functions"].is_object()) << pie.dump();
  EXPECT_EQ(pie["go_functions"]["source"], "moduledata");
  EXPECT_GT(pie["go_functions"]["count"].get<uint64_t>(), 1000u);
  EXPECT_TRUE(pie["go_functions"]["main_main"].get<bool>());
  bool inits = false;
  for (const auto& f : pie["findings"]) inits = inits || f["id"] == "go-package-inits";
  EXPECT_TRUE(inits);

  test::TempDir dir;
  std::string stripped = dir.path() + "/go-stripped";
  ASSERT_EQ(test::run_shell("strip -s -o " + stripped + " " + test::fixture("go-user-service-static")).exit_code, 0);
  test::CommandResult r = test::run_shell(test::coldstart_binary() + " inspect " + stripped);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Go functions: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("from the .gopclntab section"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("trace places main.main from the pclntab"), std::string::npos) << r.out;
  // Not Go: no such line.
  EXPECT_TRUE(inspect_json(test::fixture("user-service"))["files"][0]["go_functions"].is_null());
}

}  // namespace
}  // namespace coldstart
