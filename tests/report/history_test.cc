// The SQLite history store: save and reload, errors that keep existing data,
// several processes writing at once, host facts and the git revision.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/file.h"
#include "report/history.h"
#include "test_util.h"

namespace coldstart::report {
namespace {

BenchSet sample_set(double base) {
  BenchSet set;
  set.commands.push_back({"/bin/svc-a", "cold", "notify", {base, base * 2, base * 3}, {0, 0, 1}});
  set.commands.push_back({"/bin/svc-b", "warm", "exit", {base / 2}, {0}});
  return set;
}

SessionFacts facts(double t) {
  SessionFacts f;
  f.created_at = t;
  f.git_revision = "0123456789abcdef0123456789abcdef01234567";
  f.host = {"host-1", "6.1.0", "Some CPU", "hybrid"};
  return f;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string expect_user_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no UserError";
  return {};
}

TEST(History, SaveAndReloadEverything) {
  test::TempDir dir;
  std::string path = dir.path() + "/sub/dir/history.db";  // parent directories are created
  {
    HistoryDb db = HistoryDb::open(path);
    EXPECT_GT(db.save("main", sample_set(0.01), facts(100)), 0);
    db.save("feature", sample_set(0.02), facts(200));
    db.save("main", sample_set(0.03), facts(300));
  }
  HistoryDb db = HistoryDb::open(path);
  auto all = db.sessions(false);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].label, "feature");
  EXPECT_TRUE(all[1].commands[0].times.empty());  // without runs
  auto mains = db.sessions_with_label("main");
  ASSERT_EQ(mains.size(), 2u);
  const Session& s = mains[0];
  EXPECT_DOUBLE_EQ(s.created_at, 100);
  EXPECT_EQ(s.git_revision, "0123456789abcdef0123456789abcdef01234567");
  EXPECT_EQ(s.host.hostname, "host-1");
  EXPECT_EQ(s.host.cpu_model, "Some CPU");
  EXPECT_EQ(s.host.cgroup_version, "hybrid");
  ASSERT_EQ(s.commands.size(), 2u);
  EXPECT_EQ(s.commands[0].command, "/bin/svc-a");
  EXPECT_EQ(s.commands[0].mode, "cold");
  EXPECT_EQ(s.commands[0].ready, "notify");
  EXPECT_EQ(s.commands[0].times, (std::vector<double>{0.01, 0.02, 0.03}));
  EXPECT_EQ(s.commands[0].exit_codes, (std::vector<int>{0, 0, 1}));
  auto latest = db.latest("main");
  ASSERT_TRUE(latest);
  EXPECT_DOUBLE_EQ(latest->created_at, 300);
  EXPECT_FALSE(db.latest("nope"));
}

