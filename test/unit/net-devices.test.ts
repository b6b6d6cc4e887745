// linux.netDevices (src/linux/net-devices.ts): the rtnetlink requests, against
// the Sys double answering as the kernel would, and the checks' pointers.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { interfaceNameProblem, moveNetDevicesIn, moveNetDevicesOut } from '../../src/linux/net-devices';
import { runtimeProblems } from '../../src/spec/checks';
import type { Spec } from '../../src/spec/types';
import { RecordingSys, netlinkAck } from '../../src/sys/recording';
import { baseSpec } from '../lib/bundle';
import { tempDir } from '../lib/cli';

const test = suite('net devices');

const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_GETADDR = 22;

function nlmsg(type: number, flags: number, seq: number, body: Buffer): Buffer {
  const out = Buffer.alloc(16 + body.length);
  out.writeUInt32LE(out.length, 0);
  out.writeUInt16LE(type, 4);
  out.writeUInt16LE(flags, 6);
  out.writeUInt32LE(seq, 8);
  body.copy(out, 16);
  return out;
}

function rtattr(type: number, data: Buffer): Buffer {
  const out = Buffer.alloc((4 + data.length + 3) & ~3);
  out.writeUInt16LE(4 + data.length, 0);
  out.writeUInt16LE(type, 2);
  data.copy(out, 4);
  return out;
}

/** The attributes of a request after its fixed body, as type -> bytes. */
function attrsOf(request: Buffer, bodySize: number): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let at = 16 + bodySize;
  while (at + 4 <= request.length) {
    const len = request.readUInt16LE(at);
    out.set(request.readUInt16LE(at + 2), request.subarray(at + 4, at + len));
    at += (len + 3) & ~3;
  }
  return out;
}

const nameOf = (request: Buffer) => attrsOf(request, 16).get(3)?.toString().replace(/\0$/, '');

/** struct ifaddrmsg + IFA_LOCAL/IFA_ADDRESS for an IPv4 address of link `index`. */
function ipv4Entry(seq: number, index: number, ip: number[], prefix: number, flags: number, scope = 0): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt8(2, 0);
  body.writeUInt8(prefix, 1);
  body.writeUInt8(flags, 2);
  body.writeUInt8(scope, 3);
  body.writeUInt32LE(index, 4);
  const addr = Buffer.from(ip);
  return nlmsg(RTM_NEWADDR, 2, seq, Buffer.concat([body, rtattr(1, addr), rtattr(2, addr)]));
}

/** A kernel with link `links[name]` = index, and eth9 (index 7) holding a permanent and a dynamic address. */
function kernel(sys: RecordingSys, links: Record<string, number>): void {
  sys.netlinkAnswer = (request) => {
    const type = request.readUInt16LE(4);
    const seq = request.readUInt32LE(8);
    if (type === RTM_GETLINK) {
      const index = links[nameOf(request)!];
      if (index === undefined) return [netlinkAck(request, 19)];
      const body = Buffer.alloc(16);
      body.writeInt32LE(index, 4);
      return [nlmsg(RTM_NEWLINK, 0, seq, body)];
    }
    if (type === RTM_GETADDR) {
      const done = nlmsg(3, 2, seq, Buffer.alloc(4));
      return [
        Buffer.concat([ipv4Entry(seq, 7, [10, 1, 2, 3], 24, 0x80), ipv4Entry(seq, 7, [10, 9, 9, 9], 24, 0)]),
        Buffer.concat([ipv4Entry(seq, 8, [10, 7, 7, 7], 24, 0x80), ipv4Entry(seq, 7, [127, 0, 0, 5], 8, 0x80, 254), done]),
      ];
    }
    return [netlinkAck(request, 0)];
  };
}

test('moves a link in one RTM_NEWLINK (new name and namespace fd), puts its permanent global addresses back, sets it up', () => {
  const sys = new RecordingSys();
  const netns = join(tempDir(), 'netns');
  writeFileSync(netns, '');
  kernel(sys, { eth9: 7, ctr0: 3 });
  const moved = moveNetDevicesIn(sys, netns, { eth9: { name: 'ctr0' } });
  assert.equal(moved, [
    { host: 'eth9', container: 'ctr0', addresses: [{ family: 2, prefixlen: 24, address: '10.1.2.3', local: '10.1.2.3' }] },
  ]);

  const sent = sys.callsTo('netlinkSend').map(([fd, m]) => ({ fd: fd as number, m: m as Buffer }));
  const hostSocket = sent[0]!.fd;
  const containerSocket = sent.at(-1)!.fd;
  assert.is.not(hostSocket, containerSocket);
  const types = sent.map(({ fd, m }) => `${fd === hostSocket ? 'host' : 'container'} ${m.readUInt16LE(4)}`);
  assert.equal(types, [
    `host ${RTM_GETLINK}`,
    `host ${RTM_NEWLINK}`, // down
    `host ${RTM_GETADDR}`,
    `host ${RTM_NEWLINK}`, // the move
    `container ${RTM_GETLINK}`,
    `container ${RTM_NEWADDR}`,
    `container ${RTM_NEWLINK}`, // up
  ]);
  const down = sent[1]!.m;
  assert.is(down.readInt32LE(16 + 4), 7, 'the down request names link 7');
  assert.is(down.readUInt32LE(16 + 8) & 1, 0, 'IFF_UP cleared');
  assert.is(down.readUInt32LE(16 + 12) & 1, 1, 'IFF_UP is the flag changed');
  const move = sent[3]!.m;
  assert.is(move.readInt32LE(16 + 4), 7);
  const attrs = attrsOf(move, 16);
  assert.is(attrs.get(3)?.toString(), 'ctr0\0', 'IFLA_IFNAME: the new name, in the same request');
  // IFLA_NET_NS_FD: the fd the double opened for the namespace file.
  const nsFd = attrs.get(28)!.readUInt32LE(0);
  const opened = sys.calls.filter((c) => c.call === 'setns').map((c) => c.args[0]);
  assert.equal(opened[0], nsFd, 'the container socket is made after setns into that namespace');
  assert.is(sys.callsTo('setns').length, 2, 'and the thread moves back');
  const add = sent[5]!.m;
  assert.is(add.readUInt32LE(16 + 4), 3, 'the address goes on the link as the container numbers it');
  assert.equal([...attrsOf(add, 8).get(2)!], [10, 1, 2, 3]);
  const up = sent[6]!.m;
  assert.is(up.readUInt32LE(16 + 8) & 1, 1, 'IFF_UP set');
  assert.is(sys.callsTo('close').length, 5, 'both namespace fds, both sockets and the thread-self fd closed');
});

