/*
 * pixl-ipc's native part: the few C library calls Node has no API for.
 *   peerCred(fd, out)   SO_PEERCRED into out (Int32Array of 3: pid, uid, gid); returns 0 or an errno
 *   peerGroups(fd)      SO_PEERGROUPS: array of gids, or null
 *   userName(uid) / groupName(gid)   getpwuid_r / getgrgid_r: name or null
 *   userId(name) / groupId(name)     getpwnam_r / getgrnam_r: id or null
 *   lockByte(fd, offset, lock)       an open-file-description lock (F_OFD_SETLK) on one byte:
 *                                    lock true takes it (write lock, never waits), false lets go;
 *                                    returns 0 or an errno (EAGAIN: another holds it)
 * Built by scripts/build-native.sh; the linux-x64 binary ships in prebuilds/.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

#define CHECK(call) do { if ((call) != napi_ok) return NULL; } while (0)

static napi_value null_value(napi_env env) {
  napi_value result;
  napi_get_null(env, &result);
  return result;
}

static int read_int_arg(napi_env env, napi_callback_info info, size_t want, napi_value *args, int64_t *first) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < want) return -1;
  return napi_get_value_int64(env, args[0], first) == napi_ok ? 0 : -1;
}

static napi_value peer_cred(napi_env env, napi_callback_info info) {
  napi_value args[2], result;
  int64_t fd;
  if (read_int_arg(env, info, 2, args, &fd) != 0) { CHECK(napi_create_int32(env, EINVAL, &result)); return result; }
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, args[1], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_int32_array || length < 3) {
    CHECK(napi_create_int32(env, EINVAL, &result));
    return result;
  }
  struct ucred cred;
  socklen_t size = sizeof(cred);
  int err = 0;
  if (getsockopt((int)fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0) err = errno;
  else if (size != sizeof(cred)) err = EINVAL;
  else {
    int32_t *out = (int32_t *)data;
    out[0] = (int32_t)cred.pid;
    out[1] = (int32_t)cred.uid;
    out[2] = (int32_t)cred.gid;
  }
  CHECK(napi_create_int32(env, err, &result));
  return result;
}

static napi_value peer_groups(napi_env env, napi_callback_info info) {
  napi_value args[1], result;
  int64_t fd;
  if (read_int_arg(env, info, 1, args, &fd) != 0) return null_value(env);
  socklen_t size = 64 * sizeof(gid_t);
  gid_t *groups = NULL;
  for (int attempt = 0; attempt < 3; attempt++) {
    gid_t *grown = realloc(groups, size);
    if (!grown) break;
    groups = grown;
    socklen_t got = size;
    if (getsockopt((int)fd, SOL_SOCKET, SO_PEERGROUPS, groups, &got) == 0) {
      size_t count = got / sizeof(gid_t);
      if (napi_create_array_with_length(env, count, &result) != napi_ok) break;
      for (size_t i = 0; i < count; i++) {
        napi_value gid;
        if (napi_create_uint32(env, groups[i], &gid) != napi_ok || napi_set_element(env, result, (uint32_t)i, gid) != napi_ok) goto fail;
      }
      free(groups);
      return result;
    }
    if (errno != ERANGE || got <= size) break;
    size = got;
  }
fail:
  free(groups);
  return null_value(env);
}

/* Runs a get*_r lookup with a buffer that grows on ERANGE; returns 0 when found. */
#define LOOKUP(call_with_buf)                                                  \
  size_t buf_size = 16384;                                                     \
  char *buf = NULL;                                                            \
  int rc = ENOMEM;                                                             \
  while (buf_size <= 16 * 1024 * 1024) {                                       \
    char *grown = realloc(buf, buf_size);                                      \
    if (!grown) { rc = ENOMEM; break; }                                        \
    buf = grown;                                                               \
    rc = (call_with_buf);                                                      \
    if (rc != ERANGE) break;                                                   \
    buf_size *= 4;                                                             \
  }

