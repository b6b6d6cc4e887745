/**
 * linux.netDevices (config-linux.md "Network Devices", runtime-spec 1.3):
 * host interfaces moved, by name, into the container's network namespace
 * and renamed there, over rtnetlink as runc 1.3 does: the link set down,
 * its permanent global addresses read (the kernel drops addresses on a
 * move), moved and renamed in one RTM_NEWLINK (IFLA_NET_NS_FD with
 * IFLA_IFNAME, so that no name clash can happen in between), the addresses
 * put back and the link set up inside. Delete undoes it while the
 * namespace still lives (the spec: the original name back, the link down
 * before the move), and puts the addresses back too.
 *
 * A netlink socket talks to the namespace of the thread that made it; one
 * in the container's is made by the main thread after setns into it, and
 * the thread moves back at once (setns of a network namespace changes the
 * calling thread only: docs/architecture.md).
 */
import { RuntsError, errorMessage, escapePointer } from '../errors';
import { CLONE_NEWNET, EEXIST, EINVAL, ENODEV, O_CLOEXEC, O_RDONLY } from '../sys/constants';
import { strerror } from '../sys/errno';
import type { Sys } from '../sys/types';

const NETLINK_ROUTE = 0;
// netlink.h, rtnetlink.h, if_link.h, if_addr.h
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_REQUEST = 0x1;
const NLM_F_MULTI = 0x2;
const NLM_F_ACK = 0x4;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const NLM_F_DUMP = 0x300;
const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_GETADDR = 22;
const IFLA_IFNAME = 3;
const IFLA_NET_NS_FD = 28;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_FLAGS = 8;
const IFA_F_PERMANENT = 0x80;
const RT_SCOPE_UNIVERSE = 0;
const IFF_UP = 0x1;
const AF_UNSPEC = 0;
const AF_INET = 2;
const AF_INET6 = 10;
/** IFNAMSIZ less the terminating NUL. */
export const MAX_IFNAME = 15;
const RECV_SIZE = 65536;

/** An address as rtnetlink gives it: family, prefix, IFA_LOCAL and IFA_ADDRESS (a peer's, on point-to-point links). */
export interface NetAddress {
  family: number;
  prefixlen: number;
  local?: string;
  address?: string;
}

/** A device create moved: its name on the host, in the container, and the addresses it had. */
export interface MovedNetDevice {
  host: string;
  container: string;
  addresses: NetAddress[];
}

/** Why a name cannot be an interface's (the kernel's dev_valid_name), or undefined. */
export function interfaceNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (Buffer.byteLength(name) > MAX_IFNAME) return `must be at most ${MAX_IFNAME} bytes (IFNAMSIZ)`;
  if (name === '.' || name === '..') return 'must not be "." or ".."';
  if (/[/:\s]/.test(name)) return 'must not contain "/", ":" or white space';
  return undefined;
}

/** linux.netDevices: host interface name -> the name it takes inside. */
export type NetDevices = Record<string, { name?: string }>;

/** The config's netDevices, when it has any (a schema older than 1.3 has no type for them). */
export function netDevicesOf(linux: unknown): NetDevices | undefined {
  const devices = (linux as { netDevices?: NetDevices } | undefined)?.netDevices;
  return devices && Object.keys(devices).length ? devices : undefined;
}

/** The JSON pointer of a netDevices entry (RFC 6901 escapes). */
export const netDevicePointer = (host: string): string => `/linux/netDevices/${escapePointer(host)}`;

// --- messages ---

let sequence = 1;

function attribute(type: number, data: Buffer): Buffer {
  const out = Buffer.alloc((4 + data.length + 3) & ~3);
  out.writeUInt16LE(4 + data.length, 0);
  out.writeUInt16LE(type, 2);
  data.copy(out, 4);
  return out;
}

const stringAttribute = (type: number, text: string): Buffer => attribute(type, Buffer.from(`${text}\0`));

function u32Attribute(type: number, value: number): Buffer {
  const data = Buffer.alloc(4);
  data.writeUInt32LE(value, 0);
  return attribute(type, data);
}

function message(type: number, flags: number, body: Buffer, attributes: Buffer[] = []): Buffer {
  const payload = Buffer.concat([body, ...attributes]);
  const header = Buffer.alloc(16);
  header.writeUInt32LE(16 + payload.length, 0);
  header.writeUInt16LE(type, 4);
  header.writeUInt16LE(flags | NLM_F_REQUEST, 6);
  header.writeUInt32LE(sequence++, 8);
  return Buffer.concat([header, payload]);
}

/** struct ifinfomsg: the link by index, with the IFF_* bits in change set to those in flags. */
function ifinfo(index: number, flags = 0, change = 0): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt8(AF_UNSPEC, 0);
  body.writeInt32LE(index, 4);
  body.writeUInt32LE(flags, 8);
  body.writeUInt32LE(change, 12);
  return body;
}

/** struct ifaddrmsg. */
function ifaddr(family: number, prefixlen: number, index: number): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt8(family, 0);
  body.writeUInt8(prefixlen, 1);
  body.writeUInt8(RT_SCOPE_UNIVERSE, 3);
  body.writeUInt32LE(index, 4);
  return body;
}

