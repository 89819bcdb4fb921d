/* An independent time-to-ready harness for bench/real_servers. It shares no
 * code with coldstart: posix_spawnp (glibc's CLONE_VFORK spawn, in a new
 * process group, stdio on /dev/null), a non-blocking connect() to
 * 127.0.0.1:PORT every 200 us until one succeeds (or, for PORT 0, a blocking
 * waitpid for the child's exit),
 * then SIGTERM to the session, SIGKILL after 5 s, waitpid. Prints one
 * time-to-ready per run in seconds (CLOCK_MONOTONIC, fork to the successful
 * connect).
 *
 * With PORT "notify" it binds its own AF_UNIX datagram socket, passes it as
 * NOTIFY_SOCKET and takes the ready instant when READY=1 arrives.
 *
 * usage: harness RUNS PORT|notify PROG ARGS...      (PORT 0: ready = exit) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int connects(int port) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  int ok = connect(fd, (struct sockaddr*)&a, sizeof a) == 0 || errno == EINPROGRESS;
  if (ok && errno == EINPROGRESS) {  /* loopback answers at once; check it did connect */
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    ok = err == 0;
  }
  close(fd);
  return ok;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: harness RUNS PORT PROG ARGS...\n");
    return 2;
  }
  int runs = atoi(argv[1]), port = atoi(argv[2]);
  prctl(PR_SET_TIMERSLACK, 1UL);  /* sleep 200 us, not 200 us + the default 50 us slack */
  int notify = strcmp(argv[2], "notify") == 0, nfd = -1;
  char dir[] = "/tmp/harness-notify-XXXXXX", path[128];
  if (notify) {
    if (!mkdtemp(dir)) return 2;
    snprintf(path, sizeof path, "%s/s", dir);
    struct sockaddr_un a = {0};
    a.sun_family = AF_UNIX;
    strcpy(a.sun_path, path);
    nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (bind(nfd, (struct sockaddr*)&a, sizeof a) != 0) return 2;
    setenv("NOTIFY_SOCKET", path, 1);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int fd = 0; fd < 3; ++fd) posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);  /* pgid = pid; a new session would be a new autogroup */
  for (int r = 0; r < runs; ++r) {
    double t0 = now();
    pid_t pid;
    if (posix_spawnp(&pid, argv[3], &actions, &attr, argv + 3, environ) != 0) {
      fprintf(stderr, "harness: cannot run %s\n", argv[3]);
      return 2;
    }
    double ready = -1;
    int status = 0, reaped = 0;
    while (now() - t0 < 10) {
      if (notify) {
        struct pollfd p = {nfd, POLLIN, 0};
        if (poll(&p, 1, 1) == 1) {
          char buf[4096];
          ssize_t n = recv(nfd, buf, sizeof buf - 1, 0);
          if (n > 0) {
            buf[n] = 0;
            if (strstr(buf, "READY=1")) {
              ready = now() - t0;
              break;
            }
          }
          continue;
        }
        if (waitpid(pid, &status, WNOHANG) == pid) {
          reaped = 1;
          break;
        }
        continue;
      } else if (port == 0) {
        if (waitpid(pid, &status, 0) == pid) {
          ready = now() - t0;
          reaped = 1;
          break;
        }
      } else if (connects(port)) {
        ready = now() - t0;
        break;
      } else if (waitpid(pid, &status, WNOHANG) == pid) {
        reaped = 1;
        break;
      }
      struct timespec d = {0, 200000};
      nanosleep(&d, NULL);
    }
    if (!reaped) {
      kill(-pid, SIGTERM);
      double t_kill = now();
      while (waitpid(pid, &status, WNOHANG) != pid) {
        if (now() - t_kill > 5) kill(-pid, SIGKILL);
        struct timespec d = {0, 200000};
        nanosleep(&d, NULL);
      }
      /* the rest of the session (nginx workers) */
      for (int i = 0; i < 5000 && kill(-pid, 0) == 0; ++i) {
        struct timespec d = {0, 1000000};
        nanosleep(&d, NULL);
        if (i == 4999) kill(-pid, SIGKILL);
      }
    }
    if (ready < 0) {
      fprintf(stderr, "harness: %s not ready\n", argv[3]);
      if (notify) unlink(path), rmdir(dir);
      return 1;
    }
    printf("%.6f\n", ready);
    fflush(stdout);
  }
  if (notify) unlink(path), rmdir(dir);
  return 0;
}
