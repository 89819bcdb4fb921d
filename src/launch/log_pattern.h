// The pattern of `--ready log:REGEX`, compiled with PCRE2 (Perl syntax: \d,
// \s, \b, lazy quantifiers, ...). Not std::regex: libstdc++'s matcher
// recurses once per character (a 64 KiB log line can overflow the stack) and
// overflows a signed integer on a back-reference like \99999999999999999999
// (found by fuzz_launch_ready_spec). PCRE2 matches without recursion on the
// C stack and under a match limit, so no pattern can stall the launcher.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace coldstart::launch {

class LogPattern {
 public:
  /// Throws UserError with PCRE2's reason and the offset in the pattern.
  explicit LogPattern(const std::string& pattern);
  ~LogPattern();
  LogPattern(LogPattern&&) noexcept;
  LogPattern& operator=(LogPattern&&) noexcept;

  /// True when the pattern matches somewhere in `line`. A match that runs
  /// into the backtracking limit counts as no match.
  bool search(std::string_view line) const;

 private:
  struct Compiled;
  std::unique_ptr<Compiled> c_;
};

}  // namespace coldstart::launch
