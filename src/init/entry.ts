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
import { runExecStage } from './exec-stage';
import { runInit } from './init';

markStart('init');
if (process.env[EXEC_STAGE_ENV]) void runExecStage(sys());
else runInit(sys());
