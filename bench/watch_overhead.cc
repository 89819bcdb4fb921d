// bench/watch_overhead: what `coldstart watch` costs an exec-heavy node, and
// whether its memory stays flat.
//
//  1. Overhead: many short rounds (default 60 x 300 sequential posix_spawn+
//     wait of /bin/true, ~0.15 s a block) in three conditions, interleaved
//     with the order permuted every round (all six orders in turn) so drift,
//     which on a shared 2-CPU machine is several percent within seconds,
//     hits all alike: "bare"; "ticker", a process that wakes every 10 ms like
//     the agent's loop but does nothing; "watch", the agent attached. On a
//     VM an extra periodically waking process alone makes spawn+wait faster
//     (the vCPU halts less often; measured here: up to ~20%), so the agent's
//     wall-time cost is watch against ticker, and bare is shown for
//     reference. Each round gives paired ratios (watch/ticker wall time,
//     watch/bare CPU time per exec); the summary is their median, the
//     interquartile range, and a distribution-free 95% confidence interval
//     of the median (order statistics n/2 -/+ 0.98 sqrt(n)): the overhead is
//     within budget when that interval's upper end is. A fresh agent is
//     started for every watch block and stopped after it, outside the timing
//     (~0.14 s each).
//  2. The BPF programs' own time per exec: one more block with the agent
//     attached and kernel BPF statistics on (BPF_ENABLE_STATS, only while
//     the bench holds its fd; they cost a clock read per program run, so the
//     timed rounds above run without them): the run time the kernel
//     accounted to each of the agent's programs (found by the prog_id lines
//     of the agent's /proc/PID/fdinfo), divided by the execs. This is the
//     part of the overhead that is the agent's code, free of the run-queue
//     noise of a shared machine.
//  3. Memory: one agent through M execs (default a million, of the static
//     no-op so it takes minutes, not hours); every 1000th exec is a real
//     start in a fresh v2 cgroup (mkdir, the child joins it, exec, rmdir) so
//     the agent's per-start state is exercised. The agent's VmRSS and CPU
//     time are printed at 0, 1%, 10%, 50% and 100%.
// Everything it starts is reaped by pid; every cgroup it makes is removed.
#include <bpf/bpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string coldstart = COLDSTART_BINARY;
  std::string exe = "/bin/true";
  std::string memory_exe = COLDSTART_FIXTURE_DIR "/noop-static";
  int rounds = 60;
  int execs = 300;
  long memory_execs = 1000000;
  std::vector<std::string> agent_args;  // --agent-arg: more flags for `coldstart watch`
  std::string cgroup_root = "/sys/fs/cgroup/unified";
};

void run_one(const std::string& exe) {
  pid_t pid;
  char* argv[] = {const_cast<char*>(exe.c_str()), nullptr};
  if (posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv, environ) != 0) {
    std::perror("posix_spawn");
    std::exit(1);
  }
  int status;
  waitpid(pid, &status, 0);
}

// A start the way a service manager makes one: fresh cgroup, join, exec.
void run_start(const std::string& exe, const std::string& cgroup) {
  if (mkdir(cgroup.c_str(), 0755) != 0) {
    std::perror(("mkdir " + cgroup).c_str());
    std::exit(1);
  }
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open((cgroup + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    std::string me = std::to_string(getpid());
    if (fd < 0 || write(fd, me.data(), me.size()) < 0) _exit(126);
    close(fd);
    execl(exe.c_str(), exe.c_str(), nullptr);
    _exit(127);
  }
  int status;
  waitpid(pid, &status, 0);
  for (int i = 0; i < 1000 && rmdir(cgroup.c_str()) != 0; ++i) usleep(1000);
}

double cpu_now() {
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return s(self.ru_utime) + s(self.ru_stime) + s(children.ru_utime) + s(children.ru_stime);
}

/// One block of sequential spawns, per exec: the median wall time of one
/// spawn+wait (robust to the preemptions a shared machine scatters over a
/// block), the mean, and the CPU time (the spawner's and the children's,
/// user + system).
struct Block {
  double median = 0, mean = 0, cpu = 0;
};
Block time_block(const std::string& exe, int n) {
  std::vector<double> each(static_cast<size_t>(n));
  double c0 = cpu_now();
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto a = Clock::now();
    run_one(exe);
    each[static_cast<size_t>(i)] = std::chrono::duration<double>(Clock::now() - a).count();
  }
  Block b;
  b.mean = std::chrono::duration<double>(Clock::now() - t0).count() / n;
  b.cpu = (cpu_now() - c0) / n;
  std::nth_element(each.begin(), each.begin() + n / 2, each.end());
  b.median = each[static_cast<size_t>(n / 2)];
  return b;
}

