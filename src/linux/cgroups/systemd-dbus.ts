/**
 * A D-Bus connection to systemd's manager (org.freedesktop.systemd1), for
 * the systemd cgroup driver: the calls runc's driver makes, each waited
 * for as runc waits (a unit's start or stop job until its JobRemoved
 * signal). As runc (go-systemd): the system bus first, and for root,
 * systemd's private socket when there is no bus daemon (a minimal host,
 * where systemd is PID 1 without dbus-daemon).
 *
 * The D-Bus protocol is @homebridge/dbus-native's (the maintained fork of
 * dbus-native: it can skip the bus's Hello on the private socket, which
 * answers none). It is loaded only here, when a command needs systemd:
 * the build keeps it in a file of its own (scripts/build.mjs).
 */
import type { EventEmitter } from 'node:events';
import { statSync } from 'node:fs';
import { type Socket, createConnection } from 'node:net';
import { RuntsError, errorMessage } from '../../errors';
import type { UnitProperty } from './systemd-properties';

const SYSTEMD = 'org.freedesktop.systemd1';
const MANAGER_PATH = '/org/freedesktop/systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';
const SYSTEM_BUS = '/run/dbus/system_bus_socket';
const PRIVATE_SOCKET = '/run/systemd/private';
/** runc's: how long a unit's start or stop job may take. */
const JOB_TIMEOUT_MS = 30_000;
/** How long a method call may wait for its reply: a busy systemd answers in far less; none is a failure, not a hang. */
const CALL_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;
const SIGNAL = 4;

/** What the library gives for an error reply. */
interface ErrorReply {
  name?: string;
  message?: string;
}

interface Message {
  type: number;
  interface?: string;
  member?: string;
  body?: unknown[];
}

/** The part of @homebridge/dbus-native used here (its own typings lack createClient's options). */
interface Bus {
  connection: EventEmitter & { end(): void };
  invoke(message: object, callback: (err: ErrorReply | null, ...values: unknown[]) => void): void;
}
interface DBusNative {
  createClient(options: { stream: Socket; direct: boolean; authMethods: string[] }): Bus;
}

export class SystemdError extends RuntsError {
  constructor(
    message: string,
    /** The D-Bus error's name ("org.freedesktop.systemd1.NoSuchUnit"), when systemd answered one. */
    readonly dbusName?: string,
  ) {
    super(message);
  }
}

/** sd_booted(3): systemd is the init when /run/systemd/system is a directory. */
function systemdBooted(): boolean {
  try {
    return statSync('/run/systemd/system').isDirectory();
  } catch {
    return false;
  }
}

/** The system bus's socket: $DBUS_SYSTEM_BUS_ADDRESS's first unix:path=, or the standard one. */
function systemBusPath(): string {
  const address = process.env.DBUS_SYSTEM_BUS_ADDRESS;
  const path = address
    ?.split(';')
    .map((a) => /^unix:(?:.*,)?path=([^,]+)/.exec(a)?.[1])
    .find((p) => p !== undefined);
  return path ? decodeURIComponent(path) : SYSTEM_BUS;
}

