// schema/locate.mjs, the build's search for the official schema, for real
// against a local HTTP server standing in for GitHub ($RUNTS_SCHEMA_URL):
// the pinned v1.3.0 files fetched, checked and cached; a file with another
// SHA-256 rejected; offline, Debian's copy, said to be older; the
// environment's directory first.
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
// @ts-expect-error: a plain .mjs module of the build
import { PINNED_SHA256, detectSchemaVersion, locateSchema } from '../../schema/locate.mjs';
import { tempDir } from '../lib/cli';
import { BUILD_SCHEMA } from '../lib/schema';
import { skipTest } from '../lib/skips';

const test = suite('schema-locate');
const FILES = Object.keys(PINNED_SHA256 as Record<string, string>);

/** Serves `dir`'s files under /schema/, `tamper` changing one; counts requests. */
async function serve(dir: string, tamper?: string): Promise<{ url: string; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url!);
    const name = req.url!.replace(/^\/schema\//, '');
    if (!FILES.includes(name)) return res.writeHead(404).end();
    let body = readFileSync(join(dir, name));
    if (name === tamper) body = Buffer.concat([body, Buffer.from(' ')]);
    res.writeHead(200).end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/schema`, requests, server };
}

/** A stand-in for Debian's pre-1.1 copy: a config schema, no features schema. */
function oldCopy(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'config-schema.json'), '{}');
  return dir;
}

const quietly = (lines: string[]) => (line: string) => lines.push(line);

if (BUILD_SCHEMA.exact && BUILD_SCHEMA.version === '1.3.0') {
  test('fetched: every pinned file, checked, into the cache; the next build reads the cache', async () => {
    const { url, requests, server } = await serve(BUILD_SCHEMA.dir);
    try {
      const cacheDir = join(tempDir(), 'cache', 'schema');
      const log: string[] = [];
      const env = { RUNTS_SCHEMA_URL: url };
      const found = await locateSchema({ env, install: false, log: quietly(log), cacheDir, debianDir: oldCopy() });
      assert.equal(
        { dir: found.dir, version: found.version, exact: found.exact },
        { dir: cacheDir, version: '1.3.0', exact: true },
      );
      assert.equal(requests.sort(), FILES.map((f) => `/schema/${f}`).sort());
      for (const f of FILES) assert.ok(existsSync(join(cacheDir, f)), f);
      assert.match(log.join('\n'), 'checksums verified');
      requests.length = 0;
      const again = await locateSchema({ env, install: false, log: quietly(log), cacheDir, debianDir: oldCopy() });
      assert.is(again.dir, cacheDir);
      assert.equal(requests, []);
      // A cached file changed since: not trusted, fetched again.
      writeFileSync(join(cacheDir, 'defs.json'), '{}');
      await locateSchema({ env, install: false, log: quietly(log), cacheDir, debianDir: oldCopy() });
      assert.is(requests.length, FILES.length);
      assert.is(readFileSync(join(cacheDir, 'defs.json'), 'utf8'), readFileSync(join(BUILD_SCHEMA.dir, 'defs.json'), 'utf8'));
    } finally {
      server.close();
    }
  });

  test('a fetched file whose SHA-256 is not the pinned one is rejected: nothing cached, the older copy used', async () => {
    const { url, server } = await serve(BUILD_SCHEMA.dir, 'config-linux.json');
    try {
      const cacheDir = join(tempDir(), 'cache', 'schema');
      const debianDir = oldCopy();
      const log: string[] = [];
      const found = await locateSchema({
        env: { RUNTS_SCHEMA_URL: url },
        install: false,
        log: quietly(log),
        cacheDir,
        debianDir,
      });
      assert.is(found.dir, debianDir);
      assert.ok(!existsSync(cacheDir));
      assert.match(log.join('\n'), /config-linux\.json has SHA-256 [0-9a-f]{64}, not the pinned [0-9a-f]{64}: rejected/);
    } finally {
      server.close();
    }
  });
} else {
  const why = `the build's schema is not the v1.3.0 release's files to serve (${BUILD_SCHEMA.dir})`;
  skipTest(test, 'fetched: every pinned file, checked, into the cache', why);
  skipTest(test, 'a fetched file whose SHA-256 is not the pinned one is rejected', why);
}

test("offline: Debian's copy, with a line saying it is older; neither: an error naming the way out", async () => {
  const { url, server } = await serve(tempDir());
  server.close(); // nothing listens there any more: the fetch fails at once
  const cacheDir = join(tempDir(), 'cache', 'schema');
  const debianDir = oldCopy();
  const log: string[] = [];
  const env = { RUNTS_SCHEMA_URL: url };
  const found = await locateSchema({ env, install: false, log: quietly(log), cacheDir, debianDir });
  assert.equal(
    { dir: found.dir, version: found.version, exact: found.exact },
    { dir: debianDir, version: '1.0.0', exact: false },
  );
  assert.match(log.join('\n'), `schema: cannot fetch ${url}/`);
  assert.match(log.join('\n'), /using Debian's golang-github-opencontainers-specs-dev .*older than v1\.3\.0/);
  const none = join(tempDir(), 'none');
  try {
    await locateSchema({ env, install: false, log: quietly(log), cacheDir, debianDir: none });
    assert.unreachable('no schema anywhere, yet found');
  } catch (err) {
    assert.match(String(err), 'set OCI_RUNTIME_SPEC_SCHEMA_DIR');
  }
});

test('OCI_RUNTIME_SPEC_SCHEMA_DIR comes first, and must hold config-schema.json', async () => {
  const dir = oldCopy();
  const found = await locateSchema({ env: { OCI_RUNTIME_SPEC_SCHEMA_DIR: dir, RUNTS_SCHEMA_URL: 'http://127.0.0.1:9/x' } });
  assert.equal({ dir: found.dir, source: found.source }, { dir, source: 'OCI_RUNTIME_SPEC_SCHEMA_DIR' });
  try {
    await locateSchema({ env: { OCI_RUNTIME_SPEC_SCHEMA_DIR: tempDir() } });
    assert.unreachable();
  } catch (err) {
    assert.match(String(err), 'holds no config-schema.json');
  }
});

test('the version of a copy: by its fields when its files are not the release', () => {
  const dir = oldCopy();
  assert.is(detectSchemaVersion(dir).version, '1.0.0');
  writeFileSync(join(dir, 'features-schema.json'), '{}');
  assert.is(detectSchemaVersion(dir).version, '1.1.0');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config-linux.json'), '{"memoryPolicy": {}}');
  assert.equal(detectSchemaVersion(dir).version, '1.3.0');
  assert.is(detectSchemaVersion(dir).exact, false);
});

test.run();
