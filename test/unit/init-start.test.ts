// The fds the init is spawned with (init-start.ts fdMoves): posix_spawn's
// dup2s run in order, so each of the init's fds must end up with its own
// source whatever the sources' numbers, as libuv's spawn made sure before.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fdMoves } from '../../src/container/init-start';

const test = suite('init start (unit)');

/** What the new process has at each of its fds after the copies and the dup2s, on a table of open files. */
function spawned(open: Map<number, string>, sources: number[]): string[] {
  const table = new Map(open);
  const moves = fdMoves(sources, (fd, min) => {
    let copy = min;
    while (table.has(copy)) copy++;
    table.set(copy, table.get(fd)!);
    return copy;
  });
  for (const [from, to] of moves) {
    if (!table.has(from)) throw new Error(`dup2 of closed fd ${from}`);
    table.set(to, table.get(from)!);
  }
  return sources.map((_, fd) => table.get(fd)!);
}

const files = (fds: number[]) => new Map(fds.map((fd) => [fd, `file ${fd}`]));

test('sources above every target, and stdio and the preserved fds as they are: no copy', () => {
  const copied: number[] = [];
  const moves = fdMoves([0, 1, 2, 3, 20, 21], (fd) => (copied.push(fd), 99));
  assert.equal(moves, [
    [0, 0],
    [1, 1],
    [2, 2],
    [3, 3],
    [20, 4],
    [21, 5],
  ]);
  assert.equal(copied, []);
});

test('a source numbered like an earlier target still reaches its own fd', () => {
  // The channel's end is fd 9, the terminal socket's fd 3: dup2(9, 3) first would lose the socket fd 4 is to get.
  assert.equal(spawned(files([0, 1, 2, 3, 9]), [0, 1, 2, 9, 3]), ['file 0', 'file 1', 'file 2', 'file 9', 'file 3']);
});

test('two sources swapped among the targets', () => {
  assert.equal(spawned(files([0, 1, 2, 3, 4]), [0, 1, 2, 4, 3]), ['file 0', 'file 1', 'file 2', 'file 4', 'file 3']);
});

test('a source among the targets is copied above all of them', () => {
  const mins: number[] = [];
  fdMoves([0, 1, 2, 3, 4, 5, 3], (_fd, min) => (mins.push(min), 7));
  assert.equal(mins, [7]);
});

test.run();