function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer'));
    }, CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export class SystemdConnection {
  readonly #bus: Bus;
  /** The results of the jobs that ended, by job path, until someone takes them. */
  readonly #ended = new Map<string, string>();
  readonly #waiting = new Map<string, (result: string) => void>();
  #lost: Error | undefined;
  readonly #onLoss = new Set<(err: Error) => void>();

  private constructor(bus: Bus) {
    this.#bus = bus;
    bus.connection.on('message', (m: Message) => {
      if (m.type !== SIGNAL || m.interface !== MANAGER || m.member !== 'JobRemoved') return;
      const [, job, , result] = (m.body ?? []) as [number, string, string, string];
      const waiter = this.#waiting.get(job);
      if (waiter) waiter(result);
      else this.#ended.set(job, result);
    });
    const lose = (err: Error) => {
      this.#lost ??= err;
      for (const f of this.#onLoss) f(this.#lost);
    };
    bus.connection.on('error', (err: Error) => lose(err));
    bus.connection.on('end', () => lose(new Error('systemd closed the connection')));
  }

  /**
   * Connects to systemd, or says why it cannot, in one sentence: a host
   * not booted with systemd, or neither socket reachable.
   */
  static async connect(): Promise<SystemdConnection> {
    if (!systemdBooted()) {
      throw new RuntsError(
        '--systemd-cgroup: systemd is not running on this host (no /run/systemd/system): it is needed as the init to manage cgroups; without the flag, runts manages them itself',
      );
    }
    const tries: [path: string, direct: boolean][] = [[systemBusPath(), false]];
    if (process.getuid?.() === 0) tries.push([PRIVATE_SOCKET, true]);
    const failures: string[] = [];
    for (const [path, direct] of tries) {
      let socket: Socket;
      try {
        socket = await openSocket(path);
      } catch (err) {
        failures.push(`${path}: ${errorMessage(err)}`);
        continue;
      }
      // require, not import(): the CLI bundle runs from a V8 code cache
      // (bin/runts), where a dynamic import() has no loader and throws
      // "A dynamic import callback was not specified".
      const native = require('@homebridge/dbus-native') as DBusNative;
      const connection = new SystemdConnection(native.createClient({ stream: socket, direct, authMethods: ['EXTERNAL'] }));
      // On the bus, the daemon sends a signal only to who asked for it.
      if (!direct)
        await connection.#call({
          path: '/org/freedesktop/DBus',
          destination: 'org.freedesktop.DBus',
          interface: 'org.freedesktop.DBus',
          member: 'AddMatch',
          signature: 's',
          body: [`type='signal',sender='${SYSTEMD}',interface='${MANAGER}',member='JobRemoved'`],
        });
      return connection;
    }
    throw new RuntsError(`--systemd-cgroup: cannot reach systemd over D-Bus (${failures.join('; ')})`);
  }

  close(): void {
    this.#onLoss.clear();
    this.#bus.connection.end();
  }

  /** A method call; the reply's values. */
  #call(message: {
    path: string;
    destination: string;
    interface: string;
    member: string;
    signature?: string;
    body?: unknown[];
  }): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const what = `${message.member}`;
      if (this.#lost) return reject(new SystemdError(`systemd: ${what}: ${this.#lost.message}`));
      const onLoss = (err: Error) => reject(new SystemdError(`systemd: ${what}: ${err.message}`));
      const timer = setTimeout(() => {
        this.#onLoss.delete(onLoss);
        reject(new SystemdError(`systemd: ${what}: no reply in ${CALL_TIMEOUT_MS / 1000} s`));
      }, CALL_TIMEOUT_MS);
      this.#onLoss.add(onLoss);
      this.#bus.invoke(message, (err, ...values) => {
        clearTimeout(timer);
        this.#onLoss.delete(onLoss);
        if (err) reject(new SystemdError(`systemd: ${what}: ${err.message || err.name}`, err.name));
        else resolve(values);
      });
    });
  }

  #manager(member: string, signature: string, body: unknown[]): Promise<unknown[]> {
    return this.#call({ path: MANAGER_PATH, destination: SYSTEMD, interface: MANAGER, member, signature, body });
  }

  /** The result of a job ("done", "failed", "canceled", …) once it ends. */
  #jobResult(job: string): Promise<string> {
    const ended = this.#ended.get(job);
    if (ended !== undefined) {
      this.#ended.delete(job);
      return Promise.resolve(ended);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => finish(() => reject(new SystemdError(`systemd: job ${job} did not end in ${JOB_TIMEOUT_MS / 1000} s`))),
        JOB_TIMEOUT_MS,
      );
      const onLoss = (err: Error) => finish(() => reject(new SystemdError(`systemd: waiting for job ${job}: ${err.message}`)));
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.#waiting.delete(job);
        this.#onLoss.delete(onLoss);
        settle();
      };
      this.#onLoss.add(onLoss);
      this.#waiting.set(job, (result) => finish(() => resolve(result)));
    });
  }

  /** systemd's version number ("252" of "252.39-1~deb12u2"); 0 when it does not say. */
  async version(): Promise<number> {
    const [value] = await this.#call({
      path: MANAGER_PATH,
      destination: SYSTEMD,
      interface: 'org.freedesktop.DBus.Properties',
      member: 'Get',
      signature: 'ss',
      body: [MANAGER, 'Version'],
    });
    // A variant comes as [its signature, [its value]].
    const text = (value as [unknown, unknown[]] | undefined)?.[1]?.[0];
    const number = typeof text === 'string' ? /^v?(\d+)/.exec(text) : null;
    return number ? Number(number[1]) : 0;
  }

  /**
   * StartTransientUnit, waited for. A unit of that name left failed by an
   * earlier container is reset and the start tried once more (runc does).
   */
  async startTransientUnit(name: string, properties: UnitProperty[]): Promise<void> {
    let job: string;
    try {
      [job] = (await this.#manager('StartTransientUnit', 'ssa(sv)a(sa(sv))', [name, 'replace', properties, []])) as [string];
    } catch (err) {
      if (!(err instanceof SystemdError) || err.dbusName !== 'org.freedesktop.systemd1.UnitExists') throw err;
      await this.resetFailedUnit(name).catch(() => undefined);
      [job] = (await this.#manager('StartTransientUnit', 'ssa(sv)a(sa(sv))', [name, 'replace', properties, []])) as [string];
    }
    const result = await this.#jobResult(job);
    if (result !== 'done') {
      await this.resetFailedUnit(name).catch(() => undefined);
      throw new SystemdError(`systemd: starting unit ${name}: the job ended "${result}"`);
    }
  }

  /**
   * StopUnit, waited for, then ResetFailedUnit so that a failed unit goes
   * too (runc does). A unit already gone is no error: systemd removes an
   * emptied scope by itself.
   */
  async stopUnit(name: string): Promise<void> {
    try {
      const [job] = (await this.#manager('StopUnit', 'ss', [name, 'replace'])) as [string];
      // Whatever its result, a unit that failed to stop is failed: the reset below removes it.
      await this.#jobResult(job);
    } catch (err) {
      if (!(err instanceof SystemdError) || err.dbusName !== 'org.freedesktop.systemd1.NoSuchUnit') throw err;
    }
    await this.resetFailedUnit(name).catch(() => undefined);
  }

  async resetFailedUnit(name: string): Promise<void> {
    await this.#manager('ResetFailedUnit', 's', [name]);
  }

  /** SetUnitProperties, for the unit's life only (runtime=true), as runc's update. */
  async setUnitProperties(name: string, properties: UnitProperty[]): Promise<void> {
    if (properties.length) await this.#manager('SetUnitProperties', 'sba(sv)', [name, true, properties]);
  }
}
