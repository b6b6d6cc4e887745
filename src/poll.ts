/**
 * Waiting, synchronously, for the kernel to get somewhere (a process gone,
 * a cgroup frozen or empty): checks with a backoff from 1 to 20 ms. The
 * thread blocks (Atomics.wait): these waits are short and run where no
 * event loop work is pending.
 */
const sleep = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** True as soon as done() holds; false if it still does not after timeoutMs. */
export function pollUntil(done: () => boolean, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; !done(); delay = Math.min(delay * 2, 20)) {
    if (Date.now() > deadline) return false;
    sleep(delay);
  }
  return true;
}
