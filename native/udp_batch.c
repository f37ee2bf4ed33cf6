/*
 * udp_batch: batched UDP I/O for the DNS server on Linux (src/dns/udp-batch.ts).
 *
 * node:dgram costs one recvmsg and one sendmsg system call, a 'message' event, a Buffer and an
 * rinfo object per datagram. Here one socket, watched with a uv_poll_t on Node's own loop, is
 * read with recvmmsg (up to BATCH datagrams a call) into memory shared with JavaScript; one call
 * into JavaScript handles the whole batch (it writes each reply, or none, into a shared output
 * area) and one sendmmsg sends the replies back to the sources. A full batch is followed by
 * another read, up to MAX_ROUNDS per wake-up so timers, TCP and IPC still get their turn.
 *
 * Shared memory (Buffers allocated by JavaScript, pinned here with references):
 *   in       BATCH slots of SLOT octets: the datagrams
 *   info     Int32 x INFO_WORDS per slot: length, source port, family (4/6), address text length,
 *            raw address (4 words: IPv4 in word 0, IPv6 in words 0-3, network order bytes)
 *   text     TEXT_STRIDE octets per slot: an IPv6 source address as inet_ntop writes it (empty
 *            for IPv4: JavaScript writes a.b.c.d from the raw octets when it has not cached it)
 *   out      BATCH slots of SLOT octets: the replies
 *   outLen   Int32 per slot: reply length, 0 = no reply
 *   stats    Float64: see the STAT_* indices (counted here, read by JavaScript)
 *
 * Errors are counted (and the last errno kept), never thrown out of the loop. A send that meets a
 * full socket buffer (EAGAIN) keeps the unsent replies, stops reading and waits for the socket to
 * become writable; a datagram the kernel refuses to send (any other error) is skipped.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "errno_error.h"

#define BATCH 64
#define SLOT 65536
#define INFO_WORDS 8
#define TEXT_STRIDE 64
#define MAX_ROUNDS 16

enum {
  STAT_RECV_ERRORS = 0,
  STAT_SEND_ERRORS = 1,
  STAT_LAST_RECV_ERRNO = 2,
  STAT_LAST_SEND_ERRNO = 3,
  STAT_TRUNCATED = 4,
  STAT_CALLBACK_ERRORS = 5,
  STAT_BATCHES = 6,
  STAT_WORDS = 8
};

typedef struct {
  napi_env env;
  uv_poll_t poll;
  int fd;
  int family; /* AF_INET or AF_INET6 */
  int closing;
  int direct; /* 1 while pump() runs: JavaScript is on the stack, call it directly */
  int pending_from; /* first unsent reply after EAGAIN, -1 when none */
  int pending_count;
  unsigned char *in;
  int32_t *info;
  char *text;
  unsigned char *out;
  int32_t *out_len;
  double *stats;
  napi_ref refs[6];
  napi_ref callback;
  napi_async_context async;
  struct mmsghdr rmsgs[BATCH];
  struct iovec riov[BATCH];
  struct sockaddr_storage peers[BATCH];
  struct mmsghdr smsgs[BATCH];
  struct iovec siov[BATCH];
} batch_socket;

static void throw_errno(napi_env env, const char *syscall, int err, const char *host, int port) {
  char message[256];
  snprintf(message, sizeof message, "%s %s %s:%d", syscall, uv_err_name(-err), host, port);
  napi_throw(env, errno_error(env, message, syscall, err));
}

/* Sends replies first..first+count-1 (already laid out in smsgs). Returns 1 when blocked. */
static int send_replies(batch_socket *s, int first, int count) {
  int i = first;
  int end = first + count;
  while (i < end) {
    int r = sendmmsg(s->fd, &s->smsgs[i], (unsigned int)(end - i), MSG_DONTWAIT);
    if (r > 0) {
      i += r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      s->pending_from = i;
      s->pending_count = end - i;
      return 1;
    }
    /* This datagram cannot be sent (the error is the first message's): count it, go on. */
    s->stats[STAT_SEND_ERRORS] += 1;
    s->stats[STAT_LAST_SEND_ERRNO] = r < 0 ? errno : 0;
    i++;
  }
  s->pending_from = -1;
  s->pending_count = 0;
  return 0;
}

