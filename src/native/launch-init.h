/* The init of `create` and `run`, spawned by the launcher before node starts (launch-init.c). */
#ifndef RUNTS_LAUNCH_INIT_H
#define RUNTS_LAUNCH_INIT_H

/* Set for node when the init was spawned (src/container/init-start.ts LAUNCHED_INIT_ENV). */
#define LAUNCHED_INIT_ENV "_RUNTS_LAUNCHED_INIT"

/*
 * WORDS: what follows the command word; RUN: the command is run. TOP: the
 * build's top directory. Spawns the init when the command and its config
 * are plain, and sets LAUNCHED_INIT_ENV; otherwise does nothing.
 */
void launch_init(const char *top, int count, char **words, int run);

#endif
