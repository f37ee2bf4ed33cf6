/*
 * mapped_file: a whole file mapped read-only into memory, handed to JavaScript as a Buffer
 * (src/geo/mapped-file.ts; the GeoIP databases of src/geo/geo-locator.ts).
 *
 * fs.readFile copies a file into memory private to the process: the main process and every DNS
 * worker each held their own 63 MB + 71 MB of the bundled DB-IP pair. A mapping of the file
 * (PROT_READ, MAP_SHARED) reads the same pages of the kernel's page cache in every process that
 * maps it, so the bytes are in memory once however many processes read them, and the kernel may
 * drop pages nobody touched lately and read them again from the file.
 *
 * map(path) -> Buffer over the mapping, made with napi_create_external_buffer; its finalizer
 * unmaps when the Buffer (and every view of it) is garbage-collected. Nothing may write into it:
 * the pages are read-only and a write is a SIGSEGV. The mapping shows the file as it is now: a
 * file rewritten in place changes under it (and one made shorter makes reads past its new end
 * a SIGBUS); replace a mapped file by renaming a new one over it (see src/geo/README.md).
 *
 * Errors are thrown as Node's are (code = errno name, errno, syscall, path), or with the code
 * ERR_EXTERNAL_BUFFER when the runtime refuses a Buffer over foreign memory; JavaScript falls
 * back to fs.readFile on any of them. An empty file cannot be mapped (mmap of 0 octets is EINVAL)
 * and is reported as such.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "errno_error.h"

static void throw_errno(napi_env env, const char *syscall, int err, const char *path) {
  char message[512];
  snprintf(message, sizeof message, "%s: %s, %s '%s'", uv_err_name(-err), uv_strerror(-err), syscall, path);
  napi_value error = errno_error(env, message, syscall, err), path_value;
  napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &path_value);
  napi_set_named_property(env, error, "path", path_value);
  napi_throw(env, error);
}

/* Marks the Buffers map() makes, so release() refuses any other memory (on a private anonymous
 * page MADV_DONTNEED would zero it). */
static const napi_type_tag MAPPED_TAG = {0x6d617070656466ULL, 0x67656f726f757465ULL};

/* The Buffer's finalizer: the length rides in the hint (the mapping's own address is `data`). */
static void unmap(napi_env env, void *data, void *hint) {
  munmap(data, (size_t)(uintptr_t)hint);
}

static napi_value js_map(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t length = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "map: a path string is required");
    return NULL;
  }
  char *path = malloc(length + 1);
  if (path == NULL) {
    throw_errno(env, "malloc", ENOMEM, "");
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[0], path, length + 1, &length);

  napi_value result = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw_errno(env, "open", errno, path);
    goto done;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    throw_errno(env, "fstat", errno, path);
    goto done;
  }
  /* A directory, a pipe, a device: not a file of known length (fs.readFile handles or refuses them). */
  if (!S_ISREG(st.st_mode)) {
    throw_errno(env, "mmap", S_ISDIR(st.st_mode) ? EISDIR : ENODEV, path);
    goto done;
  }
  if (st.st_size <= 0 || (uintmax_t)st.st_size > (uintmax_t)SIZE_MAX) {
    throw_errno(env, "mmap", EINVAL, path);
    goto done;
  }
  size_t size = (size_t)st.st_size;
  void *data = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    throw_errno(env, "mmap", errno, path);
    goto done;
  }
  napi_status status = napi_create_external_buffer(env, size, data, unmap, (void *)(uintptr_t)size, &result);
  if (status != napi_ok) {
    /* e.g. napi_no_external_buffers_allowed (a runtime with the V8 sandbox): no Buffer, no mapping. */
    munmap(data, size);
    result = NULL;
    napi_throw_error(env, "ERR_EXTERNAL_BUFFER",
                     status == napi_no_external_buffers_allowed ? "this runtime does not allow external buffers"
                                                                : "napi_create_external_buffer failed");
  } else {
    napi_type_tag_object(env, result, &MAPPED_TAG);
  }

done:
  if (fd >= 0) close(fd);
  free(path);
  return result;
}

/*
 * release(buffer): the pages of a Buffer made by map() leave this process's resident set
 * (madvise MADV_DONTNEED on the whole mapping). For a shared mapping of a file this only drops
 * the process's page-table entries: the pages stay in the kernel's page cache (other processes
 * keep theirs), and the next read of a released page maps it again from the cache (a minor
 * fault) or from the file. The bytes never change. Used once a walk over the whole file (the
 * classifier's fill, src/geo/geo-classifier.ts) has touched pages that queries will not read.
 */
static napi_value js_release(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *data = NULL;
  size_t length = 0;
  bool mapped = false;
  if (argc < 1 || napi_check_object_type_tag(env, argv[0], &MAPPED_TAG, &mapped) != napi_ok || !mapped ||
      napi_get_buffer_info(env, argv[0], &data, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "release: a Buffer made by map() is required");
    return NULL;
  }
  if (length > 0 && madvise(data, length, MADV_DONTNEED) != 0) {
    throw_errno(env, "madvise", errno, "");
    return NULL;
  }
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"map", NULL, js_map, NULL, NULL, NULL, napi_default, NULL},
      {"release", NULL, js_release, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
