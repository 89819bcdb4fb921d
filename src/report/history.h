// The bench history: an SQLite database of saved bench sessions, so a later
// bench can be compared with a stored baseline and report can plot a trend.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "report/bench_model.h"
#include "report/host_facts.h"

namespace coldstart::report {

/// One saved bench session: a label, when and where it ran, and its commands with every run.
struct Session {
  int64_t id = 0;
  std::string label;
  double created_at = 0;  // Unix time in seconds
  std::string git_revision;  // "" outside a repository
  HostFacts host;
  std::vector<BenchCommand> commands;
};

/// What a session is saved with besides its runs; now_facts() fills it for the current run.
struct SessionFacts {
  double created_at = 0;
  std::string git_revision;
  HostFacts host;
};

/// The facts of a bench running now in `cwd`: time, git revision, host.
SessionFacts now_facts(const std::string& cwd);

/// $XDG_STATE_HOME/coldstart/history.db, else $HOME/.local/state/coldstart/history.db.
/// Throws UserError when neither variable is set.
std::string default_history_path();

/// HistoryDb owns one SQLite connection to a history database; cli/ opens it
/// per command. WAL journal and a busy timeout let several coldstart
/// processes write at once; every write is one IMMEDIATE transaction, so a
/// failure leaves the stored history as it was. Errors are UserErrors naming
/// the file (corrupt, locked, newer schema), never a silent re-creation.
class HistoryDb {
 public:
  /// Opens (creating the file, its directory and the schema if needed).
  static HistoryDb open(const std::string& path, int busy_timeout_ms = 10000);

  HistoryDb(HistoryDb&& other) noexcept;
  HistoryDb& operator=(HistoryDb&&) = delete;
  HistoryDb(const HistoryDb&) = delete;
  HistoryDb& operator=(const HistoryDb&) = delete;
  ~HistoryDb();

  /// Stores `set` under `label`; returns the new session's id.
  int64_t save(const std::string& label, const BenchSet& set, const SessionFacts& facts);

  /// Every session, oldest first, with or without the per-run times.
  std::vector<Session> sessions(bool with_runs) const;

  /// The sessions saved under `label`, oldest first, with their runs.
  std::vector<Session> sessions_with_label(const std::string& label) const;

  /// The newest session saved under `label`, if any.
  std::optional<Session> latest(const std::string& label) const;

  const std::string& path() const { return path_; }

  /// The schema version this build writes (PRAGMA user_version).
  static constexpr int kSchemaVersion = 1;

 private:
  HistoryDb(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  std::vector<Session> query_sessions(const char* where, const std::string* label, bool with_runs) const;
  void load_commands(Session& s, bool with_runs) const;

  std::string path_;
  sqlite3* db_ = nullptr;
};

/// Stores one bench result under `label` in the database at `db_path` with the
/// facts of now (one call for bench --save). Returns the session id.
int64_t save_bench(const std::string& db_path, const std::string& label, const BenchSet& set);

}  // namespace coldstart::report
