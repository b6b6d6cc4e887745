/**
 * What runts prints (the CLI's output, log lines without --log), written
 * straight to fds 1 and 2. process.stdout and process.stderr are streams:
 * the first touch loads node's stream and net modules (about 2 ms, on every
 * command that prints), and for a pipe libuv makes the caller's pipe
 * non-blocking. runc writes synchronously too.
 */
import { writeSync } from 'node:fs';

function writeAll(fd: number, text: string): void {
  const data = Buffer.from(text);
  for (let off = 0; off < data.length;) {
    try {
      off += writeSync(fd, data, off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Someone else made the pipe non-blocking and it is full: wait for the reader.
      if (code === 'EAGAIN') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      // The reader is gone (node ignores SIGPIPE): there is no one left to tell.
      else if (code === 'EPIPE') return;
      else throw err;
    }
  }
}

export const printOut = (text: string): void => writeAll(1, text);
export const printErr = (text: string): void => writeAll(2, text);
