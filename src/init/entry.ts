/**
 * The init bundle's entry: a fresh node spawned by create, which becomes
 * the container (see init.ts). Kept tiny: everything is bundled, so that no
 * module has to be loaded from disk after pivot_root.
 */
import { sys } from '../sys/index';
import { runInit } from './init';

runInit(sys());
