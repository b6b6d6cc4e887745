// Finds the official OCI runtime-spec JSON Schema. It is never committed:
// 1. $OCI_RUNTIME_SPEC_SCHEMA_DIR, when set;
// 2. the pinned runtime-spec v1.3.0 release: its files, each checked against
//    the SHA-256 below, from the cache in the clone
//    (node_modules/.cache/runtime-spec-v1.3.0/schema, gitignored), else
//    fetched from GitHub ($RUNTS_SCHEMA_URL replaces the base URL) with a
//    short timeout; a file whose sum differs is rejected, never used;
// 3. offline: the Debian/Ubuntu package golang-github-opencontainers-specs-dev
//    (pre-1.1 in Debian 12), installed with apt-get as root when missing;
//    the build says that this copy is older and what that costs.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');

export const DEBIAN_PACKAGE = 'golang-github-opencontainers-specs-dev';
export const DEBIAN_SCHEMA_DIR = '/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema';

export const PINNED_VERSION = '1.3.0';
export const PINNED_URL = `https://raw.githubusercontent.com/opencontainers/runtime-spec/v${PINNED_VERSION}/schema`;
export const PINNED_CACHE_DIR = join(top, 'node_modules', '.cache', `runtime-spec-v${PINNED_VERSION}`, 'schema');
/** The schema files of the v1.3.0 release and their SHA-256 (sha256sum of the release's schema/). */
export const PINNED_SHA256 = {
  'config-freebsd.json': '1014c4bb0b4b31e90d182c43b0cf1352f77e280706786b726bcb622e24e44e39',
  'config-linux.json': '123bb6c446d0054d37f6cc8c569e72cbec5ca5a5a670cf7a77aa30b2834344bc',
  'config-schema.json': '220835b554f2bfb990c95700f9077f2f0a0643a7dbfd3b2676ac55e1aad1d1a3',
  'config-solaris.json': '7c7babccb26a27b266bc195b25d5832ed9fe412c716f9ce6c9702edcb2207c99',
  'config-vm.json': 'd927fee38f523c343a471adb9cc56c0719aa6c300aa0c4191c5b9c0551d905c7',
  'config-windows.json': 'b9ad0c1d38bb6f3bae4a6efeef33c1c1434ae3801d9d4cb435dc7d21ecf02e48',
  'config-zos.json': '409268930b22de85223f4b64ac357e6f70f72e4465e2e8c1051b32589736f4ef',
  'defs-freebsd.json': '8317c8ca406bc2c32fe01b720be81c3ff722bdeffab0bc3604399601730537af',
  'defs-linux.json': '75f7814a39067ce49f250919e546c99fd30f20b140e354a3248ae0c218874783',
  'defs-vm.json': 'b204c703303a98783d13e576f583ab128e88219e77c62b2282361ed2a4f2c352',
  'defs-windows.json': 'c0282c945629cbd124cf0389fd7c6e8d334b05a7a717d0efb860ff2ecd488c22',
  'defs-zos.json': '75ca042c97bbb3933ab2a216318468aa70b1e3aa82fc6b6a58f4d4d2df6be0fc',
  'defs.json': 'db17c223dd9b3ffb4fb80ca46f11f1a809e6f983f13dd8296c9459ba686f8b8c',
  'features-linux.json': '432aba8857f4bf784c52b27a67d2124de6846e84164637d6967aaa3dbf3b1de2',
  'features-schema.json': 'c435f73f02dd9b0f9042e33c6dfa0c1471b97842d4e1786a54c0f94784db8255',
  'state-schema.json': 'a096b750c096f43604591061c2692245e5cdf8971be4560512c8b3c28b967f8a',
};
/** Seconds per file before the fetch gives up (an offline build should not wait long). */
const FETCH_TIMEOUT_MS = 4000;

const hasConfigSchema = (dir) => existsSync(`${dir}/config-schema.json`);
const sha256 = (data) => createHash('sha256').update(data).digest('hex');

/** Files of `dir` whose content is not the pinned release's (missing ones included). */
function pinMismatches(dir) {
  return Object.entries(PINNED_SHA256)
    .filter(([name, sum]) => !existsSync(join(dir, name)) || sha256(readFileSync(join(dir, name))) !== sum)
    .map(([name]) => name);
}

/**
 * Which runtime-spec release a schema directory is: exactly v1.3.0 when every
 * file has the pinned sum; else by what it defines (config-linux.json's
 * memoryPolicy is new in 1.3.0, features-schema.json in 1.1.0). `version` is
 * the oldest release that fits, `exact` whether it is that release's copy.
 */