/// A process that only wakes every 10 ms (the agent loop's rhythm), killed and reaped on destruction.
class Ticker {
 public:
  Ticker() {
    pid_ = fork();
    if (pid_ == 0) {
      for (;;) usleep(10000);
    }
  }
  ~Ticker() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }

 private:
  pid_t pid_;
};

/// The agent, started with its stderr on a pipe; ready once it says "attached".
class Agent {
 public:
  explicit Agent(const Args& a) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) std::exit(1);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(p[1], 2);
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      std::vector<const char*> argv = {a.coldstart.c_str(), "watch", "--listen", "none"};
      for (const std::string& x : a.agent_args) argv.push_back(x.c_str());
      argv.push_back(nullptr);
      execv(a.coldstart.c_str(), const_cast<char* const*>(argv.data()));
      _exit(127);
    }
    close(p[1]);
    std::string seen;
    char buf[256];
    ssize_t n;
    while (seen.find("attached") == std::string::npos && (n = read(p[0], buf, sizeof buf)) > 0) seen.append(buf, n);
    err_ = p[0];  // kept open (its closing summary fits in the pipe), closed once it is reaped
    if (seen.find("attached") == std::string::npos) {
      std::fprintf(stderr, "agent did not attach: %s\n", seen.c_str());
      stop();
      std::exit(1);
    }
  }
  ~Agent() { stop(); }
  pid_t pid() const { return pid_; }
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    close(err_);
  }

 private:
  pid_t pid_ = -1;
  int err_ = -1;
};

