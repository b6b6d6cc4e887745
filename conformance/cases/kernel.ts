/** config-linux.md, kernel settings of the container: "Sysctl" and "Personality". */
import { readFileSync } from 'node:fs';
import { type Case, STEP2, same } from '../case';
import { inside, runScript, scenario, section } from '../kinds';
import { keyValues } from '../parse';

const sysctl = section('config-linux.md', 'Sysctl');
const personality = section('config-linux.md', 'Personality');

/** Namespaced sysctls (net: network namespace, kernel.msg*: ipc namespace), set away from their defaults. */
const SYSCTLS: Record<string, string> = {
  'net.ipv4.ip_unprivileged_port_start': '123',
  'kernel.msgmax': '12345',
};
const procPath = (key: string) => `/proc/sys/${key.replace(/\./g, '/')}`;

export const kernelCases: Case[] = [
  scenario(
    sysctl('MUST', `sysctl (object, OPTIONAL) allows kernel parameters to be modified at runtime for the container. ${STEP2}`),
    {
      id: 'config-linux.sysctl',
      run: async (t) => {
        const onHost = () => Object.keys(SYSCTLS).map((key) => readFileSync(procPath(key), 'utf8').trim());
        const before = onHost();
        const script = Object.keys(SYSCTLS)
          .map((key) => `echo ${key}=$(cat ${procPath(key)})`)
          .join('; ');
        const seen = keyValues(
          await runScript(t, script, (c) => {
            c.linux!.sysctl = { ...SYSCTLS };
          }),
        );
        for (const [key, value] of Object.entries(SYSCTLS)) same(seen[key], value, `${key} in the container`);
        same(onHost(), before, `${Object.keys(SYSCTLS).join(', ')} on the host`);
      },
    },
  ),

  inside(
    personality(
      'MUST',
      `personality (object, OPTIONAL) sets the Linux execution personality: domain LINUX32 will set the uname system call to show a 32 bit CPU type, such as i686. ${STEP2}`,
    ),
    {
      id: 'config-linux.personality',
      needs: ['x86_64'],
      script: 'echo machine=$(uname -m)',
      config: (c) => {
        c.linux!.personality = { domain: 'LINUX32' };
      },
      check: (out) => same(keyValues(out).machine, 'i686', 'uname -m with the LINUX32 personality'),
    },
  ),
];
