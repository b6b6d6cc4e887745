/**
 * The init bundle's entry: a fresh node spawned by create, which becomes
 * the container (see init.ts); or, spawned by exec into a container with a
 * user namespace, exec's stage inside it (exec-stage.ts). Kept tiny:
 * everything is bundled, so that no module has to be loaded from disk
 * after pivot_root.
 */
import { markStart } from '../profile';
import { sys } from '../sys/index';
import { EXEC_STAGE_ENV } from './channel';
import { runInit } from './init';

markStart('init');
if (process.env[EXEC_STAGE_ENV]) {
  // Evaluated in this mode only (still from the bundle): exec-stage.ts
  // brings node:child_process, which loads net and the streams, about 5 ms
  // of the init's start-up that the init has no use for.
  const { runExecStage } = require('./exec-stage') as typeof import('./exec-stage');
  void runExecStage(sys());
} else runInit(sys());
