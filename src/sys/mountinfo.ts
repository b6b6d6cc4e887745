/** /proc/PID/mountinfo (proc(5)): the fields runts reads, one entry per line. */
export interface MountinfoEntry {
  id: number;
  parent: number;
  /** As seen from the reader's root, unescaped. */
  mountPoint: string;
}

export function parseMountinfo(text: string): MountinfoEntry[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const fields = line.split(' ');
      return { id: Number(fields[0]), parent: Number(fields[1]), mountPoint: unescape(fields[4] ?? '') };
    });
}

/** The kernel writes space, tab, newline and backslash as \ooo. */
const unescape = (field: string): string =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
