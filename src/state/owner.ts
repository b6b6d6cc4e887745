import { readFileSync } from 'node:fs';

/** The user name of this process's uid (runc's "owner" field), or the uid itself. */
export function ownerName(uid = process.getuid?.() ?? 0): string {
  if (uid === 0) return 'root';
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[2] === String(uid));
    if (line) return line.split(':')[0];
  } catch {
    // No passwd: fall back to the number.
  }
  return String(uid);
}
