/*
 * cpu_slice: the length of the CPU slice the kernel's fair scheduler gives a thread
 * (src/common/cpu-slice.ts; the threads that answer DNS).
 *
 * Linux 6.12 and later schedule normal threads with EEVDF, which reads sched_attr.sched_runtime
 * of a SCHED_OTHER or SCHED_BATCH thread as the slice that thread asks for (clamped by the kernel
 * to 0.1-100 ms; 0 restores the default). A thread with a shorter slice than the one on the CPU
 * preempts it on waking instead of waiting for that thread's slice to run out. A nice value does
 * not do this: it changes a thread's share of the CPU, not how soon it runs after a wake-up. Any
 * thread may ask for a slice for itself or for another thread of its user; it gives no more CPU
 * time, only shorter turns of it. Kernels before 6.12 accept the call and ignore the field (and
 * report 0 back).
 *
 * set(tid, ns): reads the thread's attributes (sched_getattr), changes sched_runtime only and
 * writes them back (sched_setattr), so the policy, nice value and flags stay as they were; tid 0
 * is the calling thread. get(tid) -> the thread's sched_runtime in nanoseconds as the kernel
 * reports it. Errors are thrown as Node's are (code = errno name, errno, syscall).
 *
 * glibc before 2.41 declares neither struct sched_attr nor the two calls, so both are written
 * here with the layout of the Linux UAPI (SCHED_ATTR_SIZE_VER1, 56 octets).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "errno_error.h"

struct slice_attr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

/* Flags sched_getattr reports that sched_setattr must not be given back: the utilisation clamps
 * are only accepted with values the caller means to set. */
#define FLAG_UTIL_CLAMP_MIN 0x20
#define FLAG_UTIL_CLAMP_MAX 0x40

static void throw_errno(napi_env env, const char *syscall_name, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s, %s", uv_err_name(-err), uv_strerror(-err), syscall_name);
  napi_throw(env, errno_error(env, message, syscall_name, err));
}

static int read_attr(int tid, struct slice_attr *attr) {
  memset(attr, 0, sizeof *attr);
  return (int)syscall(SYS_sched_getattr, tid, attr, (unsigned int)sizeof *attr, 0U);
}

/* The arguments as whole numbers: the thread id, and (for set) the slice in nanoseconds. */
static int numbers(napi_env env, napi_callback_info info, size_t want, int64_t *out) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < want) return -1;
  for (size_t i = 0; i < want; i++) {
    napi_valuetype type;
    napi_typeof(env, argv[i], &type);
    if (type != napi_number || napi_get_value_int64(env, argv[i], &out[i]) != napi_ok || out[i] < 0) return -1;
  }
  return 0;
}

static napi_value js_set(napi_env env, napi_callback_info info) {
  int64_t args[2];
  if (numbers(env, info, 2, args) != 0 || args[0] > INT32_MAX) {
    napi_throw_type_error(env, NULL, "set: a thread id and a slice in nanoseconds (whole numbers, 0 or more) are required");
    return NULL;
  }
  struct slice_attr attr;
  if (read_attr((int)args[0], &attr) != 0) {
    throw_errno(env, "sched_getattr", errno);
    return NULL;
  }
  attr.size = sizeof attr;
  attr.sched_flags &= ~(uint64_t)(FLAG_UTIL_CLAMP_MIN | FLAG_UTIL_CLAMP_MAX);
  attr.sched_runtime = (uint64_t)args[1];
  if (syscall(SYS_sched_setattr, (int)args[0], &attr, 0U) != 0) {
    throw_errno(env, "sched_setattr", errno);
    return NULL;
  }
  return NULL;
}

static napi_value js_get(napi_env env, napi_callback_info info) {
  int64_t tid;
  if (numbers(env, info, 1, &tid) != 0 || tid > INT32_MAX) {
    napi_throw_type_error(env, NULL, "get: a thread id (a whole number, 0 or more) is required");
    return NULL;
  }
  struct slice_attr attr;
  if (read_attr((int)tid, &attr) != 0) {
    throw_errno(env, "sched_getattr", errno);
    return NULL;
  }
  napi_value result;
  napi_create_double(env, (double)attr.sched_runtime, &result);
  return result;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"set", NULL, js_set, NULL, NULL, NULL, napi_default, NULL},
      {"get", NULL, js_get, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