interface Reply {
  type: number;
  flags: number;
  body: Buffer;
}

function* replies(datagram: Buffer): Generator<Reply> {
  let at = 0;
  while (at + 16 <= datagram.length) {
    const length = datagram.readUInt32LE(at);
    if (length < 16 || at + length > datagram.length) break;
    yield {
      type: datagram.readUInt16LE(at + 4),
      flags: datagram.readUInt16LE(at + 6),
      body: datagram.subarray(at + 16, at + length),
    };
    at += (length + 3) & ~3;
  }
}

function* attributes(data: Buffer): Generator<{ type: number; data: Buffer }> {
  let at = 0;
  while (at + 4 <= data.length) {
    const length = data.readUInt16LE(at);
    if (length < 4 || at + length > data.length) break;
    yield { type: data.readUInt16LE(at + 2) & 0x3fff, data: data.subarray(at + 4, at + length) };
    at += (length + 3) & ~3;
  }
}

/** A netlink error: what errno names, with what was being done. */
export class NetlinkError extends RuntsError {
  constructor(
    readonly errno: number,
    what: string,
  ) {
    super(`${what}: ${strerror(errno)}`);
  }
}

/** Sends a request and reads until its acknowledgement (or, for a dump, NLMSG_DONE); the data replies. */
function talk(sys: Sys, fd: number, request: Buffer, what: string): Buffer[] {
  sys.netlinkSend(fd, request);
  const data: Buffer[] = [];
  for (;;) {
    const datagram = sys.netlinkRecv(fd, RECV_SIZE);
    if (datagram.length === 0) throw new NetlinkError(EINVAL, `${what}: empty netlink answer`);
    for (const reply of replies(datagram)) {
      if (reply.type === NLMSG_ERROR) {
        const errno = -reply.body.readInt32LE(0);
        if (errno) throw new NetlinkError(errno, what);
        return data;
      }
      if (reply.type === NLMSG_DONE) return data;
      data.push(reply.body);
      // A single answer to a GETLINK by name: no ACK asked, none comes.
      if (!(reply.flags & NLM_F_MULTI) && !(request.readUInt16LE(6) & NLM_F_ACK)) return data;
    }
  }
}

// --- operations on one socket's namespace ---

function linkIndex(sys: Sys, fd: number, name: string): number {
  const [body] = talk(sys, fd, message(RTM_GETLINK, 0, ifinfo(0), [stringAttribute(IFLA_IFNAME, name)]), `link ${name}`);
  if (!body) throw new NetlinkError(ENODEV, `link ${name}`);
  return body.readInt32LE(4);
}

function setLinkUp(sys: Sys, fd: number, index: number, up: boolean, name: string): void {
  talk(
    sys,
    fd,
    message(RTM_NEWLINK, NLM_F_ACK, ifinfo(index, up ? IFF_UP : 0, IFF_UP)),
    `setting link ${name} ${up ? 'up' : 'down'}`,
  );
}

const ipText = (family: number, bytes: Buffer): string =>
  family === AF_INET
    ? [...bytes].join('.')
    : Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(2 * i).toString(16)).join(':');

function ipBytes(family: number, text: string): Buffer {
  if (family === AF_INET) return Buffer.from(text.split('.').map(Number));
  const out = Buffer.alloc(16);
  text.split(':').forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), 2 * i));
  return out;
}

/** The permanent addresses of global scope on the link, as runc keeps them (others are the namespace's own). */
export function linkAddresses(sys: Sys, fd: number, index: number, name: string): NetAddress[] {
  const dump = talk(sys, fd, message(RTM_GETADDR, NLM_F_DUMP, ifaddr(AF_UNSPEC, 0, 0)), `addresses of ${name}`);
  const out: NetAddress[] = [];
  for (const body of dump) {
    const family = body.readUInt8(0);
    if (body.readUInt32LE(4) !== index || (family !== AF_INET && family !== AF_INET6)) continue;
    let flags = body.readUInt8(2);
    const entry: NetAddress = { family, prefixlen: body.readUInt8(1) };
    for (const a of attributes(body.subarray(8))) {
      if (a.type === IFA_FLAGS) flags = a.data.readUInt32LE(0);
      else if (a.type === IFA_LOCAL) entry.local = ipText(family, a.data);
      else if (a.type === IFA_ADDRESS) entry.address = ipText(family, a.data);
    }
    if (flags & IFA_F_PERMANENT && body.readUInt8(3) === RT_SCOPE_UNIVERSE) out.push(entry);
  }
  return out;
}

function addAddresses(sys: Sys, fd: number, index: number, name: string, addresses: NetAddress[]): void {
  for (const a of addresses) {
    const attrs = [
      ...(a.local ? [attribute(IFA_LOCAL, ipBytes(a.family, a.local))] : []),
      ...(a.address ? [attribute(IFA_ADDRESS, ipBytes(a.family, a.address))] : []),
    ];
    const text = `${a.local ?? a.address}/${a.prefixlen}`;
    try {
      talk(
        sys,
        fd,
        message(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, ifaddr(a.family, a.prefixlen, index), attrs),
        `adding address ${text} to ${name}`,
      );
    } catch (err) {
      if (!(err instanceof NetlinkError && err.errno === EEXIST)) throw err;
    }
  }
}

