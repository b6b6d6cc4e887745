/* A process that keeps moves into cgroups fast while create makes the container's (cgroup-primer.c). */
#ifndef RUNTS_CGROUP_PRIMER_H
#define RUNTS_CGROUP_PRIMER_H

#include <sys/types.h>

/* Starts it (*PID: its pid); returns the pipe end whose closing ends it (close-on-exec), or -1 if none could start. */
int start_cgroup_primer(pid_t *pid);

/* Ends it (closes that end) and reaps it. */
void end_cgroup_primer(int end, pid_t pid);

#endif
