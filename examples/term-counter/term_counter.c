/* Counts the signals a stop delivers (issue 16 item 6: `run` sent SIGTERM twice).
 *
 *   term-counter LOG THREADS CHILDREN [ignore]
 *
 * Forks CHILDREN children; every process of the tree runs THREADS extra
 * threads (a signal to a process is taken by any one of them, as in redis).
 * Each SIGTERM a process receives appends "PID TERM" to LOG (O_APPEND, one
 * write(2): safe in a handler, atomic between processes). After the first
 * SIGTERM a process lingers 300 ms, so a second SIGTERM sent by a careless
 * stop still arrives and is counted, then exits 0; with "ignore" it never
 * exits, so only SIGKILL after the grace period ends it. When the tree is
 * up, the main process writes "PID READY" to LOG and sends READY=1 to
 * $NOTIFY_SOCKET.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int log_fd = -1;
static volatile sig_atomic_t terms = 0;

static void log_line(const char* what) {
  char buf[64];
  int n = snprintf(buf, sizeof buf, "%d %s\n", (int)getpid(), what);
  if (n > 0) (void)!write(log_fd, buf, (size_t)n);
}

static void on_term(int sig) {
  (void)sig;
  log_line("TERM");
  terms = terms + 1;
}

static void* idle_thread(void* arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

static void notify_ready(void) {
  const char* path = getenv("NOTIFY_SOCKET");
  if (path == NULL || path[0] == '\0') return;
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t len = strlen(path);
  if (len >= sizeof addr.sun_path) return;
  memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  (void)!sendto(fd, "READY=1", 7, 0, (struct sockaddr*)&addr,
                (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '@' ? 0 : 1)));
  close(fd);
}

static void serve(int threads, int ignore) {
  for (int i = 0; i < threads; ++i) {
    pthread_t t;
    if (pthread_create(&t, NULL, idle_thread, NULL) != 0) exit(3);
  }
  for (;;) {
    if (terms > 0 && !ignore) {
      struct timespec linger = {0, 300000000L};
      while (nanosleep(&linger, &linger) != 0) {
      }
      exit(0);
    }
    pause();
  }
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: term-counter LOG THREADS CHILDREN [ignore]\n");
    return 2;
  }
  log_fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (log_fd < 0) return 2;
  int threads = atoi(argv[2]), children = atoi(argv[3]);
  int ignore = argc > 4 && strcmp(argv[4], "ignore") == 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  for (int i = 0; i < children; ++i) {
    pid_t pid = fork();
    if (pid < 0) return 3;
    if (pid == 0) {
      log_line("CHILD");
      serve(threads, ignore);
    }
  }
  log_line("READY");
  notify_ready();
  serve(threads, ignore);
  return 0;
}
