/**
 * A seccomp agent's socket (linux.seccomp.listenerPath): it accepts the
 * runtime's connections and keeps what each one sent and whether the
 * runtime closed it. The descriptors sent with SCM_RIGHTS are not kept
 * (Node cannot receive them), so the container's notified syscalls fail
 * with ENOSYS; the cases do not make them.
 */
import { type Server, type Socket, createServer } from 'node:net';
import type { Trial } from './trial';

export interface Connection {
  data: string;
  closed: boolean;
}

export interface Agent {
  path: string;
  connections: Connection[];
}

export async function seccompAgent(t: Trial): Promise<Agent> {
  const path = t.path('seccomp-agent.sock');
  const agent: Agent = { path, connections: [] };
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const conn: Connection = { data: '', closed: false };
    agent.connections.push(conn);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      conn.data += chunk;
    });
    socket.on('end', () => {
      conn.closed = true;
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
  t.onCleanup(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return agent;
}