TEST(History, UsesWalAndRecordsTheSchemaVersion) {
  test::TempDir dir;
  std::string path = dir.path() + "/h.db";
  HistoryDb::open(path);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  auto one = [&](const char* sql) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(raw, sql, -1, &st, nullptr);
    sqlite3_step(st);
    std::string v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
  };
  EXPECT_EQ(one("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(one("PRAGMA user_version"), "1");
  sqlite3_close(raw);
}

TEST(History, CorruptFileIsReportedAndLeftUntouched) {
  test::TempDir dir;
  std::string path = dir.path() + "/history.db";
  std::string garbage(8192, 'x');
  garbage.replace(0, 20, "this is no database\n");
  write_bytes(path, garbage);
  std::string msg = expect_user_error([&] { HistoryDb::open(path); });
  EXPECT_NE(msg.find("history database " + path + ": not a usable SQLite database"), std::string::npos) << msg;
  EXPECT_NE(msg.find("left untouched"), std::string::npos) << msg;
  EXPECT_EQ(read_text_file(path).value_or(""), garbage);
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST(History, CorruptPagesInsideAValidHeaderAreReported) {
  test::TempDir dir;
  std::string path = dir.path() + "/history.db";
  { HistoryDb::open(path).save("main", sample_set(0.01), facts(1)); }
  // Checkpoint the WAL into the main file, then overwrite the schema page's body.
  {
    sqlite3* raw = nullptr;
    sqlite3_open(path.c_str(), &raw);
    sqlite3_exec(raw, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr);
    sqlite3_close(raw);
  }
  std::string bytes = read_text_file(path).value();
  for (size_t i = 100; i < 4096 && i < bytes.size(); ++i) bytes[i] = '\xff';
  write_bytes(path, bytes);
  std::string msg = expect_user_error([&] { HistoryDb::open(path).sessions(true); });
  EXPECT_NE(msg.find("history database " + path + ": "), std::string::npos) << msg;
  EXPECT_EQ(read_text_file(path).value(), bytes);
}

TEST(History, ForeignSqliteDatabaseIsRefused) {
  test::TempDir dir;
  std::string path = dir.path() + "/other.db";
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  sqlite3_exec(raw, "CREATE TABLE t(x); INSERT INTO t VALUES(42);", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  std::string msg = expect_user_error([&] { HistoryDb::open(path); });
  EXPECT_NE(msg.find("not a coldstart history"), std::string::npos) << msg;
}

TEST(History, NewerSchemaIsRefused) {
  test::TempDir dir;
  std::string path = dir.path() + "/h.db";
  { HistoryDb::open(path).save("main", sample_set(0.01), facts(1)); }
  sqlite3* raw = nullptr;
  sqlite3_open(path.c_str(), &raw);
  sqlite3_exec(raw, "PRAGMA user_version = 7", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  std::string msg = expect_user_error([&] { HistoryDb::open(path); });
  EXPECT_NE(msg.find("schema version 7 is newer"), std::string::npos) << msg;
}

TEST(History, LockedDatabaseFailsClearlyAndKeepsItsData) {
  test::TempDir dir;
  std::string path = dir.path() + "/h.db";
  HistoryDb db = HistoryDb::open(path, 200);
  db.save("main", sample_set(0.01), facts(1));
  // Another connection holds the write lock (as another coldstart mid-save would).
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE; INSERT INTO sessions(label, created_at) VALUES('x', 2);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  std::string msg = expect_user_error([&] { db.save("main", sample_set(0.02), facts(3)); });
  EXPECT_NE(msg.find("locked by another process"), std::string::npos) << msg;
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  auto all = db.sessions(true);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].commands[0].times.size(), 3u);
  db.save("main", sample_set(0.02), facts(3));  // works again once the lock is gone
  EXPECT_EQ(db.sessions(false).size(), 2u);
}

TEST(History, ConcurrentWritersDoNotCorrupt) {
  test::TempDir dir;
  std::string path = dir.path() + "/h.db";
  constexpr int kWriters = 6, kSaves = 25;
  std::vector<pid_t> pids;
  for (int w = 0; w < kWriters; ++w) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // A forked child: it opens its own connection (a fresh file for the
      // first ones, racing on schema creation) and exits without unwinding gtest.
      int rc = 0;
      try {
        HistoryDb db = HistoryDb::open(path);
        for (int i = 0; i < kSaves; ++i) db.save("w" + std::to_string(w), sample_set(0.001 * (i + 1)), facts(i));
      } catch (const std::exception& e) {
        fprintf(stderr, "writer %d: %s\n", w, e.what());
        rc = 1;
      }
      _exit(rc);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  HistoryDb db = HistoryDb::open(path);
  auto all = db.sessions(true);
  EXPECT_EQ(all.size(), static_cast<size_t>(kWriters * kSaves));
  for (const Session& s : all) {
    ASSERT_EQ(s.commands.size(), 2u);
    EXPECT_EQ(s.commands[0].times.size(), 3u);
  }
  sqlite3* raw = nullptr;
  sqlite3_open(path.c_str(), &raw);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(raw, "PRAGMA integrity_check", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "ok");
  sqlite3_finalize(st);
  sqlite3_close(raw);
}

TEST(History, DefaultPathFollowsXdgStateHome) {
  const char* old_state = getenv("XDG_STATE_HOME");
  std::string saved = old_state ? old_state : "";
  setenv("XDG_STATE_HOME", "/var/tmp/state", 1);
  EXPECT_EQ(default_history_path(), "/var/tmp/state/coldstart/history.db");
  unsetenv("XDG_STATE_HOME");
  std::string home = getenv("HOME") ? getenv("HOME") : "";
  if (!home.empty()) {
    EXPECT_EQ(default_history_path(), home + "/.local/state/coldstart/history.db");
  }
  if (old_state) setenv("XDG_STATE_HOME", saved.c_str(), 1);
}

TEST(HostFacts, DescribeThisMachine) {
  HostFacts h = collect_host_facts();
  EXPECT_FALSE(h.hostname.empty());
  EXPECT_FALSE(h.kernel.empty());
  EXPECT_TRUE(h.cgroup_version == "v1" || h.cgroup_version == "v2" || h.cgroup_version == "hybrid");
}

TEST(HostFacts, GitRevisionFromLooseAndPackedRefs) {
  test::TempDir dir;
  std::string git = dir.path() + "/repo/.git";
  std::filesystem::create_directories(git + "/refs/heads");
  std::filesystem::create_directories(dir.path() + "/repo/a/b");
  std::string loose(40, 'a'), packed(40, 'b');
  write_bytes(git + "/HEAD", "ref: refs/heads/main\n");
  write_bytes(git + "/refs/heads/main", loose + "\n");
  EXPECT_EQ(git_revision(dir.path() + "/repo/a/b").value_or(""), loose);
  std::filesystem::remove(git + "/refs/heads/main");
  write_bytes(git + "/packed-refs", "# pack-refs with: peeled\n" + packed + " refs/heads/main\n");
  EXPECT_EQ(git_revision(dir.path() + "/repo").value_or(""), packed);
  write_bytes(git + "/HEAD", std::string(40, 'c') + "\n");  // detached
  EXPECT_EQ(git_revision(dir.path() + "/repo").value_or(""), std::string(40, 'c'));
  EXPECT_FALSE(git_revision("/"));
}

}  // namespace
}  // namespace coldstart::report
