// Finds the official OCI runtime-spec JSON Schema. It is never committed:
// 1. $OCI_RUNTIME_SPEC_SCHEMA_DIR, when set;
// 2. the Debian/Ubuntu package golang-github-opencontainers-specs-dev;
// 3. as root, that package is installed with apt-get, then (2) again.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export const DEBIAN_PACKAGE = 'golang-github-opencontainers-specs-dev';
export const DEBIAN_SCHEMA_DIR = '/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema';

const hasConfigSchema = (dir) => existsSync(`${dir}/config-schema.json`);

export function locateSchemaDir({ install = true, log = console.error } = {}) {
  const fromEnv = process.env.OCI_RUNTIME_SPEC_SCHEMA_DIR;
  if (fromEnv) {
    if (!hasConfigSchema(fromEnv)) {
      throw new Error(`OCI_RUNTIME_SPEC_SCHEMA_DIR=${fromEnv} holds no config-schema.json`);
    }
    return fromEnv;
  }
  if (hasConfigSchema(DEBIAN_SCHEMA_DIR)) return DEBIAN_SCHEMA_DIR;
  if (install && process.getuid?.() === 0) {
    log(`schema: installing ${DEBIAN_PACKAGE} (the official runtime-spec schema)`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const apt = (...args) => execFileSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    try {
      apt('install', '-y', '-q', DEBIAN_PACKAGE);
    } catch {
      apt('update', '-q');
      apt('install', '-y', '-q', DEBIAN_PACKAGE);
    }
    if (hasConfigSchema(DEBIAN_SCHEMA_DIR)) return DEBIAN_SCHEMA_DIR;
  }
  throw new Error(
    `the official OCI runtime-spec schema was not found: set OCI_RUNTIME_SPEC_SCHEMA_DIR ` +
      `or install ${DEBIAN_PACKAGE} (as root, the build installs it)`,
  );
}
