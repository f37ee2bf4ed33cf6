/*
 * errno_error: the error object the addons throw for a failed system call, shaped as Node's own
 * (code = the errno name such as "ENOENT", errno = its negative number as libuv reports it,
 * syscall). Each addon writes its own message (node:fs and node:dgram word theirs differently)
 * and may add properties (path) before throwing it.
 */
#ifndef GEOROUTE_ERRNO_ERROR_H
#define GEOROUTE_ERRNO_ERROR_H

#include <node_api.h>
#include <uv.h>

static napi_value errno_error(napi_env env, const char *message, const char *syscall_name, int err) {
  napi_value msg, code_value, error, errno_value, syscall_value;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, uv_err_name(-err), NAPI_AUTO_LENGTH, &code_value);
  napi_create_error(env, code_value, msg, &error);
  napi_create_int32(env, -err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_create_string_utf8(env, syscall_name, NAPI_AUTO_LENGTH, &syscall_value);
  napi_set_named_property(env, error, "syscall", syscall_value);
  return error;
}

#endif
