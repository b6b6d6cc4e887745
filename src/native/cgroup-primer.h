/* A process that keeps moves into cgroups fast while create makes the container's (cgroup-primer.c). */
#ifndef RUNTS_CGROUP_PRIMER_H
#define RUNTS_CGROUP_PRIMER_H

/* Starts it; returns the pipe end whose closing ends it (close-on-exec), or -1 if none could start. */
int start_cgroup_primer(void);

#endif