static int call_js(batch_socket *s, int n) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return -1;
  napi_value fn, recv, argv[1], result;
  int ok = 0;
  if (napi_get_reference_value(env, s->callback, &fn) == napi_ok && napi_get_global(env, &recv) == napi_ok &&
      napi_create_int32(env, n, &argv[0]) == napi_ok) {
    napi_status st = s->direct ? napi_call_function(env, recv, fn, 1, argv, &result)
                               : napi_make_callback(env, s->async, recv, fn, 1, argv, &result);
    if (st != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value ignored;
        napi_get_and_clear_last_exception(env, &ignored);
      }
      s->stats[STAT_CALLBACK_ERRORS] += 1;
      ok = -1;
    }
  } else {
    ok = -1;
  }
  napi_close_handle_scope(env, scope);
  return ok;
}

static void set_events(batch_socket *s, int events);

/* One read-answer-send round. Returns the number of datagrams read (0 when none), -1 when blocked. */
static int round_trip(batch_socket *s) {
  for (int i = 0; i < BATCH; i++) {
    s->rmsgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
    s->rmsgs[i].msg_hdr.msg_flags = 0;
    s->rmsgs[i].msg_len = 0;
  }
  int n;
  do {
    n = recvmmsg(s->fd, s->rmsgs, BATCH, MSG_DONTWAIT, NULL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      s->stats[STAT_RECV_ERRORS] += 1;
      s->stats[STAT_LAST_RECV_ERRNO] = errno;
    }
    return 0;
  }
  if (n == 0) return 0;
  for (int i = 0; i < n; i++) {
    int32_t *info = s->info + i * INFO_WORDS;
    char *text = s->text + i * TEXT_STRIDE;
    struct sockaddr_storage *ss = &s->peers[i];
    info[0] = (int32_t)s->rmsgs[i].msg_len;
    if (s->rmsgs[i].msg_hdr.msg_flags & MSG_TRUNC) s->stats[STAT_TRUNCATED] += 1;
    if (ss->ss_family == AF_INET6) {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
      info[1] = ntohs(a->sin6_port);
      info[2] = 6;
      memcpy(&info[4], &a->sin6_addr, 16);
      if (inet_ntop(AF_INET6, &a->sin6_addr, text, TEXT_STRIDE) == NULL) text[0] = 0;
    } else {
      struct sockaddr_in *a = (struct sockaddr_in *)ss;
      info[1] = ntohs(a->sin_port);
      info[2] = 4;
      memcpy(&info[4], &a->sin_addr, 4);
      info[5] = info[6] = info[7] = 0;
      /* No text: JavaScript makes a.b.c.d from the raw octets, once per address it has not cached. */
      text[0] = 0;
    }
    info[3] = (int32_t)strlen(text);
    s->out_len[i] = 0;
  }
  s->stats[STAT_BATCHES] += 1;
  call_js(s, n);
  if (s->closing) return 0;
  int replies = 0;
  for (int i = 0; i < n; i++) {
    int32_t len = s->out_len[i];
    if (len <= 0 || len > SLOT) continue;
    s->siov[replies].iov_base = s->out + (size_t)i * SLOT;
    s->siov[replies].iov_len = (size_t)len;
    struct msghdr *h = &s->smsgs[replies].msg_hdr;
    memset(h, 0, sizeof *h);
    h->msg_name = &s->peers[i];
    h->msg_namelen = s->peers[i].ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    h->msg_iov = &s->siov[replies];
    h->msg_iovlen = 1;
    replies++;
  }
  if (replies > 0 && send_replies(s, 0, replies)) {
    set_events(s, UV_WRITABLE);
    return -1;
  }
  return n;
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  batch_socket *s = (batch_socket *)handle->data;
  if (s->closing) return;
  if (status < 0) {
    s->stats[STAT_RECV_ERRORS] += 1;
    s->stats[STAT_LAST_RECV_ERRNO] = -status;
    return;
  }
  if (s->pending_count > 0) {
    if (!(events & UV_WRITABLE)) return;
    if (send_replies(s, s->pending_from, s->pending_count)) return;
    set_events(s, UV_READABLE);
  }
  for (int round = 0; round < MAX_ROUNDS; round++) {
    int n = round_trip(s);
    if (n < BATCH || s->closing) break;
  }
}

static void set_events(batch_socket *s, int events) {
  uv_poll_start(&s->poll, events, on_poll);
}

