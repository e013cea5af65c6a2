/*
 * Following the program's processes at their syscalls: the fork family (fork, vfork, clone,
 * clone3) and exec (execve, execveat) are trapped through the hook table. New tasks themselves
 * are adopted at their ptrace event stops (events.c); at the seccomp stop this module names
 * the program an exec is about to run and keeps CLONE_UNTRACED from making a task the ptrace
 * options would not follow.
 */
#ifndef DMTCP_TRACER_FOLLOW_H
#define DMTCP_TRACER_FOLLOW_H

struct tracer;

int follow_init(struct tracer *tr);

#endif
