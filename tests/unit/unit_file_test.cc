// The unit-file syntax layer: sections, positions, continuations, comments,
// repeated keys, list resets, drop-ins, and the errors systemd refuses with.
#include "unit/unit_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace coldstart::unit {
namespace {

UnitFile parse(std::string_view text, const std::string& name = "web.service") {
  UnitFile u;
  u.parse(text, name);
  return u;
}

void write(const std::string& path, std::string_view text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

TEST(UnitFile, SectionsKeysAndPositions) {
  auto u = parse("[Unit]\nDescription = A web service \n\n[Service]\n  Type=notify\nExecStart=/usr/bin/web --port 80\n");
  ASSERT_EQ(u.entries().size(), 3u);
  const UnitEntry& d = u.entries()[0];
  EXPECT_EQ(d.section, "Unit");
  EXPECT_EQ(d.key, "Description");
  EXPECT_EQ(d.value, "A web service");
  EXPECT_EQ(to_string(d.key_pos), "web.service:2:1");
  EXPECT_EQ(to_string(d.value_pos), "web.service:2:15");
  const UnitEntry* t = u.last("Service", "Type");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->value, "notify");
  EXPECT_EQ(to_string(t->key_pos), "web.service:5:3");
  EXPECT_EQ(to_string(t->value_pos), "web.service:5:8");
  EXPECT_TRUE(u.has_section("Service"));
  EXPECT_FALSE(u.has_section("Socket"));
  EXPECT_EQ(u.sections()[1].pos.line, 4);
  EXPECT_EQ(u.last("Unit", "Type"), nullptr);
}

TEST(UnitFile, ValueIsKeptRawWithQuotesAndBackslashes) {
  auto u = parse("[Service]\nEnvironment=\"A=1 2\" B=\\x41\n");
  EXPECT_EQ(u.last("Service", "Environment")->value, "\"A=1 2\" B=\\x41");
}

TEST(UnitFile, ContinuationJoinsWithASpaceAndSkipsCommentLines) {
  auto u = parse(
      "[Service]\n"
      "ExecStart=/bin/web \\\n"
      "# a comment inside the continuation\n"
      "   --a 1 \\\n"
      "; another\n"
      "--b 2\n"
      "Type=simple\n");
  const UnitEntry* e = u.last("Service", "ExecStart");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->value, "/bin/web     --a 1  --b 2");
  // "--b" came from line 6, column 1; "--a" from line 4, column 4.
  EXPECT_EQ(to_string(e->pos_at(e->value.find("--b"))), "web.service:6:1");
  EXPECT_EQ(to_string(e->pos_at(e->value.find("--a"))), "web.service:4:4");
  EXPECT_EQ(u.last("Service", "Type")->key_pos.line, 7);
}

TEST(UnitFile, EscapedBackslashAtLineEndIsNotAContinuation) {
  auto u = parse("[Service]\nA=x\\\\\nB=y\n");
  EXPECT_EQ(u.last("Service", "A")->value, "x\\\\");
  EXPECT_EQ(u.last("Service", "B")->value, "y");
}

TEST(UnitFile, RepeatedKeysLastWinsAndEmptyResetsList) {
  auto u = parse(
      "[Service]\nTimeoutStartSec=10\nTimeoutStartSec=20\n"
      "Environment=A=1\nEnvironment=B=2\nEnvironment=\nEnvironment=C=3\nEnvironment=D=4\n");
  EXPECT_EQ(u.last("Service", "TimeoutStartSec")->value, "20");
  EXPECT_EQ(u.all("Service", "TimeoutStartSec").size(), 2u);
  auto env = u.list("Service", "Environment");
  ASSERT_EQ(env.size(), 2u);
  EXPECT_EQ(env[0]->value, "C=3");
  EXPECT_EQ(env[1]->value, "D=4");
}

TEST(UnitFile, CrlfLineEndingsAndByteOrderMark) {
  auto u = parse("\xEF\xBB\xBF[Service]\r\nType=exec\r\nUser=web\r\n");
  EXPECT_EQ(u.last("Service", "Type")->value, "exec");
  EXPECT_EQ(u.last("Service", "User")->key_pos.line, 3);
}

TEST(UnitFile, IgnoredLinesAreIssuesWithPositions) {
  auto u = parse("Type=notify\n[Service]\nthis line has no equals\n=value\nType=exec\n");
  ASSERT_EQ(u.issues().size(), 3u);
  EXPECT_EQ(to_string(u.issues()[0].pos), "web.service:1:1");
  EXPECT_NE(u.issues()[0].message.find("outside of any section"), std::string::npos);
  EXPECT_EQ(u.issues()[1].pos.line, 3);
  EXPECT_NE(u.issues()[1].message.find("missing '='"), std::string::npos);
  EXPECT_EQ(u.issues()[2].pos.line, 4);
  EXPECT_EQ(u.last("Service", "Type")->value, "exec");
}

