#!/usr/bin/env python3
# A racing process for tests of path resolution: swaps PATH (a directory)
# with a symlink to TARGET as fast as it can, with renameat2(RENAME_EXCHANGE)
# so that PATH always exists, as one or the other, until killed.
#   flip-path.py PATH TARGET
import ctypes, os, sys

path, target = sys.argv[1], sys.argv[2]
spare = path + ".flip"
os.symlink(target, spare)
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
a, b = path.encode(), spare.encode()
print("flipping", file=sys.stderr, flush=True)
while True:
    if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
        sys.exit(f"renameat2: {os.strerror(ctypes.get_errno())}")
