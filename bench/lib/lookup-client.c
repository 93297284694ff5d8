// The load of bench/lookup.mjs, in C: no garbage collector and a few microseconds of CPU per lookup, so that what
// it measures is the server, the kernel and the machine, not the client's own pauses (a Node client spent 20-30 µs
// a lookup on the same 2 cores and its collections and timer batching showed in the tail).
//
// Requests are sent on a fixed schedule (RATE per second in all, evenly spaced, each to the next idle connection
// of C kept-open ones, one request in flight per connection as a Postfix smtpd process holds its lookup
// connection), timed from a timerfd with an absolute deadline (microseconds, not the millisecond of a JS timer).
// Latency is measured from the request's write to its reply's last byte (CLOCK_MONOTONIC); a request that found
// no idle connection at its time waits and is counted (`late`), and its latency from its scheduled time is
// reported too (`sched_p99`), so that a slow server cannot hide by slowing the client down.
// The first WARMUP seconds are sent but not counted (the server's compiler and heap settle).
//
//   lookup-client PORT socketmap|policy RATE DURATION CONNECTIONS ROWS WARMUP [TRACE]
// Prints one JSON line (with `hist`: the measured latencies counted in buckets, each [upper bound in ms, count],
// the last unbounded). The timer is re-armed only when its deadline changes (a system call saved on most turns:
// this client shares the machine's cores with the server it measures). With TRACE (a file name), also writes there every measured lookup, one a line: its write
// and its reply's last byte (CLOCK_MONOTONIC ns, the clock of the server's process.hrtime) and whether it was
// for a suppressed address (bench/lookup-tail.mjs reads it beside the server's timeline).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  int fd;
  int busy;
  int suppressed_req;
  int64_t sent_ns, sched_ns;
  char buf[4096];
  int len;
} conn_t;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double *v, long n, double p) {
  if (n == 0) return 0;
  long i = (long)(p / 100 * n);
  if (i >= n) i = n - 1;
  return v[i];
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

int main(int argc, char **argv) {
  if (argc < 8) {
    fprintf(stderr, "usage: lookup-client PORT socketmap|policy RATE DURATION CONNECTIONS ROWS WARMUP [TRACE]\n");
    return 2;
  }
  int port = atoi(argv[1]);
  int policy = strcmp(argv[2], "policy") == 0;
  double rate = atof(argv[3]);
  double duration = atof(argv[4]);
  int nconn = atoi(argv[5]);
  long rows = atol(argv[6]);
  double warmup = atof(argv[7]);
  FILE *trace = argc > 8 ? fopen(argv[8], "w") : NULL;
  if (argc > 8 && !trace) {
    perror(argv[8]);
    return 1;
  }

  conn_t *conns = calloc(nconn, sizeof(conn_t));
  int ep = epoll_create1(0);
  for (int i = 0; i < nconn; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
      perror("connect");
      return 1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conns[i].fd = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
  struct epoll_event tev = {.events = EPOLLIN, .data.u32 = 0xffffffffu};
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);

  long total = (long)(rate * (warmup + duration));
  double *lat = malloc(sizeof(double) * (total + 1));
  double *sched = malloc(sizeof(double) * (total + 1));
  double *hit = malloc(sizeof(double) * (total / 50 + 16));
  long nlat = 0, nhit = 0, late = 0, done = 0, replies_ok = 0;
  int64_t period = (int64_t)(1e9 / rate);
  int64_t t0 = now_ns() + 20000000; // 20 ms from now
  int64_t measure_from = t0 + (int64_t)(warmup * 1e9);
  long k = 0;              // next request to send
  int rr = 0;              // round robin start
  struct rusage ru0, ru1;
  int64_t m0 = 0, m1 = 0;
  int measuring = 0;

  // Histogram buckets (ms, upper bounds); the last counts the rest.
  static const double bounds[] = {0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 50};
  enum { NB = sizeof bounds / sizeof bounds[0] };
  long hist[NB + 1] = {0};
  int64_t armed = -1; // the deadline the timer is armed for (0: disarmed, -1: unknown)

  struct epoll_event evs[64];
  for (;;) {
    int64_t t = now_ns();
    // Send every request whose time has come, each to an idle connection.
    while (k < total && t0 + k * period <= t) {
      int c = -1;
      for (int j = 0; j < nconn; j++) {
        int i = (rr + j) % nconn;
        if (!conns[i].busy) {
          c = i;
          break;
        }
      }
      if (c < 0) break; // every connection has a request in flight: wait for a reply
      rr = (c + 1) % nconn;
      int64_t at = t0 + k * period;
      char req[512], addr[64];
      int sup = k % 100 == 0;
      if (sup)
        snprintf(addr, sizeof addr, "s%ld@example.org", (long)((k * 7919) % rows));
      else
        snprintf(addr, sizeof addr, "n%012llx@example.org", (unsigned long long)(next_rand() & 0xffffffffffffULL));
      int n;
      if (policy)
        n = snprintf(req, sizeof req,
                     "request=smtpd_access_policy\nprotocol_state=RCPT\nsender=app@shop.example\nrecipient=%s\n\n", addr);
      else {
        char body[128];
        int bl = snprintf(body, sizeof body, "suppressed %s", addr);
        n = snprintf(req, sizeof req, "%d:%s,", bl, body);
      }
      if (!measuring && at >= measure_from) {
        measuring = 1;
        getrusage(RUSAGE_SELF, &ru0);
        m0 = now_ns();
      }
      conns[c].busy = 1;
      conns[c].suppressed_req = sup;
      conns[c].sched_ns = at;
      conns[c].len = 0;
      int64_t w = now_ns();
      if (w - at > 1000000) late++; // written more than 1 ms after its time
      conns[c].sent_ns = w;
      if (write(conns[c].fd, req, n) != n) {
        perror("write");
        return 1;
      }
      k++;
      t = now_ns();
    }
    if (k >= total) {
      int any = 0;
      for (int i = 0; i < nconn; i++) any |= conns[i].busy;
      if (!any) break;
    }
    // Wake at the next request's time (absolute), or on a reply. When that time has passed (every connection has
    // a request in flight), only a reply can let it go: the timer is disarmed, or it would fire at once, for ever.
    int idle = 0;
    for (int i = 0; i < nconn && !idle; i++) idle = !conns[i].busy;
    struct itimerspec its = {{0, 0}, {0, 0}};
    int64_t deadline = 0;
    if (k < total && idle) {
      deadline = t0 + k * period;
      its.it_value.tv_sec = deadline / 1000000000;
      its.it_value.tv_nsec = deadline % 1000000000;
    }
    if (deadline != armed) {
      timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
      armed = deadline;
    }
    int ne = epoll_wait(ep, evs, 64, 1000);
    if (ne < 0 && errno != EINTR) {
      perror("epoll_wait");
      return 1;
    }
    int64_t now = now_ns();
    for (int e = 0; e < ne; e++) {
      uint32_t i = evs[e].data.u32;
      if (i == 0xffffffffu) {
        uint64_t x;
        if (read(tfd, &x, sizeof x) < 0 && errno != EAGAIN) { /* nothing */
        }
        armed = -1; // fired: a one-shot timer is disarmed
        continue;
      }
      conn_t *c = &conns[i];
      int r = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
      if (r <= 0) {
        fprintf(stderr, "connection %u closed by the server\n", i);
        return 1;
      }
      c->len += r;
      int complete = policy ? (c->len >= 2 && c->buf[c->len - 1] == '\n' && c->buf[c->len - 2] == '\n')
                            : (c->buf[c->len - 1] == ',');
      if (!complete || !c->busy) continue;
      c->buf[c->len] = 0;
      int suppressed;
      if (policy)
        suppressed = strncmp(c->buf, "action=REJECT", 13) == 0;
      else {
        char *colon = strchr(c->buf, ':');
        suppressed = colon && strncmp(colon + 1, "OK ", 3) == 0;
      }
      c->busy = 0;
      done++;
      if (c->sched_ns >= measure_from) {
        double ms = (now - c->sent_ns) / 1e6;
        lat[nlat] = ms;
        int b = 0;
        while (b < NB && ms > bounds[b]) b++;
        hist[b]++;
        sched[nlat] = (now - c->sched_ns) / 1e6;
        nlat++;
        if (trace) fprintf(trace, "%lld %lld %d\n", (long long)c->sent_ns, (long long)now, c->suppressed_req);
        if (suppressed) {
          replies_ok++;
          hit[nhit++] = ms;
        }
        m1 = now;
      }
    }
  }
  getrusage(RUSAGE_SELF, &ru1);
  if (trace) fclose(trace);
  double cpu = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) + (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
               ((ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) + (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec)) / 1e6;
  qsort(lat, nlat, sizeof(double), cmp);
  qsort(sched, nlat, sizeof(double), cmp);
  qsort(hit, nhit, sizeof(double), cmp);
  double secs = (m1 - m0) / 1e9;
  printf("{\"n\":%ld,\"rate\":%.1f,\"p50\":%.4f,\"p90\":%.4f,\"p99\":%.4f,\"p999\":%.4f,\"max\":%.3f,"
         "\"schedP99\":%.4f,\"late\":%ld,\"suppressed\":%ld,\"hitP50\":%.4f,\"hitP99\":%.4f,\"clientUs\":%.2f",
         nlat, secs > 0 ? nlat / secs : 0, pct(lat, nlat, 50), pct(lat, nlat, 90), pct(lat, nlat, 99),
         pct(lat, nlat, 99.9), nlat ? lat[nlat - 1] : 0, pct(sched, nlat, 99), late, nhit, pct(hit, nhit, 50),
         pct(hit, nhit, 99), nlat ? cpu * 1e6 / nlat : 0);
  // The histogram, appended to the same JSON object.
  fflush(stdout);
  printf(",\"hist\":[");
  for (int b = 0; b <= NB; b++) printf("%s[%g,%ld]", b ? "," : "", b < NB ? bounds[b] : -1.0, hist[b]);
  printf("]}\n");
  return 0;
}
