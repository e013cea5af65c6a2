/*
 * The seccomp filter generator (see filter.h).
 *
 * The trapped numbers become ranges of consecutive numbers; the number line falls into
 * intervals, alternately allowed (the gaps) and trapped (the ranges), the last gap, up to the
 * top of the 32-bit number, being where x32 calls (numbers with bit 30 set) also land. A
 * decision tree finds the interval of a number with "nr >= start" tests (split_of() says how
 * it is shaped). The program:
 *
 *   0: A = arch
 *   1: if (A != AUDIT_ARCH_X86_64) goto foreign
 *   2: A = nr
 *   3..: the tree; its leaves jump to the terminals
 *   x32: if (A & X32_SYSCALL_BIT) goto foreign else goto allow
 *   allow: return ALLOW;  trace: return TRACE | native;  foreign: return TRACE | foreign
 *
 * Every instruction's pseudo-C meaning is kept beside it for filter_print().
 */
#include "filter.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe.h"

#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif
#define X32_SYSCALL_BIT 0x40000000u

#define FILTER_MAX 256 /* instructions; jumps are 8-bit, so a longer tree would not fit */

enum leaf { LEAF_ALLOW, LEAF_TRACE, LEAF_X32 };

struct interval {
	uint32_t start; /* first number; the interval ends where the next starts */
	enum leaf kind;
};

struct filter {
	struct sock_filter insn[FILTER_MAX];
	char what[FILTER_MAX][96];
	unsigned len;
};

struct gen {
	struct filter *f;
	const struct interval *iv;
	int niv;
	/* where the terminals are, known before the tree is emitted (its size is) */
	unsigned at_x32, at_allow, at_trace, at_foreign;
	int err;
};

static const char *leaf_name(enum leaf k)
{
	return k == LEAF_ALLOW ? "allow" : k == LEAF_TRACE ? "trace" : "x32 check";
}

static unsigned leaf_at(const struct gen *g, enum leaf k)
{
	return k == LEAF_ALLOW ? g->at_allow : k == LEAF_TRACE ? g->at_trace : g->at_x32;
}

/* Instructions of the subtree over intervals [lo, hi]: one per inner node. */
static unsigned tree_size(int lo, int hi)
{
	return (unsigned)(hi - lo);
}

/* How many numbers that real syscalls use (below 512) an interval covers, plus one. */
static uint64_t weight(const struct gen *g, int i)
{
	uint64_t start = g->iv[i].start, end = i + 1 < g->niv ? g->iv[i + 1].start : 512;

	start = start < 512 ? start : 512;
	end = end < 512 ? end : 512;
	return end - start + 1;
}

/*
 * The split of [lo, hi] (the first interval of its right side). The root peels the lowest gap
 * off (read, write, open, poll, mmap... leave after five instructions); below, each node
 * halves the numbers it covers, so that the wide gaps where the other hot calls live (futex,
 * clock_gettime, epoll_wait between clone and accept4) are decided near the top.
 */
static int split_of(const struct gen *g, int lo, int hi, int root)
{
	uint64_t total = 0, left = 0, best_diff = UINT64_MAX;
	int i, best = lo + 1;

	if (root && lo == 0 && g->iv[0].kind == LEAF_ALLOW)
		return 1;
	for (i = lo; i <= hi; i++)
		total += weight(g, i);
	for (i = lo + 1; i <= hi; i++) {
		uint64_t diff;

		left += weight(g, i - 1);
		diff = left > total - left ? left - (total - left) : (total - left) - left;
		if (diff < best_diff) {
			best_diff = diff;
			best = i;
		}
	}
	return best;
}

static unsigned emit(struct gen *g, unsigned at, const struct sock_filter ins, const char *what)
{
	if (at >= FILTER_MAX) {
		g->err = -E2BIG;
		return at;
	}
	g->f->insn[at] = ins;
	snprintf(g->f->what[at], sizeof(g->f->what[at]), "%s", what);
	return at + 1;
}

/* A jump from instruction 'from' to instruction 'to' (BPF counts from the next one). */
static uint8_t jump(struct gen *g, unsigned from, unsigned to)
{
	if (to <= from || to - from - 1 > 255) {
		g->err = -E2BIG;
		return 0;
	}
	return (uint8_t)(to - from - 1);
}

/* Emit the subtree over [lo, hi] (hi > lo) at 'at'; returns the next free index. */
static unsigned emit_tree(struct gen *g, unsigned at, int lo, int hi, int root)
{
	int k = split_of(g, lo, hi, root);
	unsigned self = at, left_at = at + 1, right_at = left_at + tree_size(lo, k - 1);
	unsigned t_true = k == hi ? leaf_at(g, g->iv[k].kind) : right_at;
	unsigned t_false = k - 1 == lo ? leaf_at(g, g->iv[lo].kind) : left_at;
	char what[96], tname[24], fname[24];

	snprintf(tname, sizeof(tname), k == hi ? "%u (%s)" : "%u", t_true,
		 leaf_name(g->iv[k].kind));
	snprintf(fname, sizeof(fname), k - 1 == lo ? "%u (%s)" : "%u", t_false,
		 leaf_name(g->iv[lo].kind));
	snprintf(what, sizeof(what), "if (nr >= %u) goto %s else goto %s", g->iv[k].start, tname,
		 fname);
	at = emit(g, at,
		  (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, g->iv[k].start,
					       jump(g, self, t_true), jump(g, self, t_false)),
		  what);
	if (k - 1 > lo)
		at = emit_tree(g, at, lo, k - 1, 0);
	if (hi > k)
		at = emit_tree(g, at, k, hi, 0);
	return at;
}