static napi_value user_name(napi_env env, napi_callback_info info) {
  napi_value args[1], result = NULL;
  int64_t uid;
  if (read_int_arg(env, info, 1, args, &uid) != 0 || uid < 0) return null_value(env);
  struct passwd entry, *found = NULL;
  LOOKUP(getpwuid_r((uid_t)uid, &entry, buf, buf_size, &found))
  if (rc != 0 || !found || napi_create_string_utf8(env, entry.pw_name, NAPI_AUTO_LENGTH, &result) != napi_ok) result = null_value(env);
  free(buf);
  return result;
}

static napi_value group_name(napi_env env, napi_callback_info info) {
  napi_value args[1], result = NULL;
  int64_t gid;
  if (read_int_arg(env, info, 1, args, &gid) != 0 || gid < 0) return null_value(env);
  struct group entry, *found = NULL;
  LOOKUP(getgrgid_r((gid_t)gid, &entry, buf, buf_size, &found))
  if (rc != 0 || !found || napi_create_string_utf8(env, entry.gr_name, NAPI_AUTO_LENGTH, &result) != napi_ok) result = null_value(env);
  free(buf);
  return result;
}

static int read_string_arg(napi_env env, napi_callback_info info, char *out, size_t out_size) {
  size_t argc = 1, length = 0;
  napi_value args[1];
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 1) return -1;
  if (napi_get_value_string_utf8(env, args[0], out, out_size, &length) != napi_ok) return -1;
  return length + 1 < out_size ? 0 : -1; /* a truncated name would look up another entry */
}

static napi_value user_id(napi_env env, napi_callback_info info) {
  napi_value result = NULL;
  char name[256];
  if (read_string_arg(env, info, name, sizeof(name)) != 0) return null_value(env);
  struct passwd entry, *found = NULL;
  LOOKUP(getpwnam_r(name, &entry, buf, buf_size, &found))
  if (rc != 0 || !found || napi_create_uint32(env, entry.pw_uid, &result) != napi_ok) result = null_value(env);
  free(buf);
  return result;
}

static napi_value group_id(napi_env env, napi_callback_info info) {
  napi_value result = NULL;
  char name[256];
  if (read_string_arg(env, info, name, sizeof(name)) != 0) return null_value(env);
  struct group entry, *found = NULL;
  LOOKUP(getgrnam_r(name, &entry, buf, buf_size, &found))
  if (rc != 0 || !found || napi_create_uint32(env, entry.gr_gid, &result) != napi_ok) result = null_value(env);
  free(buf);
  return result;
}

/*
 * OFD locks belong to the open file description, not the process: closing
 * another descriptor of the same file (as POSIX locks would) never drops
 * them, and the kernel drops them when the description's last descriptor
 * closes, including when the process is killed.
 */
static napi_value lock_byte(napi_env env, napi_callback_info info) {
  napi_value args[3], result;
  int64_t fd, offset;
  bool lock = false;
  size_t argc = 3;
  int err = 0;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 3
      || napi_get_value_int64(env, args[0], &fd) != napi_ok
      || napi_get_value_int64(env, args[1], &offset) != napi_ok
      || napi_get_value_bool(env, args[2], &lock) != napi_ok || fd < 0 || offset < 0) {
    err = EINVAL;
  } else {
    struct flock range;
    memset(&range, 0, sizeof(range));
    range.l_type = lock ? F_WRLCK : F_UNLCK;
    range.l_whence = SEEK_SET;
    range.l_start = (off_t)offset;
    range.l_len = 1;
    range.l_pid = 0;
    if (fcntl((int)fd, F_OFD_SETLK, &range) != 0) err = errno;
  }
  CHECK(napi_create_int32(env, err, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
    { "peerCred", NULL, peer_cred, NULL, NULL, NULL, napi_enumerable, NULL },
    { "peerGroups", NULL, peer_groups, NULL, NULL, NULL, napi_enumerable, NULL },
    { "userName", NULL, user_name, NULL, NULL, NULL, napi_enumerable, NULL },
    { "groupName", NULL, group_name, NULL, NULL, NULL, napi_enumerable, NULL },
    { "userId", NULL, user_id, NULL, NULL, NULL, napi_enumerable, NULL },
    { "groupId", NULL, group_id, NULL, NULL, NULL, napi_enumerable, NULL },
    { "lockByte", NULL, lock_byte, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  if (napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
