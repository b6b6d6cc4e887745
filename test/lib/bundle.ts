/** Configs for tests: runts' own default (as `runts spec` writes it), terminal off. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSpec } from '../../src/spec/default-spec';
import type { Spec } from '../../src/spec/types';
import { tempDir } from './cli';

export function baseSpec(): Spec {
  const spec = defaultSpec();
  spec.process!.terminal = false;
  return spec;
}

/** A bundle directory holding config.json (and an empty rootfs/ unless given one). */
export function writeBundle(spec: unknown, rootfs?: string): string {
  const dir = tempDir('runts-bundle-');
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2));
  if (rootfs === undefined) mkdirSync(join(dir, 'rootfs'));
  return dir;
}
