// Unit-file text -> UnitFile -> typed [Service]/[Socket] reading -> every
// value grammar: a syntax error must be a UnitSyntaxError with a position
// inside the input, never a crash; every other path returns normally. The
// same bytes as the head of an ExecStart= script: the "#!" and env parsers.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lint/facts.h"
#include "unit/unit_file.h"
#include "unit/unit_file_service.h"
#include "unit/unit_file_values.h"

using namespace coldstart::unit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  UnitFile unit;
  try {
    unit.parse(text, "fuzz.service");
  } catch (const UnitSyntaxError& e) {
    if (e.pos().line < 1 || e.pos().column < 1) std::abort();
    return 0;
  }
  ServiceConfig s = read_service(unit, 1ull << 30);
  SocketConfig k = read_socket(unit);
  for (const UnitEntry& e : unit.entries()) {
    if (e.pos_at(e.value.size()).line < e.value_pos.line) std::abort();
    (void)parse_timespan(e.value);
    (void)parse_iec_size(e.value);
    (void)parse_permyriad(e.value, false);
    (void)parse_exec(e.value);
    (void)parse_environment(e.value);
    (void)expand_specifiers(e.value, "a@b.service");
    if (auto t = parse_timespan(e.value)) (void)format_timespan(*t);
  }
  (void)s.main_program();
  if (auto shebang = coldstart::lint::parse_shebang(text)) {
    if (shebang->interpreter.empty()) std::abort();
    (void)coldstart::lint::env_command(shebang->argument);
  }
  (void)coldstart::lint::env_command(text);
  (void)k;
  return 0;
}
