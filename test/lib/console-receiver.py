#!/usr/bin/env python3
# A console socket peer for tests, as containerd's shim or conmon would be:
# listens on PATH, takes the pty master runts sends with SCM_RIGHTS, types
# INPUT into it, and copies what the terminal shows to stdout until EOF.
#   console-receiver.py PATH INPUT
import os, select, socket, sys, time

path, typed = sys.argv[1], sys.argv[2].encode().decode("unicode_escape").encode()
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("listening", flush=True, file=sys.stderr)
conn, _ = server.accept()
msg, fds, _, _ = socket.recv_fds(conn, 1024, 1)
print(f"name={msg.decode()} fds={len(fds)}", file=sys.stderr, flush=True)
master = fds[0]
time.sleep(0.3)
os.write(master, typed)
deadline = time.time() + 20
while time.time() < deadline:
    ready, _, _ = select.select([master], [], [], 0.5)
    if not ready:
        continue
    try:
        data = os.read(master, 4096)
    except OSError:  # EIO: the other side is gone
        break
    if not data:
        break
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