export function detectSchemaVersion(dir) {
  if (pinMismatches(dir).length === 0)
    return { version: PINNED_VERSION, exact: true, detectedBy: `SHA-256 of every file = the v${PINNED_VERSION} release` };
  const linux = existsSync(join(dir, 'config-linux.json')) ? readFileSync(join(dir, 'config-linux.json'), 'utf8') : '';
  if (linux.includes('"memoryPolicy"'))
    return {
      version: '1.3.0',
      exact: false,
      detectedBy: 'config-linux.json defines memoryPolicy (new in 1.3.0); files differ from the release',
    };
  if (existsSync(join(dir, 'features-schema.json')))
    return { version: '1.1.0', exact: false, detectedBy: 'features-schema.json (new in 1.1.0), no memoryPolicy (1.3.0)' };
  return { version: '1.0.0', exact: false, detectedBy: 'no features-schema.json (new in 1.1.0)' };
}

/** The pinned release from the cache, or fetched into it; undefined (with the reason logged) when it cannot be had. */
export async function pinnedSchemaDir({ cacheDir = PINNED_CACHE_DIR, baseUrl = PINNED_URL, log = console.error } = {}) {
  if (pinMismatches(cacheDir).length === 0) return cacheDir;
  const files = {};
  for (const [name, sum] of Object.entries(PINNED_SHA256)) {
    const url = `${baseUrl}/${name}`;
    let data;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      data = Buffer.from(await res.arrayBuffer());
    } catch (err) {
      log(`schema: cannot fetch ${url}: ${err.cause?.message ?? err.message}`);
      return undefined;
    }
    if (sha256(data) !== sum) {
      log(`schema: ${url} has SHA-256 ${sha256(data)}, not the pinned ${sum}: rejected`);
      return undefined;
    }
    files[name] = data;
  }
  // Whole or not at all: the files go to a directory beside the cache, renamed into place.
  mkdirSync(dirname(cacheDir), { recursive: true });
  const tmp = mkdtempSync(`${cacheDir}.tmp-`);
  for (const [name, data] of Object.entries(files)) writeFileSync(join(tmp, name), data);
  rmSync(cacheDir, { recursive: true, force: true });
  renameSync(tmp, cacheDir);
  log(`schema: fetched the runtime-spec v${PINNED_VERSION} schema from ${baseUrl}, checksums verified, into ${cacheDir}`);
  return cacheDir;
}

function debianSchemaDir({ install, debianDir, log }) {
  if (hasConfigSchema(debianDir)) return debianDir;
  if (!install || process.getuid?.() !== 0) return undefined;
  log(`schema: installing ${DEBIAN_PACKAGE} (the official runtime-spec schema)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (...args) => execFileSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
  try {
    apt('install', '-y', '-q', DEBIAN_PACKAGE);
  } catch {
    apt('update', '-q');
    apt('install', '-y', '-q', DEBIAN_PACKAGE);
  }
  return hasConfigSchema(debianDir) ? debianDir : undefined;
}

/**
 * The schema the build uses: { dir, source, version, exact, detectedBy }.
 * Options are for tests; the defaults are the build's.
 */
export async function locateSchema({
  env = process.env,
  install = true,
  log = console.error,
  cacheDir = PINNED_CACHE_DIR,
  debianDir = DEBIAN_SCHEMA_DIR,
} = {}) {
  const found = (dir, source) => ({ dir, source, ...detectSchemaVersion(dir) });
  const fromEnv = env.OCI_RUNTIME_SPEC_SCHEMA_DIR;
  if (fromEnv) {
    if (!hasConfigSchema(fromEnv)) throw new Error(`OCI_RUNTIME_SPEC_SCHEMA_DIR=${fromEnv} holds no config-schema.json`);
    return found(fromEnv, 'OCI_RUNTIME_SPEC_SCHEMA_DIR');
  }
  const pinned = await pinnedSchemaDir({ cacheDir, baseUrl: env.RUNTS_SCHEMA_URL || PINNED_URL, log });
  if (pinned) return found(pinned, `the pinned runtime-spec v${PINNED_VERSION} release`);
  const debian = debianSchemaDir({ install, debianDir, log });
  if (debian) {
    const result = found(debian, `Debian's ${DEBIAN_PACKAGE}`);
    if (result.version !== PINNED_VERSION)
      log(
        `schema: using Debian's ${DEBIAN_PACKAGE} (${debian}), older than v${PINNED_VERSION} (${result.detectedBy}): ` +
          `configs with newer fields are checked less, and the tests of those fields skip`,
      );
    return result;
  }
  throw new Error(
    `the official OCI runtime-spec schema was not found: the v${PINNED_VERSION} release could not be fetched; ` +
      `set OCI_RUNTIME_SPEC_SCHEMA_DIR or install ${DEBIAN_PACKAGE} (as root, the build installs it)`,
  );
}

/** What the last build of the checkout `checkout` used (its src/spec/generated/schema-source.json); undefined before a build. */
export function buildSchemaSource(checkout) {
  const file = join(checkout, 'src', 'spec', 'generated', 'schema-source.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}