/** The link moved to the namespace of nsFd, named `to` there, in one request. */
function moveLink(sys: Sys, fd: number, index: number, to: string, nsFd: number, what: string): void {
  talk(
    sys,
    fd,
    message(RTM_NEWLINK, NLM_F_ACK, ifinfo(index), [stringAttribute(IFLA_IFNAME, to), u32Attribute(IFLA_NET_NS_FD, nsFd)]),
    what,
  );
}

// --- namespaces ---

/** A netlink socket in the network namespace at nsFd, made by the main thread, which moves back after. */
function socketIn(sys: Sys, nsFd: number): number {
  const own = sys.open('/proc/thread-self/ns/net', O_RDONLY | O_CLOEXEC);
  try {
    sys.setns(nsFd, CLONE_NEWNET);
    try {
      return sys.netlinkSocket(NETLINK_ROUTE);
    } finally {
      sys.setns(own, CLONE_NEWNET);
    }
  } finally {
    sys.close(own);
  }
}

interface Sockets {
  /** The runtime's network namespace: its fd, a netlink socket in it. */
  hostNs: number;
  host: number;
  containerNs: number;
  container: number;
}

function withSockets<T>(sys: Sys, netnsPath: string, run: (s: Sockets) => T): T {
  const opened: number[] = [];
  const keep = (fd: number): number => (opened.push(fd), fd);
  try {
    const hostNs = keep(sys.open('/proc/thread-self/ns/net', O_RDONLY | O_CLOEXEC));
    const containerNs = keep(sys.open(netnsPath, O_RDONLY | O_CLOEXEC));
    const host = keep(sys.netlinkSocket(NETLINK_ROUTE));
    const container = keep(socketIn(sys, containerNs));
    return run({ hostNs, host, containerNs, container });
  } finally {
    for (const fd of opened.reverse()) sys.close(fd);
  }
}

/**
 * Moves the devices into the namespace at netnsPath (create). On a failure
 * those already moved go back first, so that nothing is left half done,
 * and the error names the entry's pointer.
 */
export function moveNetDevicesIn(sys: Sys, netnsPath: string, devices: NetDevices): MovedNetDevice[] {
  return withSockets(sys, netnsPath, (s) => {
    const moved: MovedNetDevice[] = [];
    for (const [host, device] of Object.entries(devices)) {
      const container = device.name || host;
      try {
        const index = linkIndex(sys, s.host, host);
        setLinkUp(sys, s.host, index, false, host);
        const addresses = linkAddresses(sys, s.host, index, host);
        moveLink(
          sys,
          s.host,
          index,
          container,
          s.containerNs,
          `moving ${host} into the container's network namespace as ${container}`,
        );
        moved.push({ host, container, addresses });
        const inside = linkIndex(sys, s.container, container);
        addAddresses(sys, s.container, inside, container, addresses);
        setLinkUp(sys, s.container, inside, true, container);
      } catch (err) {
        const warnings = moveBack(sys, s, moved.reverse());
        const also = warnings.length ? ` (and undoing the moves: ${warnings.join('; ')})` : '';
        throw new RuntsError(`${netDevicePointer(host)}: ${errorMessage(err)}${also}`);
      }
    }
    return moved;
  });
}

/** Each device back to the runtime's namespace, down, under its own name, with its addresses; the problems met. */
function moveBack(sys: Sys, s: Sockets, moved: MovedNetDevice[]): string[] {
  const problems: string[] = [];
  for (const d of moved) {
    try {
      const inside = linkIndex(sys, s.container, d.container);
      setLinkUp(sys, s.container, inside, false, d.container);
      moveLink(
        sys,
        s.container,
        inside,
        d.host,
        s.hostNs,
        `moving ${d.container} back to the runtime's network namespace as ${d.host}`,
      );
      addAddresses(sys, s.host, linkIndex(sys, s.host, d.host), d.host, d.addresses);
    } catch (err) {
      problems.push(errorMessage(err));
    }
  }
  return problems;
}

/**
 * Delete: the devices back from the namespace at netnsPath, while it
 * lives; the problems met (a device the container gave up or destroyed
 * is one), for delete to warn of.
 */
export function moveNetDevicesOut(sys: Sys, netnsPath: string, moved: MovedNetDevice[]): string[] {
  try {
    return withSockets(sys, netnsPath, (s) => moveBack(sys, s, moved));
  } catch (err) {
    return [errorMessage(err)];
  }
}

/** Whether two namespace files are one namespace (the same inode on nsfs). */
export function sameNamespace(sys: Sys, a: string, b: string): boolean {
  const x = sys.stat(a);
  const y = sys.stat(b);
  return x !== undefined && y !== undefined && x.dev === y.dev && x.ino === y.ino;
}
