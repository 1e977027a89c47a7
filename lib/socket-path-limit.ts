/**
 * The kernel's limit on a Unix socket path. `sockaddr_un.sun_path` holds 108
 * bytes on Linux (104 on macOS and the BSDs) including the terminating NUL;
 * a longer path is silently truncated by bind(), which leaves a socket file
 * under the wrong name. Both the server and the Node client refuse such paths
 * before touching the file system.
 */

/** Longest usable socket path in bytes on this platform. */
export const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;

/** Null when `path` fits, else a message naming the limit and the path's length. */
export function socketPathProblem(path: string): string | null {
  const bytes = Buffer.byteLength(path);
  if (bytes <= MAX_SOCKET_PATH_BYTES) return null;
  return `the socket path is ${bytes} bytes long, over the ${MAX_SOCKET_PATH_BYTES}-byte limit for Unix socket paths on ${process.platform}; use a shorter path`;
}
