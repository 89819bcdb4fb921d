/* The launcher's test target, built static with musl so that its own start
 * costs ~0.1 ms and a measured time-to-ready is the delay it was asked for.
 *
 *   launch-fixture notify MS    sleep MS ms, send READY=1 to $NOTIFY_SOCKET, wait for SIGTERM;
 *                               the datagram also carries X_FIXTURE_MAIN_NS and X_FIXTURE_SENT_NS,
 *                               its own CLOCK_MONOTONIC at main() and just before sendto(), so a
 *                               test can tell its own delay (sleep overshoot) from the launcher's
 *   launch-fixture notify-spin MS  the same, but spin on the clock for MS ms instead of sleeping:
 *                               a timer wake-up on this VM kind overshoots by 0.1-3 ms, which
 *                               would hide the launcher's own error in the accuracy test
 *   launch-fixture log MS       sleep MS ms, print "ready to serve" on stdout, wait
 *   launch-fixture exit CODE    exit with CODE at once
 *   launch-fixture crash        print "boom: bad config" on stderr, then abort (SIGABRT)
 *   launch-fixture never        never gets ready (waits for SIGTERM)
 *   launch-fixture stubborn     fork a grandchild that ignores SIGTERM, send READY=1, wait
 *   launch-fixture status MS    send STATUS=loading, EXTEND_TIMEOUT_USEC, then READY=1 after MS ms
 *   launch-fixture listen MS PORT  sleep MS ms, listen on 127.0.0.1:PORT, wait (tcp: vs listen probes)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static long long monotonic_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void spin_ms(long ms) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  long long end = (long long)start.tv_sec * 1000000000LL + start.tv_nsec + ms * 1000000LL;
  do {
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while ((long long)now.tv_sec * 1000000000LL + now.tv_nsec < end);
}

static int notify(const char* state) {
  const char* path = getenv("NOTIFY_SOCKET");
  if (path == NULL || path[0] == '\0') return -1;
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t len = strlen(path);
  if (len >= sizeof addr.sun_path) return -1;
  memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';
  else len += 1;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  ssize_t n = sendto(fd, state, strlen(state), 0, (struct sockaddr*)&addr,
                     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
  close(fd);
  return n < 0 ? -1 : 0;
}

static void wait_for_term(void) {
  for (;;) pause();  /* SIGTERM's default action ends us */
}

int main(int argc, char** argv) {
  const long long main_ns = monotonic_ns();
  const char* mode = argc > 1 ? argv[1] : "notify";
  long arg = argc > 2 ? atol(argv[2]) : 0;
  if (strcmp(mode, "notify") == 0 || strcmp(mode, "notify-spin") == 0) {
    if (mode[6] == '-') spin_ms(arg);
    else sleep_ms(arg);
    char ready[128];
    snprintf(ready, sizeof ready, "READY=1\nX_FIXTURE_MAIN_NS=%lld\nX_FIXTURE_SENT_NS=%lld", main_ns,
             monotonic_ns());
    if (notify(ready) != 0) return 4;
    wait_for_term();
  } else if (strcmp(mode, "log") == 0) {
    sleep_ms(arg);
    printf("ready to serve\n");
    fflush(stdout);
    wait_for_term();
  } else if (strcmp(mode, "exit") == 0) {
    return (int)arg;
  } else if (strcmp(mode, "crash") == 0) {
    fprintf(stderr, "launch-fixture: starting\nboom: bad config\n");
    fflush(stderr);
    abort();
  } else if (strcmp(mode, "never") == 0) {
    wait_for_term();
  } else if (strcmp(mode, "stubborn") == 0) {
    /* Ignore SIGTERM before the fork, so the grandchild ignores it from its
     * first instant: READY=1 never comes before that (a race under load). */
    signal(SIGTERM, SIG_IGN);
    pid_t pid = fork();
    if (pid == 0) {
      for (;;) pause();
    }
    signal(SIGTERM, SIG_DFL);
    notify("READY=1");
    wait_for_term();
  } else if (strcmp(mode, "listen") == 0 && argc > 3) {
    sleep_ms(arg);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)atoi(argv[3]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr*)&a, sizeof a) != 0 || listen(fd, 16) != 0) return 5;
    wait_for_term();
  } else if (strcmp(mode, "status") == 0) {
    notify("RELOADING=1\nSTATUS=loading");
    notify("EXTEND_TIMEOUT_USEC=5000000");
    sleep_ms(arg);
    notify("STATUS=serving\nREADY=1\nMAINPID=1");
    wait_for_term();
  }
  fprintf(stderr, "launch-fixture: unknown mode %s\n", mode);
  return 2;
}
