// StartTracker and Metrics driven by made-up kernel records: what a start
// record holds, when it is over, what --match keeps, and the exposition.
#include <gtest/gtest.h>

#include "watch/metrics.h"
#include "watch/record_json.h"
#include "watch/start_tracker.h"

namespace coldstart::watch {
namespace {

using Kind = KernelEvent::Kind;

struct Recorder final : StartObserver {
  std::vector<StartRecord> started_records, finished_records;
  std::vector<std::pair<uint64_t, bool>> finished_drops;
  std::vector<uint64_t> rejected_keys;
  std::vector<Milestone> milestones;
  void started(const StartRecord& r) override { started_records.push_back(r); }
  void reached(const StartRecord&, Milestone m) override { milestones.push_back(m); }
  void finished(const StartRecord& r, bool drop) override {
    finished_records.push_back(r);
    finished_drops.emplace_back(r.key, drop);
  }
  void rejected(uint64_t key, pid_t) override { rejected_keys.push_back(key); }
  std::vector<std::string> executed_exes;
  PhaseProbes executed(const StartRecord& r, std::string& main_symbol) override {
    executed_exes.push_back(r.exe);
    main_symbol = "main";
    return executed_exes.size() == 1 ? PhaseProbes::kLate : PhaseProbes::kInPlace;
  }
};

KernelEvent ev(Kind kind, uint64_t key, int64_t ts_ms, uint32_t aux = 0, uint32_t aux2 = 0) {
  KernelEvent e;
  e.kind = kind;
  e.key = key;
  e.pid = 100;
  e.ts_ns = ts_ms * 1'000'000;
  e.aux = aux;
  e.aux2 = aux2;
  return e;
}

TEST(WatchTracker, ServedStartHasEveryMilestoneAndDropsKernelState) {
  Recorder rec;
  StartTracker t({}, rec, [](pid_t) { return std::string("/unused"); });
  KernelEvent mk = ev(Kind::kCgroupMade, 7, 0);
  mk.data = "/system.slice/redis.service";
  t.on_event(mk);
  KernelEvent start = ev(Kind::kStart, 7, 1000);
  start.data = "/usr/bin/redis-server";
  start.args = {"redis-server", "--port", "6400"};
  t.on_event(start);
  KernelEvent listen = ev(Kind::kListen, 7, 1003, 2, 6400);
  listen.cpu_ns = 2'000'000;
  listen.major_faults = 3;
  t.on_event(listen);
  t.on_event(ev(Kind::kAccept, 7, 1010));
  EXPECT_TRUE(rec.finished_records.empty());  // lingers for a late READY=1
  t.expire(1500 * 1'000'000LL);
  EXPECT_TRUE(rec.finished_records.empty());
  t.expire(2100 * 1'000'000LL);
  t.on_event(ev(Kind::kEnd, 7, 3000));  // after the record: ignored
  ASSERT_EQ(rec.finished_records.size(), 1u);
  const StartRecord& r = rec.finished_records[0];
  EXPECT_EQ(r.labels.service, "redis.service");
  EXPECT_EQ(r.cgroup, "/system.slice/redis.service");
  EXPECT_EQ(r.outcome, "served");
  ASSERT_TRUE(r.listen);
  EXPECT_NEAR(r.listen->seconds, 0.003, 1e-9);
  EXPECT_NEAR(r.listen->cpu_seconds, 0.002, 1e-9);
  EXPECT_EQ(r.listen->major_faults, 3u);
  EXPECT_EQ(r.listen_family, "tcp4");
  EXPECT_EQ(r.listen_port, 6400);
  ASSERT_TRUE(r.accept);
  EXPECT_NEAR(r.accept->seconds, 0.010, 1e-9);
  EXPECT_FALSE(r.notify);
  EXPECT_TRUE(rec.finished_drops[0].second);
  EXPECT_EQ(t.open_starts(), 0u);
}

TEST(WatchTracker, TimesCountFromTheInstantTheKernelChose) {
  Recorder rec;
  StartTracker t({}, rec, [](pid_t) { return std::string("/x"); });
  auto start = [&](uint64_t key, uint32_t flags, int64_t t0_ms) {
    KernelEvent e = ev(Kind::kStart, key, 1002, flags);  // exec at 1002 ms
    e.fork_ns = 990 * 1'000'000LL;
    e.t0_ns = t0_ms * 1'000'000LL;
    t.on_event(e);
    t.on_event(ev(Kind::kListen, key, 1005, 2, 80));  // listen at 1005 ms
  };
  start(7, kStartFromFork, 990);   // forked at 990 for this start
  start(8, kStartFromJoin, 1000);  // forked at 990 elsewhere, moved into its cgroup at 1000
  start(9, 0, 1002);               // forked long before, not for it: from the exec
  t.finish_all();
  ASSERT_EQ(rec.finished_records.size(), 3u);
  const StartRecord& fork = rec.finished_records[0];
  EXPECT_EQ(fork.origin, StartOrigin::kFork);
  EXPECT_EQ(fork.t0_ns, 990 * 1'000'000LL);
  EXPECT_EQ(fork.exec_ns, 1002 * 1'000'000LL);
  ASSERT_TRUE(fork.listen);
  EXPECT_NEAR(fork.listen->seconds, 0.015, 1e-9);
  const StartRecord& join = rec.finished_records[1];
  EXPECT_EQ(join.origin, StartOrigin::kJoin);
  ASSERT_TRUE(join.listen);
  EXPECT_NEAR(join.listen->seconds, 0.005, 1e-9);
  const StartRecord& exec = rec.finished_records[2];
  EXPECT_EQ(exec.origin, StartOrigin::kExec);
  EXPECT_EQ(exec.t0_ns, exec.exec_ns);
  ASSERT_TRUE(exec.listen);
  EXPECT_NEAR(exec.listen->seconds, 0.003, 1e-9);
  nlohmann::json j = record_json(join, 0);
  EXPECT_EQ(j["t0"], "cgroup_join");
  EXPECT_NEAR(j["time_to_exec"].get<double>(), 0.002, 1e-9);
  EXPECT_NEAR(j["start_time"].get<double>(), 1.0, 1e-9);
  EXPECT_NEAR(j["exec_time"].get<double>(), 1.002, 1e-9);
  EXPECT_NEAR(j["fork_at"].get<double>(), -0.010, 1e-9);
  EXPECT_EQ(record_json(fork, 0)["t0"], "fork");
  EXPECT_EQ(record_json(exec, 0)["t0"], "exec");
}

TEST(WatchTracker, ReadyAfterTheFirstConnectionStillCounts) {
  Recorder rec;
  StartTracker t({}, rec, [](pid_t) { return std::string("/x"); });
  t.on_event(ev(Kind::kStart, 3, 0));
  t.on_event(ev(Kind::kListen, 3, 2, 2, 80));
  t.on_event(ev(Kind::kAccept, 3, 3));
  t.on_event(ev(Kind::kNotify, 3, 4));
  ASSERT_EQ(rec.finished_records.size(), 1u);
  EXPECT_EQ(rec.finished_records[0].outcome, "served");
  ASSERT_TRUE(rec.finished_records[0].notify);
  EXPECT_NEAR(rec.finished_records[0].notify->seconds, 0.004, 1e-9);
}

TEST(WatchTracker, EarlyExitIsRecordedWithItsStatus) {
  Recorder rec;
  StartTracker t({}, rec, [](pid_t) { return std::string("/coldstart/1-1"); });
  t.on_event(ev(Kind::kStart, 9, 0));
  t.on_event(ev(Kind::kEnd, 9, 5, 3 << 8));  // exit(3)
  t.on_event(ev(Kind::kStart, 10, 0));
  t.on_event(ev(Kind::kEnd, 10, 5, 9));  // SIGKILL
  t.on_event(ev(Kind::kStart, 11, 0));
  t.on_event(ev(Kind::kEnd, 11, 5, 0));  // exit(0): a one-shot, not a failure
  ASSERT_EQ(rec.finished_records.size(), 3u);
  EXPECT_EQ(rec.finished_records[0].outcome, "exited");
  EXPECT_EQ(rec.finished_records[0].exit_status, 3);
  EXPECT_TRUE(rec.finished_records[0].failed());
  EXPECT_EQ(rec.finished_records[1].exit_signal, 9);
  EXPECT_TRUE(rec.finished_records[1].failed());
  EXPECT_FALSE(rec.finished_records[2].failed());
  EXPECT_FALSE(rec.finished_drops[0].second);
}

TEST(WatchTracker, MatchKeepsOnlyMatchingProvisionalStarts) {
  Recorder rec;
  StartTracker::Options o;
  o.match.emplace_back("redis-server");
  StartTracker t(std::move(o), rec, [](pid_t) { return std::string("/user.slice"); });
  KernelEvent no = ev(Kind::kStart, (1ULL << 63) | 50, 0, 1);
  no.data = "/bin/true";
  t.on_event(no);
  KernelEvent yes = ev(Kind::kStart, (1ULL << 63) | 51, 0, 1);
  yes.data = "/usr/bin/env";
  yes.args = {"env", "redis-server", "--port", "1"};
  t.on_event(yes);
  EXPECT_EQ(rec.rejected_keys, std::vector<uint64_t>{(1ULL << 63) | 50});
  ASSERT_EQ(rec.started_records.size(), 1u);
  EXPECT_EQ(rec.started_records[0].labels.kind, "match");
  EXPECT_EQ(rec.started_records[0].labels.service, "env");
}

TEST(WatchTracker, TimeoutAndStopFinishOpenStarts) {
  Recorder rec;
  StartTracker::Options o;
  o.timeout_ns = 1'000'000'000;
  StartTracker t(std::move(o), rec, [](pid_t) { return std::string("/x"); });
  t.on_event(ev(Kind::kStart, 1, 0));
  t.on_event(ev(Kind::kStart, 2, 900));
  t.on_event(ev(Kind::kNotify, 2, 950));
  t.expire(1'500'000'000);
  ASSERT_EQ(rec.finished_records.size(), 1u);
  EXPECT_EQ(rec.finished_records[0].outcome, "timeout");
  EXPECT_TRUE(rec.finished_drops[0].second);
  t.finish_all();
  ASSERT_EQ(rec.finished_records.size(), 2u);
  EXPECT_EQ(rec.finished_records[1].outcome, "open");
  ASSERT_TRUE(rec.finished_records[1].notify);
  EXPECT_NEAR(rec.finished_records[1].notify->seconds, 0.050, 1e-9);
}

TEST(WatchTracker, OverlayMountsBeforeTheFirstExecBelongToTheCgroupsStart) {
  Recorder rec;
  StartTracker t({}, rec, [](pid_t) { return std::string("/x"); });
  KernelEvent before = ev(Kind::kMount, 5, 990, 3);
  before.mount_ns = 2'000'000;
  t.on_event(before);
  t.on_event(ev(Kind::kMount, 6, 990, 1));  // another cgroup, removed before any start
  t.on_event(ev(Kind::kCgroupRemoved, 6, 991));
  t.on_event(ev(Kind::kStart, 5, 1000, kStartNewMountNamespace));
  t.on_event(ev(Kind::kMount, 5, 1004, 2));  // made by the start's own process
  t.on_event(ev(Kind::kStart, 6, 1000));
  t.finish_all();
  ASSERT_EQ(rec.finished_records.size(), 2u);
  const StartRecord& r = rec.finished_records[0].key == 5 ? rec.finished_records[0] : rec.finished_records[1];
  const StartRecord& other = rec.finished_records[0].key == 5 ? rec.finished_records[1] : rec.finished_records[0];
  EXPECT_TRUE(r.new_mount_namespace);
  ASSERT_EQ(r.overlay_mounts.size(), 2u);
  EXPECT_EQ(r.overlay_mounts[0].lower_layers, 3u);
  EXPECT_NEAR(r.overlay_mounts[0].at_seconds, -0.010, 1e-9);
  EXPECT_NEAR(r.overlay_mounts[0].seconds, 0.002, 1e-9);
  EXPECT_EQ(r.overlay_mounts[1].lower_layers, 2u);
  EXPECT_TRUE(other.overlay_mounts.empty());
  EXPECT_FALSE(other.new_mount_namespace);
}

TEST(WatchTracker, EntryAndMainAreThoseOfTheRootsLatestExecutable) {
  Recorder rec;
  StartTracker t({}, rec, [](pid_t) { return std::string("/x"); });
  KernelEvent start = ev(Kind::kStart, 4, 0);
  start.data = "/bin/sh";
  t.on_event(start);
  t.on_event(ev(Kind::kEntry, 4, 1));
  t.on_event(ev(Kind::kMain, 4, 2));
  KernelEvent exec = ev(Kind::kExec, 4, 3);
  exec.data = "/usr/bin/redis-server";
  t.on_event(exec);
  t.on_event(ev(Kind::kEntry, 4, 5));
  t.finish_all();
  ASSERT_EQ(rec.finished_records.size(), 1u);
  const StartRecord& r = rec.finished_records[0];
  EXPECT_EQ(rec.executed_exes, (std::vector<std::string>{"/bin/sh", "/usr/bin/redis-server"}));
  EXPECT_EQ(r.phase_probes, PhaseProbes::kInPlace);
  EXPECT_EQ(r.main_symbol, "main");
  ASSERT_TRUE(r.entry);
  EXPECT_NEAR(r.entry->seconds, 0.005, 1e-9);
  EXPECT_FALSE(r.main);  // sh's main was before the exec of redis-server
  EXPECT_EQ(rec.milestones, std::vector<Milestone>{Milestone::kMain});
}

TEST(WatchMetrics, ExpositionHasCumulativeBucketsAndBoundedLabels) {
  Metrics m(2);
  auto labels = [](std::string service, std::string kind) {
    StartLabels l;
    l.service = std::move(service);
    l.kind = std::move(kind);
    return l;
  };
  StartLabels a = labels("redis.service", "systemd"), b = labels("nginx.service", "systemd"),
              c = labels("third", "cgroup");
  m.count_start(a);
  m.observe(Milestone::kListen, a, 0.003);
  m.observe(Milestone::kListen, a, 0.2);
  m.count_start(b);
  m.count_start(c);  // over the limit: folded
  m.set_lost("ring_buffer", 4);
  std::string text = m.exposition();
  EXPECT_NE(text.find("# TYPE coldstart_watch_time_to_listen_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("coldstart_watch_time_to_listen_seconds_bucket{service=\"redis.service\",kind=\"systemd\","
                      "le=\"0.0025\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("le=\"0.25\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("coldstart_watch_time_to_listen_seconds_count{service=\"redis.service\",kind=\"systemd\"} 2"),
            std::string::npos);
  EXPECT_EQ(text.find("time_to_notify_seconds_bucket"), std::string::npos);  // nothing observed
  EXPECT_NE(text.find("coldstart_watch_starts_total{service=\"_other\",kind=\"cgroup\"} 1"), std::string::npos);
  EXPECT_NE(text.find("coldstart_watch_label_sets_folded_total 1"), std::string::npos);
  EXPECT_NE(text.find("coldstart_watch_events_lost_total{reason=\"ring_buffer\"} 4"), std::string::npos);
}

}  // namespace
}  // namespace coldstart::watch
