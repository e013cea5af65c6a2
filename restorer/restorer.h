/*
 * Private to the restorer blob (restorer/restorer*.c): helpers shared by its files.
 * Freestanding: nolibc/sys.h and the plan only.
 */
#ifndef DMTCP_RESTORER_H
#define DMTCP_RESTORER_H

#include "sys.h"
#include "restore_plan.h"

#define RST_HIDDEN __attribute__((visibility("hidden")))

/* Report a failed step on plan->log_fd and end the process with plan->fail_rc. */
RST_HIDDEN void __attribute__((noreturn)) restore_fail(struct restore_plan *p, const char *what,
						       uint64_t addr, long err);
/* One debug line (RP_F_DEBUG only). */
RST_HIDDEN void restore_log(struct restore_plan *p, const char *what, uint64_t val);

/* Entry point at offset 0: %rdi = plan, %rsp = plan->main_stack_top - 8. */
void __attribute__((noreturn)) restorer_entry(struct restore_plan *p);

RST_HIDDEN void restore_vdso_move(struct restore_plan *p);
RST_HIDDEN void restore_vdso_patch(struct restore_plan *p);

/* The compiler may emit calls to these for struct copies even when freestanding. */
RST_HIDDEN void *memcpy(void *d, const void *s, size_t n);
RST_HIDDEN void *memset(void *d, int c, size_t n);

#endif
