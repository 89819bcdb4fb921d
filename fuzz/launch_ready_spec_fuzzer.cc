// --ready SPECs are typed by users: any text parses or is a UserError, never
// a crash (regex compilation included).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "launch/ready_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256) return 0;  // std::regex compilation is exponential in pathological patterns
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto spec = coldstart::launch::ReadySpec::parse(text);
    if (spec.text != text) __builtin_trap();
  } catch (const coldstart::UserError&) {
  }
  return 0;
}
