import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Which of our child processes opened a loopback TCP connection (Linux). A gateway dials peers
 * without binding a source address, so the kernel gives every loopback connection the source IP
 * 127.0.0.1 and the source IP cannot name the sender (unlike its UDP datagrams). The connection's
 * client end is still a socket in /proc/net/tcp (local = the address the proxy sees as remote), and
 * its inode is an open fd of exactly one process: that pid is the sender.
 */
export function tcpOwnerPid(remoteHost: string, remotePort: number, localHost: string, localPort: number, candidates: readonly number[]): number | 'closed' | undefined {
  const inode = clientInode(remoteHost, remotePort, localHost, localPort);
  if (inode === undefined) return undefined;
  // The client end is gone (no entry, or a TIME_WAIT/FIN_WAIT one without a socket inode).
  if (inode === 'closed') return 'closed';
  const owner = ownerOf(`socket:[${inode}]`, candidates);
  if (owner !== undefined) return owner;
  // No process holds it: the client may have closed its end between the two reads (a dial given up
  // under loss or partition). If the entry is gone or has lost its inode now, that is what happened.
  return clientInode(remoteHost, remotePort, localHost, localPort) === inode ? undefined : 'closed';
}

function ownerOf(link: string, candidates: readonly number[]): number | undefined {
  for (const pid of candidates) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === link) return pid;
      } catch {
        // the fd closed meanwhile
      }
    }
  }
  return undefined;
}

/** /proc/net/tcp prints an IPv4 address as the little-endian hex of its 32-bit value, and the port in hex. */
export function procAddress(host: string, port: number): string {
  const octets = host.replace(/^::ffff:/, '').split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return '';
  const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, '0');
  return `${octets.reverse().map((o) => hex(o, 2)).join('')}:${hex(port, 4)}`;
}

function clientInode(remoteHost: string, remotePort: number, localHost: string, localPort: number): string | 'closed' | undefined {
  const client = procAddress(remoteHost, remotePort);
  const server = procAddress(localHost, localPort);
  if (!client || !server) return undefined;
  let table: string;
  try {
    table = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of table.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[1] === client && f[2] === server) return f[9] && f[9] !== '0' ? f[9] : 'closed';
  }
  return 'closed';
}
