/*
 * Round-trip latency through the kernel, in C, for the socket and pipe rows of
 * bench/vs_c.ts:
 *
 *   stream socket <iters> <warm> [corrupt]   a Unix domain stream socket pair (socketpair)
 *   stream pipe   <iters> <warm> [corrupt]   two pipes, one each way
 *
 * This process forks an echo process that reads 8-byte messages and writes each one
 * back; round trip i writes i and blocks in read() until the echo returned exactly i.
 * Timing, warm-up and output as in pingpong.c.
 */
#include "common.h"
#include <sys/socket.h>

static void write_all(int fd, const void *p, size_t n) {
  while (n > 0) {
    ssize_t k = write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) die("write: %s", strerror(errno));
    p = (const char *)p + k, n -= (size_t)k;
  }
}

/* Reads exactly n bytes; false at end of stream before the first byte. */
static bool read_all(int fd, void *p, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t k = read(fd, (char *)p + got, n - got);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) die("read: %s", strerror(errno));
    if (k == 0) {
      if (got == 0) return false;
      die("read: end of stream inside a message");
    }
    got += (size_t)k;
  }
  return true;
}

static int echo_in, echo_out, parent_out, parent_in;
static long corrupt_at = -1;

static void echo(void *arg) {
  (void)arg;
  /* The initiator's ends: a pipe's reader sees end of stream only once every writer closed it. */
  close(parent_out);
  if (parent_in != parent_out) close(parent_in);
  uint64_t v;
  for (long i = 0; read_all(echo_in, &v, sizeof v); i++) {
    if (i == corrupt_at) v += 1;
    write_all(echo_out, &v, sizeof v);
  }
}

int main(int argc, char **argv) {
  if (argc < 4) die("usage: stream <socket|pipe> <iters> <warm> [corrupt]");
  bool sock = !strcmp(argv[1], "socket");
  if (!sock && strcmp(argv[1], "pipe")) die("bad mode %s", argv[1]);
  long iters = arg_long(argv[2], "iters"), warm = arg_long(argv[3], "warm");
  if (iters < 1) die("iters must be at least 1");
  if (argc > 4 && !strcmp(argv[4], "corrupt")) corrupt_at = warm + iters / 2;
  int out, in;
  if (sock) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) die("socketpair: %s", strerror(errno));
    out = in = sv[0];
    echo_in = echo_out = sv[1];
  } else {
    int there[2], back[2];
    if (pipe(there) != 0 || pipe(back) != 0) die("pipe: %s", strerror(errno));
    out = there[1], echo_in = there[0];
    echo_out = back[1], in = back[0];
  }
  parent_out = out, parent_in = in;
  double *t = malloc((size_t)iters * sizeof *t);
  if (!t) die("out of memory");
  pid_t child = start_child(echo, NULL);
  /* Only the echo uses its ends (closing them here lets it see end of stream). */
  close(echo_in);
  if (echo_out != echo_in) close(echo_out);

  double checksum = 0, prev = now_ns();
  long total = warm + iters;
  for (long i = 0; i < total; i++) {
    uint64_t v = (uint64_t)i, back;
    write_all(out, &v, sizeof v);
    if (!read_all(in, &back, sizeof back)) die("the echo process closed the stream");
    if (back != v) die("round trip %ld: sent %llu, echoed %llu", i, (unsigned long long)v, (unsigned long long)back);
    double now = now_ns();
    if (i >= warm) t[i - warm] = now - prev, checksum += (double)back;
    prev = now;
  }
  if (sock) shutdown(out, SHUT_WR);
  else close(out);
  join_child(child, "echo");
  double expected = (double)total * (double)(total - 1) / 2 - (warm > 0 ? (double)warm * (double)(warm - 1) / 2 : 0);
  if (checksum != expected) die("checksum mismatch: got %.17g, expected %.17g", checksum, expected);
  print_latency(argv[1], t, (size_t)iters, checksum, expected);
  return 0;
}
