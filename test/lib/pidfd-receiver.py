#!/usr/bin/env python3
# A --pidfd-socket peer for tests: listens on PATH, takes the one fd sent
# with SCM_RIGHTS and prints, as JSON, the message and the process the fd
# names (the "Pid:" line of its /proc/self/fdinfo: a pidfd's alone has one).
#   pidfd-receiver.py PATH
import json, os, re, socket, sys

server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(sys.argv[1])
server.listen(1)
server.settimeout(30)
print("listening", flush=True, file=sys.stderr)
conn, _ = server.accept()
msg, fds, _, _ = socket.recv_fds(conn, 1024, 4)
info = open(f"/proc/self/fdinfo/{fds[0]}").read() if fds else ""
pid = re.search(r"^Pid:\s*(-?\d+)$", info, re.M)
target = os.readlink(f"/proc/self/fd/{fds[0]}") if fds else ""
print(json.dumps({"message": msg.decode(), "fds": len(fds), "pid": int(pid.group(1)) if pid else None, "target": target}), flush=True)