/// The BPF programs whose fds process `pid` holds: prog id -> (name, run_time_ns, run_cnt).
struct ProgStats {
  std::string name;
  unsigned long long run_time_ns = 0, run_cnt = 0;
};
std::map<unsigned, ProgStats> prog_stats(pid_t pid) {
  std::map<unsigned, ProgStats> out;
  std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::ifstream in(dir + "/" + e->d_name);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("prog_id:", 0) != 0) continue;
      unsigned id = static_cast<unsigned>(std::atol(line.c_str() + 8));
      int fd = bpf_prog_get_fd_by_id(id);
      if (fd < 0) continue;
      bpf_prog_info info{};
      __u32 len = sizeof info;
      if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) out[id] = {info.name, info.run_time_ns, info.run_cnt};
      close(fd);
    }
  }
  closedir(d);
  return out;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(s.substr(s.rfind(')') + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) {
      stime = std::stoull(f);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// The load averages (/proc/loadavg, first three fields), to print with the figures.
std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// The q-quantile of `v` (linear between order statistics).
double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  double pos = q * static_cast<double>(v.size() - 1);
  size_t i = static_cast<size_t>(pos);
  if (i + 1 >= v.size()) return v.back();
  return v[i] + (pos - static_cast<double>(i)) * (v[i + 1] - v[i]);
}

/// A ratio's summary over rounds: median, interquartile range and the
/// distribution-free ~95% confidence interval of the median (order
/// statistics at n/2 -/+ 0.98 sqrt(n), 1-based, clamped).
struct RatioSummary {
  double median = 0, p25 = 0, p75 = 0, ci_low = 0, ci_high = 0;
  size_t n = 0;
};
RatioSummary summarize(std::vector<double> v) {
  RatioSummary r;
  r.n = v.size();
  if (v.empty()) return r;
  std::sort(v.begin(), v.end());
  r.median = median(v);
  r.p25 = quantile(v, 0.25);
  r.p75 = quantile(v, 0.75);
  double half = 0.98 * std::sqrt(static_cast<double>(r.n));
  long lo = static_cast<long>(std::floor(static_cast<double>(r.n) / 2 - half));
  long hi = static_cast<long>(std::ceil(static_cast<double>(r.n) / 2 + half));
  lo = std::clamp(lo, 1L, static_cast<long>(r.n));
  hi = std::clamp(hi, 1L, static_cast<long>(r.n));
  r.ci_low = v[static_cast<size_t>(lo - 1)];
  r.ci_high = v[static_cast<size_t>(hi - 1)];
  return r;
}

void print_ratio(const char* what, const RatioSummary& r) {
  auto pct = [](double x) { return (x - 1) * 100; };
  std::printf("| %s | %+.2f%% | %+.2f%% … %+.2f%% | %+.2f%% … %+.2f%% | %zu |\n", what, pct(r.median), pct(r.p25),
              pct(r.p75), pct(r.ci_low), pct(r.ci_high), r.n);
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Args a;
  bool skip_memory = false;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (k == "--rounds") a.rounds = std::stoi(next());
    else if (k == "--execs") a.execs = std::stoi(next());
    else if (k == "--memory-execs") a.memory_execs = std::stol(next());
    else if (k == "--no-memory") skip_memory = true;
    else if (k == "--exe") a.exe = next();
    else if (k == "--coldstart") a.coldstart = next();
    else if (k == "--agent-arg") a.agent_args.push_back(next());
    else {
      std::fprintf(stderr, "usage: watch_overhead [--rounds R] [--execs N] [--exe PATH] [--agent-arg FLAG]... [--memory-execs M | --no-memory]\n");
      return 2;
    }
  }

  std::printf("exec-heavy workload: %d rounds x %d sequential spawns of %s in each of bare, ticker and watch, "
              "interleaved (order permuted each round)\n\n",
              a.rounds, a.execs, a.exe.c_str());
  std::printf("load average before: %s (%ld CPUs)\n", load_average().c_str(), sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("per exec: median of the block's spawn+wait times (mean in parentheses); CPU: spawner + child\n");
  std::printf("%5s  %5s  %18s  %18s  %18s  %12s  %10s  %10s  %9s\n", "round", "order", "bare µs", "ticker µs",
              "watch µs", "watch/ticker", "bare CPU", "watch CPU", "CPU w/b");
  std::vector<double> bare, ticker, watch, ratios, bare_ratios, mean_ratios, bare_cpu, ticker_cpu, watch_cpu,
      cpu_ratios, cpu_ticker_ratios;
  time_block(a.exe, std::max(a.execs, 200));  // warm the page cache
  static const int kOrders[6][3] = {{0, 1, 2}, {2, 1, 0}, {1, 2, 0}, {0, 2, 1}, {2, 0, 1}, {1, 0, 2}};
  for (int r = 0; r < a.rounds; ++r) {
    Block t[3];
    const int* order = kOrders[r % 6];
    for (int k = 0; k < 3; ++k) {
      int c = order[k];
      if (c == 0) {
        t[0] = time_block(a.exe, a.execs);
      } else if (c == 1) {
        Ticker tick;
        usleep(20000);
        t[1] = time_block(a.exe, a.execs);
      } else {
        Agent agent(a);
        usleep(20000);
        t[2] = time_block(a.exe, a.execs);
      }
    }
    bare_cpu.push_back(t[0].cpu);
    watch_cpu.push_back(t[2].cpu);
    cpu_ratios.push_back(t[2].cpu / t[0].cpu);
    ticker_cpu.push_back(t[1].cpu);
    cpu_ticker_ratios.push_back(t[2].cpu / t[1].cpu);
    bare.push_back(t[0].median);
    ticker.push_back(t[1].median);
    watch.push_back(t[2].median);
    ratios.push_back(t[2].median / t[1].median);
    bare_ratios.push_back(t[2].median / t[0].median);
    mean_ratios.push_back(t[2].mean / t[1].mean);
    char order_name[4] = {"btw"[order[0]], "btw"[order[1]], "btw"[order[2]], 0};
    std::printf("%5d  %5s  %7.1f (%8.1f)  %7.1f (%8.1f)  %7.1f (%8.1f)  %12.4f  %10.1f  %10.1f  %9.4f\n", r + 1,
                order_name, t[0].median * 1e6, t[0].mean * 1e6, t[1].median * 1e6, t[1].mean * 1e6,
                t[2].median * 1e6, t[2].mean * 1e6, t[2].median / t[1].median, t[0].cpu * 1e6, t[2].cpu * 1e6,
                t[2].cpu / t[0].cpu);
    std::fflush(stdout);
  }
  std::printf("\n| condition | per exec (median over rounds of the block medians) | execs/s |\n|---|---|---|\n");
  std::printf("| bare | %.1f µs | %.0f |\n", median(bare) * 1e6, 1 / median(bare));
  std::printf("| ticker (wakes every 10 ms, no BPF) | %.1f µs | %.0f |\n", median(ticker) * 1e6, 1 / median(ticker));
  std::printf("| coldstart watch attached | %.1f µs | %.0f |\n", median(watch) * 1e6, 1 / median(watch));
  std::printf("| CPU per exec (spawner + child, user + sys), bare | %.1f µs | |\n", median(bare_cpu) * 1e6);
  std::printf("| CPU per exec, ticker | %.1f µs | |\n", median(ticker_cpu) * 1e6);
  std::printf("| CPU per exec, watch attached | %.1f µs | |\n\n", median(watch_cpu) * 1e6);
  std::printf("| watch overhead, paired per round | median | interquartile range | 95%% CI of the median | rounds |\n"
              "|---|---|---|---|---|\n");
  print_ratio("wall time (block median), watch/ticker", summarize(ratios));
  print_ratio("wall time (block median), watch/bare", summarize(bare_ratios));
  print_ratio("wall time (block mean), watch/ticker", summarize(mean_ratios));
  print_ratio("CPU time, watch/ticker", summarize(cpu_ticker_ratios));
  print_ratio("CPU time, watch/bare", summarize(cpu_ratios));
  std::printf("\nload average after: %s\n\n", load_average().c_str());
  std::fflush(stdout);

  {
    int stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
    if (stats < 0) {
      std::printf("BPF run-time statistics unavailable: %s\n\n", std::strerror(errno));
    } else {
      Agent agent(a);
      usleep(20000);
      const int stat_execs = std::max(a.execs, 2000);
      auto before = prog_stats(agent.pid());
      time_block(a.exe, stat_execs);
      auto after = prog_stats(agent.pid());
      close(stats);
      std::printf("the agent's BPF programs during %d execs (kernel BPF statistics):\n\n", stat_execs);
      std::printf("| program | runs | ns per run | ns per exec |\n|---|---|---|---|\n");
      double total = 0;
      for (const auto& [id, s1] : after) {
        const ProgStats& s0 = before.count(id) ? before.at(id) : ProgStats{};
        unsigned long long runs = s1.run_cnt - s0.run_cnt, ns = s1.run_time_ns - s0.run_time_ns;
        if (runs == 0) continue;
        double per_exec = static_cast<double>(ns) / stat_execs;
        total += per_exec;
        std::printf("| %s | %llu | %.0f | %.1f |\n", s1.name.c_str(), runs, static_cast<double>(ns) / runs, per_exec);
      }
      std::printf("| all | | | %.1f ns = %.3f%% of the median bare exec |\n\n", total,
                  total / (median(bare) * 1e9) * 100);
    }
    std::fflush(stdout);
  }
  if (skip_memory) return 0;

  std::string parent = a.cgroup_root + "/coldstart";
  mkdir(parent.c_str(), 0755);
  parent += "/" + std::to_string(getpid()) + "-watchbench";
  if (mkdir(parent.c_str(), 0755) != 0) {
    std::perror(("mkdir " + parent).c_str());
    return 1;
  }
  std::printf("memory: one agent through %ld execs of %s (every 1000th a start in a fresh cgroup)\n",
              a.memory_execs, a.memory_exe.c_str());
  std::printf("%10s  %10s  %12s  %10s\n", "execs", "VmRSS KiB", "agent CPU s", "elapsed s");
  {
    Agent agent(a);
    auto t0 = Clock::now();
    auto report = [&](long done) {
      std::printf("%10ld  %10ld  %12.2f  %10.1f\n", done, rss_kib(agent.pid()), cpu_seconds(agent.pid()),
                  std::chrono::duration<double>(Clock::now() - t0).count());
      std::fflush(stdout);
    };
    report(0);
    std::vector<long> marks = {a.memory_execs / 100, a.memory_execs / 10, a.memory_execs / 2, a.memory_execs};
    size_t next_mark = 0;
    for (long i = 1; i <= a.memory_execs; ++i) {
      if (i % 1000 == 0) run_start(a.memory_exe, parent + "/s" + std::to_string(i) + ".service");
      else run_one(a.memory_exe);
      while (next_mark < marks.size() && i == marks[next_mark]) {
        report(i);
        ++next_mark;
      }
    }
  }
  rmdir(parent.c_str());
  rmdir((a.cgroup_root + "/coldstart").c_str());  // fails (and stays) while other launches use it
  return 0;
}
