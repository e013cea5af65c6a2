/*
 * Where a traced process's threads are, for dmtcp_command --where (the coordinator's
 * MSG_WHERE, docs/protocol.md): the threads are stopped briefly (suspend_peek), each is
 * unwound (backtrace.c), they are let go exactly as they were held (an interrupted system call
 * goes on as if nothing happened), and the answer, MSG_WHERE_REPLY, carries one F_THREAD line
 * per thread and one F_FRAME line per frame (common/where_line.h). The process's later
 * coordinator messages wait until it is answered, so a checkpoint's suspend never finds it
 * stopped for a look. The processes of the tree are stopped one at a time, in the order their
 * requests came, so that each is stopped only while its own threads are unwound.
 *
 * Not stopped, and said so in the answer's F_NOTE: a process that exited (a ghost), a vfork
 * child that has not exec'd yet and its parent (which cannot stop until then), a process that
 * a checkpoint is suspending. A process that a checkpoint holds is unwound as it is held. A
 * thread that does not stop within the coordinator's F_TIMEOUT_MS is reported with its state,
 * and the others are let go then.
 */
#ifndef DMTCP_TRACER_WHERE_H
#define DMTCP_TRACER_WHERE_H

struct tracer;

int where_init(struct tracer *tr);
void where_fini(struct tracer *tr);

#endif
