#!/bin/sh
# Builds native/pixl_ipc_native.c into prebuilds/<platform>-<arch>/pixl-ipc-native.node
# with the C compiler and the Node-API headers that come with Node. The
# linux-x64 binary is committed and ships in the package, so users need no
# compiler and npm runs no install script. Rebuild it after changing the C file:
#   sh scripts/build-native.sh
set -eu
cd "$(dirname "$0")/.."
target="$(node -p 'process.platform + "-" + process.arch')"
include="$(node -p 'require("path").join(process.execPath, "..", "..", "include", "node")')"
if [ ! -f "$include/node_api.h" ]; then
  echo "build-native: no Node-API headers at $include (install Node from nodejs.org or the node headers package)" >&2
  exit 1
fi
mkdir -p "prebuilds/$target"
# -D_FORTIFY_SOURCE off: fortified glibc symbols (…_chk@GLIBC_2.x) would raise the glibc the binary needs.
${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared -s -U_FORTIFY_SOURCE -fvisibility=hidden \
  -DNODE_GYP_MODULE_NAME=pixl_ipc_native -I"$include" \
  -o "prebuilds/$target/pixl-ipc-native.node" native/pixl_ipc_native.c
echo "built prebuilds/$target/pixl-ipc-native.node"
