// The SQLite history store.
//
// Schema (PRAGMA user_version = 1): sessions (one bench invocation saved
// under a label, with its time, git revision and host facts) 1-n commands
// (position, command, mode, ready) 1-n runs (run_index, seconds, exit_code).
//
// Concurrency and safety, from SQLite's documented behaviour:
//  * journal_mode=WAL: readers never block the writer and vice versa; writers
//    take turns. synchronous=NORMAL is durable against application crashes and
//    cannot corrupt in WAL mode (a power loss may drop the last commit).
//  * Writes use BEGIN IMMEDIATE: the write lock is taken at BEGIN, where the
//    busy handler (sqlite3_busy_timeout) waits for it. A DEFERRED transaction
//    that upgrades from read to write would get SQLITE_BUSY at once instead.
//  * Schema creation runs inside that transaction after re-reading
//    user_version, so two processes opening a fresh file race safely.
//  * A file that is not an SQLite database reports SQLITE_NOTADB on the first
//    statement; we report it and never write to or recreate the file. A valid
//    database without our schema (user_version 0 and foreign tables), or with a
//    newer schema, is refused the same way.
#include "report/history.h"

#include <unistd.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <utility>

#include "core/clock.h"
#include "core/error.h"

namespace coldstart::report {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE sessions(
  id INTEGER PRIMARY KEY,
  label TEXT NOT NULL,
  created_at REAL NOT NULL,
  git_revision TEXT NOT NULL DEFAULT '',
  hostname TEXT NOT NULL DEFAULT '',
  kernel TEXT NOT NULL DEFAULT '',
  cpu_model TEXT NOT NULL DEFAULT '',
  cgroup_version TEXT NOT NULL DEFAULT '');
CREATE INDEX sessions_by_label ON sessions(label, created_at);
CREATE TABLE commands(
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  command TEXT NOT NULL,
  mode TEXT NOT NULL DEFAULT '',
  ready TEXT NOT NULL DEFAULT '');
CREATE INDEX commands_by_session ON commands(session_id, position);
CREATE TABLE runs(
  command_id INTEGER NOT NULL REFERENCES commands(id) ON DELETE CASCADE,
  run_index INTEGER NOT NULL,
  seconds REAL NOT NULL,
  exit_code INTEGER,
  PRIMARY KEY(command_id, run_index)) WITHOUT ROWID;
PRAGMA user_version = 1;
)sql";

// One error message per failure kind, always naming the file.
[[noreturn]] void fail(const std::string& path, sqlite3* db, int rc, std::string_view doing) {
  int primary = rc & 0xff;
  std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string prefix = "history database " + path + ": ";
  if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT)
    throw UserError(prefix + "not a usable SQLite database (" + detail +
                    "); it was left untouched - move it away to start a new history");
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    throw UserError(prefix + "locked by another process while " + std::string(doing) +
                    "; nothing was written, try again");
  throw UserError(prefix + std::string(doing) + ": " + detail);
}

/// Stmt owns one prepared statement of a HistoryDb and steps it.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& path, const char* sql) : db_(db), path_(path) {
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
    if (rc != SQLITE_OK) fail(path_, db_, rc, "preparing a query");
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, const std::string& v) {
    check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& bind(int i, double v) {
    check(sqlite3_bind_double(stmt_, i, v));
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    check(sqlite3_bind_int64(stmt_, i, v));
    return *this;
  }
  Stmt& bind_null(int i) {
    check(sqlite3_bind_null(stmt_, i));
    return *this;
  }
  /// True while there is a row; false when done.
  bool step(std::string_view doing) {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) fail(path_, db_, rc, doing);
    sqlite3_reset(stmt_);  // ready for new bindings
    return false;
  }
  void run(std::string_view doing) {
    while (step(doing)) {
    }
  }
  int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
  double f64(int col) const { return sqlite3_column_double(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail(path_, db_, rc, "binding a value");
  }
  sqlite3* db_;
  const std::string& path_;
  sqlite3_stmt* stmt_ = nullptr;
};

void exec(sqlite3* db, const std::string& path, const char* sql, std::string_view doing) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(path, db, rc, doing);
}