static void free_socket(batch_socket *s) {
  napi_env env = s->env;
  for (int i = 0; i < 6; i++)
    if (s->refs[i] != NULL) napi_delete_reference(env, s->refs[i]);
  if (s->callback != NULL) napi_delete_reference(env, s->callback);
  if (s->async != NULL) napi_async_destroy(env, s->async);
  free(s);
}

static void on_closed(uv_handle_t *handle) {
  batch_socket *s = (batch_socket *)handle->data;
  free_socket(s);
}

static void close_socket(batch_socket *s) {
  if (s->closing) return;
  s->closing = 1;
  uv_poll_stop(&s->poll);
  close(s->fd);
  s->fd = -1;
  uv_close((uv_handle_t *)&s->poll, on_closed);
}

static int buffer_arg(napi_env env, napi_value obj, const char *name, size_t min_length, void **data, napi_ref *ref) {
  napi_value v;
  bool is_buffer = false;
  size_t length = 0;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return 0;
  if (napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer) return 0;
  if (napi_get_buffer_info(env, v, data, &length) != napi_ok || length < min_length) return 0;
  return napi_create_reference(env, v, 1, ref) == napi_ok;
}

/* The bound port of fd, or -1. */
static int bound_port_of(int fd, int *family) {
  struct sockaddr_storage bound;
  socklen_t bound_len = sizeof bound;
  if (getsockname(fd, (struct sockaddr *)&bound, &bound_len) != 0) return -1;
  *family = bound.ss_family;
  if (bound.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
  if (bound.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&bound)->sin_port);
  return -1;
}

/*
 * The SO_REUSEPORT group's choice of socket for each datagram: a random one of `sockets` (a
 * classic BPF program: A = a random 32-bit number, A %= sockets, return A). Without it the kernel
 * hashes the source address and port, so one client (a resolver, dnsperf) always meets the same
 * socket. An index past the group's end (a socket closed, a worker gone) makes the kernel fall
 * back to that hash among the sockets left. Set on any socket of the group, it serves them all;
 * set after bind (before, the socket would make a group of its own and the bind into the
 * existing one fails with EADDRINUSE). Random rather than by CPU (SKF_AD_CPU, fewer wake-ups in
 * bench/RESULTS.md): a NIC with one receive queue would give every datagram to one socket.
 */
static int attach_spread(int fd, int sockets) {
  struct sock_filter code[] = {
      {BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_RANDOM)},
      {BPF_ALU | BPF_MOD | BPF_K, 0, 0, (uint32_t)sockets},
      {BPF_RET | BPF_A, 0, 0, 0},
  };
  struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
  return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog);
}

/*
 * A non-blocking UDP socket bound to opts.host (an address literal) and opts.port, with
 * SO_REUSEPORT when opts.reusePort or opts.spread > 1 (then also attach_spread(opts.spread)). Returns the fd, or -1 with a JavaScript error thrown (code,
 * errno and syscall as node:dgram's bind errors).
 */
static int make_socket(napi_env env, napi_value opts) {
  napi_value v;
  char host[64];
  size_t host_len = 0;
  int32_t port = 0;
  bool ipv6 = false, reuse_port = false;
  int32_t spread = 0;
  if (napi_get_named_property(env, opts, "host", &v) != napi_ok ||
      napi_get_value_string_utf8(env, v, host, sizeof host, &host_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "host must be an address literal");
    return -1;
  }
  napi_get_named_property(env, opts, "port", &v);
  napi_get_value_int32(env, v, &port);
  napi_get_named_property(env, opts, "ipv6", &v);
  napi_get_value_bool(env, v, &ipv6);
  napi_get_named_property(env, opts, "reusePort", &v);
  napi_get_value_bool(env, v, &reuse_port);
  if (napi_get_named_property(env, opts, "spread", &v) == napi_ok) napi_get_value_int32(env, v, &spread);
  if (spread > 1) reuse_port = true;

  struct sockaddr_storage addr;
  socklen_t addr_len;
  int ok = 1;
  memset(&addr, 0, sizeof addr);
  if (ipv6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&addr;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) ok = 0;
    addr_len = sizeof *a;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&addr;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1) ok = 0;
    addr_len = sizeof *a;
  }
  if (!ok) {
    throw_errno(env, "bind", EINVAL, host, port);
    return -1;
  }
  int fd = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, "socket", errno, host, port);
    return -1;
  }
  int one = 1;
  if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    int err = errno;
    close(fd);
    throw_errno(env, "setsockopt", err, host, port);
    return -1;
  }
  if (bind(fd, (struct sockaddr *)&addr, addr_len) != 0) {
    int err = errno;
    close(fd);
    throw_errno(env, "bind", err, host, port);
    return -1;
  }
  /* After bind: the socket is in its group then (attached before, it would make a group of its own). */
  if (spread > 1 && attach_spread(fd, spread) != 0) {
    int err = errno;
    close(fd);
    throw_errno(env, "setsockopt", err, host, port);
    return -1;
  }
  return fd;
}