TEST(UnitFile, UnterminatedSectionHeaderIsASyntaxErrorWithPosition) {
  try {
    parse("[Unit]\nDescription=x\n  [Service\nType=simple\n");
    FAIL() << "no error";
  } catch (const UnitSyntaxError& e) {
    EXPECT_EQ(to_string(e.pos()), "web.service:3:3");
    EXPECT_STREQ(e.what(), "web.service:3:3: invalid section header '[Service'");
  }
  EXPECT_THROW(parse("[Ser\"vice]\n"), UnitSyntaxError);
  EXPECT_THROW(parse(std::string_view("[Service]\nA=b\0c\n", 14)), UnitSyntaxError);
}

TEST(UnitFile, EmptyAndCommentOnlyFilesHaveNoEntries) {
  EXPECT_TRUE(parse("").entries().empty());
  EXPECT_TRUE(parse("# only\n; comments\n\n").entries().empty());
  // A continuation running into the end of the file is still parsed.
  EXPECT_EQ(parse("[Service]\nA=x \\").last("Service", "A")->value, "x");
}

TEST(UnitFile, DropinsMergeInLexicalOrderAfterTheUnit) {
  test::TempDir dir;
  std::string unit = dir.path() + "/web.service";
  write(unit, "[Service]\nType=simple\nTimeoutStartSec=5\nEnvironment=A=1\n");
  write(dir.path() + "/web.service.d/20-b.conf", "[Service]\nTimeoutStartSec=20\n");
  write(dir.path() + "/web.service.d/10-a.conf", "[Service]\nTimeoutStartSec=10\nType=notify\n");
  write(dir.path() + "/web.service.d/30-env.conf", "[Service]\nEnvironment=\nEnvironment=B=2\n");
  write(dir.path() + "/web.service.d/README", "not a drop-in");
  // A type-wide drop-in comes first and is overridden by the unit's own.
  write(dir.path() + "/service.d/10-a.conf", "[Service]\nUser=hidden\n");
  write(dir.path() + "/service.d/05-all.conf", "[Service]\nUser=everyone\n");
  UnitFile u = UnitFile::load(unit);
  ASSERT_EQ(u.dropins().size(), 4u);
  EXPECT_TRUE(u.dropins()[0].ends_with("service.d/05-all.conf"));
  EXPECT_TRUE(u.dropins()[1].ends_with("web.service.d/10-a.conf"));
  EXPECT_TRUE(u.dropins()[3].ends_with("web.service.d/30-env.conf"));
  EXPECT_EQ(u.last("Service", "TimeoutStartSec")->value, "20");
  EXPECT_TRUE(u.last("Service", "TimeoutStartSec")->key_pos.file.ends_with("20-b.conf"));
  EXPECT_EQ(u.last("Service", "Type")->value, "notify");
  EXPECT_EQ(u.last("Service", "User")->value, "everyone");
  auto env = u.list("Service", "Environment");
  ASSERT_EQ(env.size(), 1u);
  EXPECT_EQ(env[0]->value, "B=2");
  EXPECT_EQ(u.name(), "web.service");
  EXPECT_EQ(UnitFile::load(unit, false).dropins().size(), 0u);
}

TEST(UnitFile, TemplateDropinsApplyToInstancesAndDevNullMasks) {
  test::TempDir dir;
  std::string unit = dir.path() + "/api@blue.service";
  write(unit, "[Service]\nType=simple\n");
  write(dir.path() + "/api@.service.d/10-type.conf", "[Service]\nType=notify\n");
  write(dir.path() + "/api@.service.d/20-masked.conf", "[Service]\nType=oneshot\n");
  std::filesystem::create_directories(dir.path() + "/api@blue.service.d");
  std::filesystem::create_symlink("/dev/null", dir.path() + "/api@blue.service.d/20-masked.conf");
  UnitFile u = UnitFile::load(unit);
  ASSERT_EQ(u.dropins().size(), 1u);
  EXPECT_EQ(u.last("Service", "Type")->value, "notify");
}

TEST(UnitFile, SyntaxErrorInADropinNamesTheDropin) {
  test::TempDir dir;
  write(dir.path() + "/x.service", "[Service]\nType=simple\n");
  write(dir.path() + "/x.service.d/bad.conf", "[Service\n");
  try {
    UnitFile::load(dir.path() + "/x.service");
    FAIL();
  } catch (const UnitSyntaxError& e) {
    EXPECT_TRUE(e.pos().file.ends_with("x.service.d/bad.conf")) << e.what();
    EXPECT_EQ(e.pos().line, 1);
  }
}

TEST(UnitFile, MissingFileIsAUserError) {
  EXPECT_THROW(UnitFile::load("/nonexistent/x.service"), UserError);
}

}  // namespace
}  // namespace coldstart::unit
