// Untrusted input of src/supervise: sd_notify datagrams from the service (run
// through the shared parser, then the supervisor's NotifyAccess/MAINPID/
// WATCHDOG/EXTEND_TIMEOUT policy in every state) and EnvironmentFile= text.
// First byte: 0-127 a datagram, 128-255 an environment file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "launch/notify.h"
#include "supervise/lifecycle.h"
#include "supervise/run_unit.h"

using namespace coldstart;
using namespace coldstart::supervise;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] >= 128) {
    try {
      parse_environment_text(body, "fuzz.env");
    } catch (const UserError&) {
    }
    return 0;
  }
  LifecycleConfig c;
  c.timeout_start = std::chrono::seconds(1);
  c.watchdog = std::chrono::milliseconds(500);
  c.runtime_max = std::chrono::seconds(2);
  c.notify_access = static_cast<NotifyAccess>(data[0] % 4);
  c.restart = RestartPolicy::kAlways;
  ServiceLifecycle lc(c, [](int64_t, std::string_view) {});
  lc.begin(0);
  lc.on_started(1, 100);
  auto in_service = [](pid_t p) { return p == 100 || p == 101; };
  int64_t now = 2;
  // The same datagram from the main pid, a child and a stranger, with ticks between.
  for (pid_t sender : {100, 101, 7, 100}) {
    launch::NotifyMessage m = launch::parse_notify_datagram(body);
    m.sender_pid = sender;
    lc.on_notify(now, m, in_service);
    now += 300'000'000;
    lc.on_tick(now);
    (void)lc.next_deadline();
    (void)lc.take_actions();
  }
  lc.on_main_exit(now, ExitStatus{.code = 1});
  lc.on_tick(now + 10'000'000'000);
  (void)lc.take_actions();
  return 0;
}
