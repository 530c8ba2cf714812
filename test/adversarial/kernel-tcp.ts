/**
 * The kernel's view of a raw connection (Linux, /proc/net/tcp{,6}), by the ports its socket
 * reports: whether the server has closed or let go of a connection whose client does not read,
 * which the client cannot learn by reading.
 */
import { readFileSync } from 'node:fs';
import type { RawConn } from './raw-conn.ts';

const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

export interface TcpEnd {
  readonly state: string;
  /** Bytes in the kernel's send queue (tx_queue). */
  readonly sendQueue: number;
  /** A process holds the socket (inode ≠ 0); false for an orphan or TIME_WAIT. */
  readonly owned: boolean;
}

/** State of the TCP connection localPort → remotePort from /proc/net/tcp{,6}, or null if absent. */
export function tcpState(localPort: number | undefined, remotePort: number | undefined): string | null {
  return tcpEnd(localPort, remotePort)?.state ?? null;
}

/** The kernel's entry for the TCP connection localPort → remotePort (/proc/net/tcp{,6}), or null if absent. */
export function tcpEnd(localPort: number | undefined, remotePort: number | undefined): TcpEnd | null {
  if (localPort === undefined || remotePort === undefined) return null;
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, '0');
  const local = `:${hex(localPort)}`;
  const remote = `:${hex(remotePort)}`;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      if (!cols[1]!.endsWith(local) || !cols[2]!.endsWith(remote)) continue;
      // sl local remote st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …
      return { state: TCP_STATES[cols[3]!] ?? cols[3]!, sendQueue: parseInt(cols[4]!.split(':')[0]!, 16), owned: cols[9] !== '0' };
    }
  }
  return null;
}

/** [local, remote] of `conn` as it connected; throws if the host did not say (the checks below would pass on nothing). */
function portsOf(conn: RawConn): [number, number] {
  const { localPort, remotePort } = conn.socket;
  if (localPort === undefined || remotePort === undefined) throw new Error("the audit host did not report this connection's ports");
  return [localPort, remotePort];
}

const serverPortsOf = (conn: RawConn): [number, number] => {
  const [local, remote] = portsOf(conn);
  return [remote, local];
};

/**
 * Our end of `conn` as the kernel sees it: 'ESTABLISHED', 'CLOSE_WAIT' (the server sent FIN, we
 * have not read it yet), … or null when the socket is gone (reset). Works while the socket is
 * paused, which is the point: "did the server drop a client that never reads?" cannot be answered
 * by reading.
 */
export const kernelState = (conn: RawConn): string | null => tcpState(...portsOf(conn));

/**
 * The server's end of `conn` (loopback: both ends are local). When the client never reads, a
 * server that closes has its FIN stuck behind unsent data: its end goes FIN_WAIT1 while ours still
 * says ESTABLISHED — so both ends are checked.
 */
export const serverKernelState = (conn: RawConn): string | null => tcpState(...serverPortsOf(conn));

/**
 * The server's end of `conn` in the kernel: state, bytes still queued to send to us, and whether
 * a process still holds it (an orphan — closed by the server process, but kept by the kernel to
 * deliver what is queued — has inode 0). null once the kernel has forgotten it.
 */
export const serverEnd = (conn: RawConn): TcpEnd | null => tcpEnd(...serverPortsOf(conn));

/** The server process has let go of `conn`: closed, orphaned in the kernel, or reset. */
export function serverReleased(conn: RawConn): boolean {
  const end = serverEnd(conn);
  return end === null || !end.owned;
}

/** The server has ended `conn` (FIN queued or sent, or RST), whether or not we read it. */
export function serverHasClosed(conn: RawConn): boolean {
  if (conn.closed || conn.sawEof) return true;
  const ours = kernelState(conn);
  if (ours === null || ours === 'CLOSE_WAIT' || ours === 'CLOSE' || ours === 'LAST_ACK') return true;
  const theirs = serverKernelState(conn);
  return theirs === null || theirs !== 'ESTABLISHED';
}
