// sd_notify datagrams come from the target, i.e. from any program a user
// benchmarks or supervises: parse_notify_datagram must take any bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "launch/notify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto m = coldstart::launch::parse_notify_datagram(bytes);
  // Every line is either a field or malformed; values never exceed the input.
  size_t total = 0;
  for (const auto& [k, v] : m.fields) total += k.size() + v.size() + 1;
  for (const auto& line : m.malformed) total += line.size();
  if (total > size + m.malformed.size() * 40) __builtin_trap();
  return 0;
}