test("a missing link fails with the entry's pointer and moves back what was moved", () => {
  const sys = new RecordingSys();
  const netns = join(tempDir(), 'netns');
  writeFileSync(netns, '');
  kernel(sys, { eth9: 7, ctr0: 3 });
  assert.throws(
    () => moveNetDevicesIn(sys, netns, { eth9: { name: 'ctr0' }, nope0: {} }),
    /^\/linux\/netDevices\/nope0: link nope0: no such device/i,
  );
  const sent = sys.callsTo('netlinkSend').map(([, m]) => m as Buffer);
  const back = sent.filter((m) => m.readUInt16LE(4) === RTM_NEWLINK && attrsOf(m, 16).get(3)?.toString() === 'eth9\0');
  assert.is(back.length, 1, 'eth9 went back under its own name');
});

test('delete: down, back under the host name into the runtime namespace, addresses again; problems reported, not thrown', () => {
  const sys = new RecordingSys();
  const netns = join(tempDir(), 'netns');
  writeFileSync(netns, '');
  kernel(sys, { eth9: 7, ctr0: 3 });
  const addresses = [{ family: 2, prefixlen: 24, local: '10.1.2.3', address: '10.1.2.3' }];
  const problems = moveNetDevicesOut(sys, netns, [
    { host: 'eth9', container: 'ctr0', addresses },
    { host: 'gone', container: 'gone0', addresses: [] },
  ]);
  assert.is(problems.length, 1);
  assert.match(problems[0]!, /^link gone0: no such device$/i);
  const sent = sys.callsTo('netlinkSend').map(([, m]) => m as Buffer);
  const move = sent.find((m) => m.readUInt16LE(4) === RTM_NEWLINK && attrsOf(m, 16).has(28))!;
  assert.is(move.readInt32LE(16 + 4), 3);
  assert.is(attrsOf(move, 16).get(3)?.toString(), 'eth9\0');
  const downBefore = sent[sent.indexOf(move) - 1]!;
  assert.is(downBefore.readUInt16LE(4), RTM_NEWLINK);
  assert.is(downBefore.readUInt32LE(16 + 8) & 1, 0, 'set down before the move');
  assert.ok(sent.some((m) => m.readUInt16LE(4) === RTM_NEWADDR && m.readUInt32LE(16 + 4) === 7));
});

test("interface names: the kernel's rules", () => {
  assert.is(interfaceNameProblem('eth0'), undefined);
  assert.is(interfaceNameProblem('a'.repeat(15)), undefined);
  assert.match(interfaceNameProblem('a'.repeat(16))!, /IFNAMSIZ/);
  for (const bad of ['', '.', '..', 'a/b', 'a:b', 'a b']) assert.ok(interfaceNameProblem(bad), bad);
});

const problemsOf = (edit: (s: Spec) => void) => {
  const spec = baseSpec();
  edit(spec);
  return runtimeProblems(spec).map((p) => `${p.pointer}: ${p.message}`);
};
const netDevices = (s: Spec, devices: Record<string, { name?: string }>) => {
  (s.linux as { netDevices?: unknown }).netDevices = devices;
};

test("checks: a network namespace of the container's, valid names, one device per name", () => {
  assert.equal(
    problemsOf((s) => netDevices(s, { eth0: { name: 'ctr0' } })),
    [],
  );
  assert.equal(
    problemsOf((s) => {
      netDevices(s, { eth0: {} });
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
    }),
    ["/linux/netDevices: needs a network namespace of the container's (linux.namespaces has none)"],
  );
  assert.equal(
    problemsOf((s) => netDevices(s, { 'a/b': {}, eth1: { name: 'x'.repeat(16) } })),
    [
      '/linux/netDevices/a~1b: the interface name must not contain "/", ":" or white space',
      '/linux/netDevices/eth1/name: must be at most 15 bytes (IFNAMSIZ)',
    ],
  );
  assert.equal(
    problemsOf((s) => netDevices(s, { eth0: { name: 'ctr0' }, eth1: { name: 'ctr0' }, ctr0: {} })),
    [
      '/linux/netDevices/eth1/name: "ctr0" is already the container\'s name of /linux/netDevices/eth0',
      '/linux/netDevices/ctr0: "ctr0" is already the container\'s name of /linux/netDevices/eth0',
    ],
  );
});

test.run();