/// Transaction is one BEGIN IMMEDIATE ... COMMIT; it rolls back unless committed.
class Transaction {
 public:
  Transaction(sqlite3* db, const std::string& path) : db_(db), path_(path) {
    exec(db_, path_, "BEGIN IMMEDIATE", "starting a write");
  }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    exec(db_, path_, "COMMIT", "committing");
    done_ = true;
  }

 private:
  sqlite3* db_;
  const std::string& path_;
  bool done_ = false;
};

void ensure_schema(sqlite3* db, const std::string& path) {
  Transaction tx(db, path);
  int64_t version;
  {
    Stmt v(db, path, "PRAGMA user_version");
    v.step("reading the schema version");
    version = v.i64(0);
  }
  if (version > HistoryDb::kSchemaVersion)
    throw UserError("history database " + path + ": schema version " + std::to_string(version) +
                    " is newer than this coldstart's (" + std::to_string(HistoryDb::kSchemaVersion) +
                    "); it was left untouched");
  if (version == HistoryDb::kSchemaVersion) return;  // the transaction rolls back: nothing written
  Stmt tables(db, path, "SELECT count(*) FROM sqlite_schema");
  tables.step("reading the schema");
  if (tables.i64(0) != 0)
    throw UserError("history database " + path +
                    ": an SQLite database but not a coldstart history; it was left untouched");
  exec(db, path, kSchema, "creating the schema");
  tx.commit();
}

}  // namespace

SessionFacts now_facts(const std::string& cwd) {
  SessionFacts f;
  f.created_at = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  f.git_revision = git_revision(cwd).value_or("");
  f.host = collect_host_facts();
  return f;
}

std::string default_history_path() {
  const char* state = getenv("XDG_STATE_HOME");
  if (state && *state == '/') return std::string(state) + "/coldstart/history.db";
  const char* home = getenv("HOME");
  if (home && *home) return std::string(home) + "/.local/state/coldstart/history.db";
  throw UserError("no history database: neither XDG_STATE_HOME nor HOME is set, so give its path");
}

HistoryDb HistoryDb::open(const std::string& path, int busy_timeout_ms) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) throw UserError("history database " + path + ": mkdir " + parent.string() + ": " + ec.message());
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  HistoryDb db(path, raw);  // owns `raw` even when opening failed
  if (rc != SQLITE_OK) fail(path, raw, rc, "opening");
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  exec(raw, db.path_, "PRAGMA foreign_keys = ON", "configuring");
  // The first statement that reads the file: a foreign file fails here, before any write.
  {
    Stmt probe(raw, db.path_, "SELECT count(*) FROM sqlite_schema");
    probe.step("reading");
  }
  // Changing the journal mode needs an exclusive lock and returns BUSY at
  // once, without the busy handler, while another connection (a second
  // bench saving at the same moment) holds the file: retry for as long as
  // the busy timeout allows, then report it.
  const int64_t wal_deadline = monotonic_ns() + int64_t{busy_timeout_ms} * 1000000;
  for (;;) {
    try {
      Stmt wal(raw, db.path_, "PRAGMA journal_mode = WAL");
      wal.step("switching to WAL");
      break;
    } catch (const UserError&) {
      if (monotonic_ns() >= wal_deadline) throw;
      ::usleep(5000);
    }
  }
  exec(raw, db.path_, "PRAGMA synchronous = NORMAL", "configuring");
  ensure_schema(raw, db.path_);
  return db;
}

HistoryDb::HistoryDb(HistoryDb&& other) noexcept
    : path_(std::move(other.path_)), db_(std::exchange(other.db_, nullptr)) {}

HistoryDb::~HistoryDb() {
  if (db_) sqlite3_close_v2(db_);
}

