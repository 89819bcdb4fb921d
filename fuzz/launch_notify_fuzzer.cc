// sd_notify datagrams come from the target, i.e. from any program a user
// benchmarks or supervises: parse_notify_datagram must take any bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "launch/notify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto m = coldstart::launch::parse_notify_datagram(bytes);
  // Fields and malformed lines are copies of input lines (a KEY=VALUE line
  // with a bad value is both): neither can hold more than the input.
  size_t fields = 0, malformed = 0;
  for (const auto& [k, v] : m.fields) fields += k.size() + v.size() + 1;
  for (const auto& line : m.malformed) malformed += line.size();
  if (fields > size + 1 || malformed > size + 40) __builtin_trap();
  if (m.ready && m.fields.empty()) __builtin_trap();
  return 0;
}
