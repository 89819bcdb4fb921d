#include "launch/log_pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/error.h"

namespace coldstart::launch {
namespace {

// Backtracking steps one search may take: a normal pattern over a 64 KiB line
// needs far fewer; a catastrophic one, e.g. (a+)+$, stops here.
constexpr uint32_t kMatchLimit = 1000000;

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  int n = pcre2_get_error_message(code, buf, sizeof buf);
  return n < 0 ? "error " + std::to_string(code) : std::string(reinterpret_cast<char*>(buf), static_cast<size_t>(n));
}

}  // namespace

struct LogPattern::Compiled {
  pcre2_code* code = nullptr;
  pcre2_match_data* data = nullptr;
  pcre2_match_context* context = nullptr;
  ~Compiled() {
    pcre2_match_context_free(context);
    pcre2_match_data_free(data);
    pcre2_code_free(code);
  }
};

LogPattern::LogPattern(const std::string& pattern) : c_(std::make_unique<Compiled>()) {
  int err = 0;
  PCRE2_SIZE offset = 0;
  c_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), 0, &err, &offset, nullptr);
  if (c_->code == nullptr)
    throw UserError("bad REGEX '" + pattern + "' (" + pcre2_message(err) + " at offset " +
                    std::to_string(offset) + ")");
  c_->data = pcre2_match_data_create_from_pattern(c_->code, nullptr);
  c_->context = pcre2_match_context_create(nullptr);
  if (c_->data == nullptr || c_->context == nullptr) throw UserError("out of memory for the log: pattern");
  pcre2_set_match_limit(c_->context, kMatchLimit);
}

LogPattern::~LogPattern() = default;
LogPattern::LogPattern(LogPattern&&) noexcept = default;
LogPattern& LogPattern::operator=(LogPattern&&) noexcept = default;

bool LogPattern::search(std::string_view line) const {
  int rc = pcre2_match(c_->code, reinterpret_cast<PCRE2_SPTR>(line.data()), line.size(), 0, 0, c_->data,
                       c_->context);
  return rc >= 0;
}

}  // namespace coldstart::launch