/*
 * bindSocket({ host, port, ipv6, reusePort, spread }) -> { fd, port }: a bound socket nobody
 * reads yet. The main process makes one per DNS worker (one in all with a single worker), which
 * gets it as an inherited descriptor and reads it with open({ fd }).
 */
static napi_value js_bind_socket(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value opts;
  napi_get_cb_info(env, cbinfo, &argc, &opts, NULL, NULL);
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "bindSocket: options required");
    return NULL;
  }
  int fd = make_socket(env, opts);
  if (fd < 0) return NULL;
  int family = 0;
  int port = bound_port_of(fd, &family);
  napi_value result, fd_value, port_value;
  napi_create_object(env, &result);
  napi_create_int32(env, fd, &fd_value);
  napi_create_int32(env, port, &port_value);
  napi_set_named_property(env, result, "fd", fd_value);
  napi_set_named_property(env, result, "port", port_value);
  return result;
}

/* closeFd(fd): closes a socket from bindSocket. */
static napi_value js_close_fd(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value arg;
  int32_t fd = -1;
  napi_get_cb_info(env, cbinfo, &argc, &arg, NULL, NULL);
  if (argc >= 1 && napi_get_value_int32(env, arg, &fd) == napi_ok && fd > 2) close(fd);
  return NULL;
}

/*
 * open({ host, port, ipv6, reusePort | fd, in, info, text, out, outLen, stats, onBatch })
 *   -> { handle, port }
 * Makes and binds the socket, or with `fd` reads a bound UDP socket made elsewhere (bindSocket in
 * the main process, inherited by a DNS worker). Throws as make_socket does.
 */
static napi_value js_open(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value opts;
  napi_get_cb_info(env, cbinfo, &argc, &opts, NULL, NULL);
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "open: options required");
    return NULL;
  }
  batch_socket *s = calloc(1, sizeof *s);
  if (s == NULL) {
    napi_throw_error(env, NULL, "open: out of memory");
    return NULL;
  }
  s->env = env;
  s->fd = -1;
  s->pending_from = -1;
  int ok = buffer_arg(env, opts, "in", (size_t)BATCH * SLOT, (void **)&s->in, &s->refs[0]) &&
           buffer_arg(env, opts, "info", (size_t)BATCH * INFO_WORDS * 4, (void **)&s->info, &s->refs[1]) &&
           buffer_arg(env, opts, "text", (size_t)BATCH * TEXT_STRIDE, (void **)&s->text, &s->refs[2]) &&
           buffer_arg(env, opts, "out", (size_t)BATCH * SLOT, (void **)&s->out, &s->refs[3]) &&
           buffer_arg(env, opts, "outLen", (size_t)BATCH * 4, (void **)&s->out_len, &s->refs[4]) &&
           buffer_arg(env, opts, "stats", (size_t)STAT_WORDS * 8, (void **)&s->stats, &s->refs[5]);
  napi_value fn;
  napi_valuetype type = napi_undefined;
  if (ok && (napi_get_named_property(env, opts, "onBatch", &fn) != napi_ok || napi_typeof(env, fn, &type) != napi_ok ||
             type != napi_function || napi_create_reference(env, fn, 1, &s->callback) != napi_ok))
    ok = 0;
  if (!ok) {
    free_socket(s);
    napi_throw_type_error(env, NULL, "open: in/info/text/out/outLen/stats must be Buffers of the expected sizes and onBatch a function");
    return NULL;
  }

  napi_value fd_arg;
  napi_valuetype fd_type = napi_undefined;
  int32_t given_fd = -1;
  if (napi_get_named_property(env, opts, "fd", &fd_arg) == napi_ok && napi_typeof(env, fd_arg, &fd_type) == napi_ok &&
      fd_type == napi_number)
    napi_get_value_int32(env, fd_arg, &given_fd);
  int fd = given_fd >= 0 ? given_fd : make_socket(env, opts);
  if (fd < 0) {
    free_socket(s);
    return NULL;
  }
  int bound_port = bound_port_of(fd, &s->family);
  if (bound_port < 0 || (s->family != AF_INET && s->family != AF_INET6)) {
    if (given_fd < 0) close(fd);
    free_socket(s);
    napi_throw_error(env, NULL, "open: the descriptor is not a bound IPv4 or IPv6 socket");
    return NULL;
  }
  if (given_fd >= 0) {
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  }
  s->fd = fd;
  for (int i = 0; i < BATCH; i++) {
    s->riov[i].iov_base = s->in + (size_t)i * SLOT;
    s->riov[i].iov_len = SLOT;
    s->rmsgs[i].msg_hdr.msg_iov = &s->riov[i];
    s->rmsgs[i].msg_hdr.msg_iovlen = 1;
    s->rmsgs[i].msg_hdr.msg_name = &s->peers[i];
  }

  uv_loop_t *loop = NULL;
  napi_value resource_name;
  napi_create_string_utf8(env, "georoute:udp-batch", NAPI_AUTO_LENGTH, &resource_name);
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || napi_async_init(env, NULL, resource_name, &s->async) != napi_ok ||
      uv_poll_init_socket(loop, &s->poll, fd) != 0) {
    close(fd);
    s->fd = -1;
    free_socket(s);
    napi_throw_error(env, NULL, "open: cannot watch the socket on the event loop");
    return NULL;
  }
  s->poll.data = s;
  uv_poll_start(&s->poll, UV_READABLE, on_poll);

  napi_value result, handle, port_value;
  napi_create_object(env, &result);
  napi_create_external(env, s, NULL, NULL, &handle);
  napi_create_int32(env, bound_port, &port_value);
  napi_set_named_property(env, result, "handle", handle);
  napi_set_named_property(env, result, "port", port_value);
  return result;
}