int64_t HistoryDb::save(const std::string& label, const BenchSet& set, const SessionFacts& facts) {
  if (label.empty()) throw UserError("history: the label must not be empty");
  Transaction tx(db_, path_);
  Stmt session(db_, path_,
               "INSERT INTO sessions(label, created_at, git_revision, hostname, kernel, cpu_model, cgroup_version) "
               "VALUES(?,?,?,?,?,?,?)");
  session.bind(1, label).bind(2, facts.created_at).bind(3, facts.git_revision).bind(4, facts.host.hostname);
  session.bind(5, facts.host.kernel).bind(6, facts.host.cpu_model).bind(7, facts.host.cgroup_version);
  session.run("saving a session");
  int64_t session_id = sqlite3_last_insert_rowid(db_);
  Stmt command(db_, path_, "INSERT INTO commands(session_id, position, command, mode, ready) VALUES(?,?,?,?,?)");
  Stmt run(db_, path_, "INSERT INTO runs(command_id, run_index, seconds, exit_code) VALUES(?,?,?,?)");
  for (size_t i = 0; i < set.commands.size(); ++i) {
    const BenchCommand& c = set.commands[i];
    command.bind(1, session_id).bind(2, static_cast<int64_t>(i)).bind(3, c.command).bind(4, c.mode).bind(5, c.ready);
    command.run("saving a command");
    int64_t command_id = sqlite3_last_insert_rowid(db_);
    for (size_t r = 0; r < c.times.size(); ++r) {
      run.bind(1, command_id).bind(2, static_cast<int64_t>(r)).bind(3, c.times[r]);
      if (r < c.exit_codes.size())
        run.bind(4, static_cast<int64_t>(c.exit_codes[r]));
      else
        run.bind_null(4);
      run.run("saving a run");
    }
  }
  tx.commit();
  return session_id;
}

void HistoryDb::load_commands(Session& s, bool with_runs) const {
  Stmt cmds(db_, path_, "SELECT id, command, mode, ready FROM commands WHERE session_id = ? ORDER BY position");
  cmds.bind(1, s.id);
  Stmt runs(db_, path_, "SELECT seconds, exit_code FROM runs WHERE command_id = ? ORDER BY run_index");
  while (cmds.step("reading commands")) {
    BenchCommand c;
    c.command = cmds.text(1);
    c.mode = cmds.text(2);
    c.ready = cmds.text(3);
    if (with_runs) {
      runs.bind(1, cmds.i64(0));
      while (runs.step("reading runs")) {
        c.times.push_back(runs.f64(0));
        c.exit_codes.push_back(runs.is_null(1) ? -1 : static_cast<int>(runs.i64(1)));
      }
    }
    s.commands.push_back(std::move(c));
  }
}

std::vector<Session> HistoryDb::query_sessions(const char* where, const std::string* label, bool with_runs) const {
  std::string sql =
      "SELECT id, label, created_at, git_revision, hostname, kernel, cpu_model, cgroup_version FROM sessions ";
  sql += where;
  // One read transaction: a consistent snapshot even while others write.
  exec(db_, path_, "BEGIN", "reading");
  std::vector<Session> out;
  try {
    Stmt q(db_, path_, sql.c_str());
    if (label) q.bind(1, *label);
    while (q.step("reading sessions")) {
      Session s;
      s.id = q.i64(0);
      s.label = q.text(1);
      s.created_at = q.f64(2);
      s.git_revision = q.text(3);
      s.host = {q.text(4), q.text(5), q.text(6), q.text(7)};
      out.push_back(std::move(s));
    }
    for (Session& s : out) load_commands(s, with_runs);
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  exec(db_, path_, "COMMIT", "reading");
  return out;
}

std::vector<Session> HistoryDb::sessions(bool with_runs) const {
  return query_sessions("ORDER BY created_at, id", nullptr, with_runs);
}

std::vector<Session> HistoryDb::sessions_with_label(const std::string& label) const {
  return query_sessions("WHERE label = ? ORDER BY created_at, id", &label, true);
}

std::optional<Session> HistoryDb::latest(const std::string& label) const {
  auto all = query_sessions("WHERE label = ? ORDER BY created_at DESC, id DESC LIMIT 1", &label, true);
  if (all.empty()) return std::nullopt;
  return std::move(all.front());
}

int64_t save_bench(const std::string& db_path, const std::string& label, const BenchSet& set) {
  HistoryDb db = HistoryDb::open(db_path);
  return db.save(label, set, now_facts(std::filesystem::current_path().string()));
}

}  // namespace coldstart::report
