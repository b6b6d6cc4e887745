import { readFileSync } from 'node:fs';

/** The user name of this process's uid (runc's "owner" field), or the uid itself. */
export function ownerName(uid = process.getuid?.() ?? 0): string {
  if (uid === 0) return 'root';
  try {
    const name = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((line) => line.split(':'))
      .find((fields) => fields[2] === String(uid))?.[0];
    if (name !== undefined) return name;
  } catch {
    // No passwd: fall back to the number.
  }
  return String(uid);
}
