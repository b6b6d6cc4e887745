#!/bin/sh
# The demo: a busybox container from a fresh bundle, run by runts.
set -eu
cd "$(dirname "$0")/.."
demo=.tmp/demo
rm -rf "$demo"
mkdir -p "$demo"
sh scripts/make-rootfs.sh "$demo/rootfs"
bin/runts spec --bundle "$demo"
# The default config asks for a terminal; the demo prints and exits instead.
node -e '
const fs = require("fs"), f = process.argv[1], c = JSON.parse(fs.readFileSync(f));
c.process.terminal = false;
c.process.args = ["sh", "-c", "echo \"hello from $(hostname): I am pid $$, my root is $(ls /bin | wc -l) busybox applets\"; id; cat /proc/self/status | grep ^Cap"];
fs.writeFileSync(f, JSON.stringify(c, null, 2));
' "$demo/config.json"
bin/runts validate --bundle "$demo"
if [ "$(id -u)" != 0 ]; then echo "demo: running a container needs root" >&2; exit 1; fi
bin/runts --root .tmp/demo-state run --bundle "$demo" demo
