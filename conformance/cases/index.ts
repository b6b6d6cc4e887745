/** Every case, in the order the report lists them: runtime.md, config.md, config-linux.md, runtime-linux.md, features. */
import type { Case } from '../case';
import { cgroupCases } from './cgroups';
import { configCases } from './config';
import { deviceCases } from './devices';
import { featureCases } from './features';
import { filesystemCases } from './filesystem';
import { hookCases } from './hooks';
import { kernelCases } from './kernel';
import { mountOptionCases } from './mount-options';
import { namespaceCases } from './namespaces';
import { runtimeCases } from './runtime';
import { seccompCases } from './seccomp';

export const allCases: Case[] = [
  ...runtimeCases,
  ...configCases,
  ...mountOptionCases,
  ...hookCases,
  ...namespaceCases,
  ...deviceCases,
  ...filesystemCases,
  ...kernelCases,
  ...cgroupCases,
  ...seccompCases,
  ...featureCases,
];
