// A launch's standard streams: stdin is /dev/null; stdout and stderr are
// inherited, discarded, or captured through pipes the launcher reads. A
// capture keeps the last 16 KB of each stream (a failure shows how each
// ended) and, for a log: readiness probe, tests every complete line (and the
// unterminated last one at EOF) against the pattern.
//
//   OutputCapture out(options.output, options.stderr_tail_lines, pattern);
//   out.prepare_spawn(spawn_options);  // the pipes' write ends become fds 1, 2
//   ChildProcess child = spawn(spawn_options);
//   out.spawned();                     // closes our copies of the write ends
//   out.watch(epoll_fd, kTagStdout, kTagStderr);
//   if (out.on_readable(0)) ...        // a stdout line matched
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/process.h"
#include "core/unique_fd.h"
#include "launch/launcher.h"
#include "launch/log_pattern.h"

namespace coldstart::launch {

class OutputCapture {
 public:
  /// `log_pattern`: the log: probe's regular expression, or null. Needs kCapture.
  OutputCapture(OutputMode mode, size_t tail_lines, const std::string* log_pattern);
  OutputCapture(OutputCapture&&) noexcept = default;
  OutputCapture& operator=(OutputCapture&&) noexcept = default;

  /// Sets the child's stdin/stdout/stderr fds (pipes created here).
  void prepare_spawn(SpawnOptions& spawn);
  /// After the spawn: our copies of the pipes' write ends and of /dev/null go.
  void spawned();
  /// Adds the read ends to `epoll` (EPOLLIN) with these tags; a stream at EOF
  /// leaves the set again.
  void watch(int epoll, uint64_t tag_stdout, uint64_t tag_stderr);

  /// Reads what stream `which` (0 stdout, 1 stderr) has now, without
  /// blocking. True when a line of it matched the log pattern.
  bool on_readable(int which);
  /// Reads whatever both streams have pending (keeps the target from
  /// blocking on a full pipe).
  void drain();
  /// The last `tail_lines` lines stream `which` wrote.
  std::string tail(int which) const;

 private:
  OutputMode mode_;
  size_t tail_lines_;
  std::optional<LogPattern> pattern_;
  UniqueFd read_[2];
  UniqueFd write_[2];  // until the spawn returns
  UniqueFd dev_null_;  // likewise
  int epoll_ = -1;
  std::string tail_[2];  // the last kTailBytes of stdout, stderr
  std::string line_[2];  // partial lines, for the pattern
};

}  // namespace coldstart::launch
