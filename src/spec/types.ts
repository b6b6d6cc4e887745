/**
 * The config.json types, generated at build time from the official schema
 * (schema/generate.mjs). Re-exported here so that the rest of the code
 * names one module, whichever schema copy the build used.
 */
export type { Spec, Hook, Linux, NamespaceReference } from './generated/config';
import type { Spec } from './generated/config';

export type Process = NonNullable<Spec['process']>;
export type LinuxResources = NonNullable<NonNullable<Spec['linux']>['resources']>;
export type Mount = NonNullable<Spec['mounts']>[number];
