#include "core/file.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fcntl.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "test_util.h"

namespace coldstart {
namespace {

TEST(Mapping, MapsRegularFileAndRefusesOthers) {
  test::TempDir dir;
  std::string f = dir.path() + "/f";
  write_file_atomic(f, "hello");
  Mapping m = Mapping::map_file(f);
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(static_cast<char>(m.bytes()[0]), 'h');

  EXPECT_THROW(Mapping::map_file(dir.path()), UserError);
  EXPECT_THROW(Mapping::map_file(dir.path() + "/missing"), UserError);
  std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THROW(Mapping::map_file(fifo), UserError);  // must not hang waiting for a writer

  std::string empty = dir.path() + "/empty";
  write_file_atomic(empty, "");
  EXPECT_EQ(Mapping::map_file(empty).size(), 0u);
}

TEST(WriteFileAtomic, LeavesNoPartialFileOnFailure) {
  test::TempDir dir;
  EXPECT_THROW(write_file_atomic(dir.path() + "/no/such/dir/x", "data"), UserError);
  std::string f = dir.path() + "/x";
  write_file_atomic(f, "one");
  write_file_atomic(f, "two");
  EXPECT_EQ(*read_text_file(f), "two");
}

// `-o /dev/null` once renamed a temp file over the device node (as root).
TEST(WriteFileAtomic, WritesThroughADeviceOrFifoInsteadOfReplacingIt) {
  write_file_atomic("/dev/null", "discarded");
  struct stat st {};
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  test::TempDir dir;
  std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int rd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(rd, 0);
  write_file_atomic(fifo, "through");
  char buf[16] = {};
  EXPECT_EQ(::read(rd, buf, sizeof buf), 7);
  ::close(rd);
  ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_THROW(write_file_atomic(dir.path(), "x"), UserError);
}

TEST(Errors, NameTheCallObjectAndErrno) {
  try {
    open_or_throw("/nonexistent/coldstart", 0);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_STREQ(e.what(), "open /nonexistent/coldstart: No such file or directory");
  }
}

}  // namespace
}  // namespace coldstart