int filter_build(const long *nrs, int n, struct filter **out)
{
	struct interval iv[2 * FILTER_MAX + 2];
	struct gen g = { 0 };
	struct filter *f;
	unsigned at;
	uint32_t next = 0; /* the first number no interval covers yet */
	char what[96];
	int i, niv = 0;

	*out = NULL;
	for (i = 0; i < n; i++)
		if (nrs[i] < 0 || nrs[i] >= X32_SYSCALL_BIT || (i && nrs[i] <= nrs[i - 1]))
			return -EINVAL;
	if (n > FILTER_MAX)
		return -E2BIG;
	/* The number line as intervals: gap, range, gap, range, ..., the top gap. */
	for (i = 0; i < n;) {
		int j = i;

		while (j + 1 < n && nrs[j + 1] == nrs[j] + 1)
			j++;
		if ((uint32_t)nrs[i] > next)
			iv[niv++] = (struct interval){ next, LEAF_ALLOW };
		iv[niv++] = (struct interval){ (uint32_t)nrs[i], LEAF_TRACE };
		next = (uint32_t)nrs[j] + 1;
		i = j + 1;
	}
	iv[niv++] = (struct interval){ next, LEAF_ALLOW };
	iv[niv - 1].kind = LEAF_X32;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	g.f = f;
	g.iv = iv;
	g.niv = niv;
	/* 3 header instructions, the tree (a lone leaf needs a jump), then the terminals */
	at = 3 + (niv > 1 ? tree_size(0, niv - 1) : 1);
	g.at_x32 = at;
	g.at_allow = at + 1;
	g.at_trace = at + 2;
	g.at_foreign = at + 3;

	at = emit(&g, 0, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						      offsetof(struct seccomp_data, arch)),
		  "A = arch");
	snprintf(what, sizeof(what), "if (A != AUDIT_ARCH_X86_64) goto %u (foreign)", g.at_foreign);
	at = emit(&g, at, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64,
						       0, jump(&g, 1, g.at_foreign)),
		  what);
	at = emit(&g, at, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						       offsetof(struct seccomp_data, nr)),
		  "A = nr");
	if (niv > 1) {
		at = emit_tree(&g, at, 0, niv - 1, 1);
	} else {
		snprintf(what, sizeof(what), "goto %u (%s)", leaf_at(&g, iv[0].kind),
			 leaf_name(iv[0].kind));
		at = emit(&g, at, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA,
							       jump(&g, at, leaf_at(&g, iv[0].kind)),
							       0, 0),
			  what);
	}
	if (!g.err && at != g.at_x32)
		g.err = -EPROTO; /* the tree's size was miscounted: a bug, never install it */
	snprintf(what, sizeof(what), "if (nr & 0x%x) goto %u (foreign) else goto %u (allow)",
		 X32_SYSCALL_BIT, g.at_foreign, g.at_allow);
	at = emit(&g, at, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT,
						       jump(&g, g.at_x32, g.at_foreign),
						       jump(&g, g.at_x32, g.at_allow)),
		  what);
	at = emit(&g, at, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		  "return ALLOW");
	at = emit(&g, at, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						       SECCOMP_RET_TRACE | FILTER_DATA_NATIVE),
		  "return TRACE | native");
	at = emit(&g, at, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						       SECCOMP_RET_TRACE | FILTER_DATA_FOREIGN),
		  "return TRACE | foreign (let run: not recorded)");
	if (g.err) {
		free(f);
		return g.err;
	}
	f->len = at;
	*out = f;
	return 0;
}

void filter_free(struct filter *f)
{
	free(f);
}

const struct sock_filter *filter_insns(const struct filter *f, unsigned *len)
{
	*len = f->len;
	return f->insn;
}

void filter_print(const struct filter *f, FILE *out)
{
	unsigned i;

	for (i = 0; i < f->len; i++)
		fprintf(out, "%3u: %s\n", i, f->what[i]);
}

int filter_install(const struct filter *f)
{
	struct sock_fprog prog = {
		.len = (unsigned short)f->len,
		.filter = (struct sock_filter *)f->insn,
	};
	unsigned long flags = 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	/* Without SPEC_ALLOW the kernel turns the speculative-store-bypass mitigation on for the
	 * whole program on CPUs where it exists, which costs far more than the filter. */
	if (kfeat()->seccomp_spec_allow)
		flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0)
		return -errno;
	return 0;
}