/* close(handle): stops watching and closes the socket (idempotent through the JavaScript side). */
static napi_value js_close(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value arg;
  napi_get_cb_info(env, cbinfo, &argc, &arg, NULL, NULL);
  void *data = NULL;
  if (argc < 1 || napi_get_value_external(env, arg, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "close: a handle from open() required");
    return NULL;
  }
  close_socket((batch_socket *)data);
  return NULL;
}

static napi_value constant(napi_env env, int value);

/*
 * pump(handle): one read-answer-send round now, called from JavaScript between other work (HTTP
 * requests), so that a query waits for a slice of a busy event-loop turn, not the whole turn.
 * Returns the number of datagrams answered (0 when none were waiting, or replies are pending).
 */
static napi_value js_pump(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value arg;
  napi_get_cb_info(env, cbinfo, &argc, &arg, NULL, NULL);
  void *data = NULL;
  if (argc < 1 || napi_get_value_external(env, arg, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "pump: a handle from open() required");
    return NULL;
  }
  batch_socket *s = (batch_socket *)data;
  int n = 0;
  if (!s->closing && s->pending_count == 0 && !s->direct) {
    s->direct = 1;
    n = round_trip(s);
    s->direct = 0;
  }
  return constant(env, n < 0 ? 0 : n);
}

static napi_value constant(napi_env env, int value) {
  napi_value v;
  napi_create_int32(env, value, &v);
  return v;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"pump", NULL, js_pump, NULL, NULL, NULL, napi_default, NULL},
      {"bindSocket", NULL, js_bind_socket, NULL, NULL, NULL, napi_default, NULL},
      {"closeFd", NULL, js_close_fd, NULL, NULL, NULL, napi_default, NULL},
      {"BATCH", NULL, NULL, NULL, NULL, constant(env, BATCH), napi_enumerable, NULL},
      {"SLOT", NULL, NULL, NULL, NULL, constant(env, SLOT), napi_enumerable, NULL},
      {"INFO_WORDS", NULL, NULL, NULL, NULL, constant(env, INFO_WORDS), napi_enumerable, NULL},
      {"TEXT_STRIDE", NULL, NULL, NULL, NULL, constant(env, TEXT_STRIDE), napi_enumerable, NULL},
      {"STAT_WORDS", NULL, NULL, NULL, NULL, constant(env, STAT_WORDS), napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
