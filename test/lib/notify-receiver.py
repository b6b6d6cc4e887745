#!/usr/bin/env python3
# The host's end of sd_notify for tests, as systemd or podman's proxy would
# be: binds a datagram socket at PATH and prints each message as a JSON line
# (its text, how many fds came with it, closed at once: that answers
# BARRIER=1), until a message beginning with LAST (default BARRIER=1) or 30 s
# of silence.
#   notify-receiver.py PATH [LAST]
import json, os, socket, sys

last = (sys.argv[2] if len(sys.argv) > 2 else "BARRIER=1").encode()
server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
server.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
server.settimeout(30)
print("listening", flush=True, file=sys.stderr)
while True:
    msg, fds, _, _ = socket.recv_fds(server, 4096, 8)
    for fd in fds:
        os.close(fd)
    print(json.dumps({"message": msg.decode(), "fds": len(fds)}), flush=True)
    if msg.startswith(last):
        break
