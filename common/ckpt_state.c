/*
 * The content model's small shared pieces (common/ckpt_state.h): names of its constants for
 * logs and --show, freeing a decoded or collected process, and the cross-section validation
 * that runs once every section of an image has been decoded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/netlink.h>

#include "ckpt_state.h"

/* ---- names ---------------------------------------------------------------------------- */

static const char *const sec_names[] = {
	[CKPT_SEC_PROC - CKPT_SEC_PROC] = "PROC",
	[CKPT_SEC_THREAD - CKPT_SEC_PROC] = "THREAD",
	[CKPT_SEC_SIGNALS - CKPT_SEC_PROC] = "SIGNALS",
	[CKPT_SEC_FILES - CKPT_SEC_PROC] = "FILES",
	[CKPT_SEC_FDS - CKPT_SEC_PROC] = "FDS",
	[CKPT_SEC_VMAS - CKPT_SEC_PROC] = "VMAS",
	[CKPT_SEC_PAGEMAP - CKPT_SEC_PROC] = "PAGEMAP",
	[CKPT_SEC_PAGES - CKPT_SEC_PROC] = "PAGES",
	[CKPT_SEC_FILEDATA - CKPT_SEC_PROC] = "FILEDATA",
};

const char *ckpt_sec_name(uint32_t type)
{
	if (type < CKPT_SEC_PROC || type - CKPT_SEC_PROC >= sizeof(sec_names) / sizeof(sec_names[0]))
		return NULL;
	return sec_names[type - CKPT_SEC_PROC];
}

static const char *const file_type_names[CKPT_FILE__MAX] = {
	[CKPT_FILE_REG] = "reg",       [CKPT_FILE_DIR] = "dir",	  [CKPT_FILE_CHR] = "chr",
	[CKPT_FILE_BLK] = "blk",       [CKPT_FILE_TTY] = "tty",	  [CKPT_FILE_PIPE] = "pipe",
	[CKPT_FILE_FIFO] = "fifo",     [CKPT_FILE_SOCKET] = "socket", [CKPT_FILE_ANON] = "anon",
	[CKPT_FILE_OTHER] = "other",
};

const char *ckpt_file_type_name(uint32_t type)
{
	if (type == 0 || type >= CKPT_FILE__MAX)
		return "?";
	return file_type_names[type];
}

static const char *const vma_kind_names[CKPT_VMA__MAX] = {
	[CKPT_VMA_ANON] = "anon",
	[CKPT_VMA_FILE_PRIV] = "file-private",
	[CKPT_VMA_FILE_SHARED] = "file-shared",
	[CKPT_VMA_SHMEM] = "shmem",
	[CKPT_VMA_HEAP] = "heap",
	[CKPT_VMA_STACK] = "stack",
	[CKPT_VMA_VDSO] = "vdso",
	[CKPT_VMA_VVAR] = "vvar",
	[CKPT_VMA_VVAR_VCLOCK] = "vvar_vclock",
	[CKPT_VMA_VSYSCALL] = "vsyscall",
	[CKPT_VMA_OTHER] = "other",
};

const char *ckpt_vma_kind_name(uint32_t kind)
{
	if (kind == 0 || kind >= CKPT_VMA__MAX)
		return "?";
	return vma_kind_names[kind];
}

const char *ckpt_sysfix_name(uint32_t fix)
{
	switch (fix) {
	case CKPT_SYSFIX_NONE: return "none";
	case CKPT_SYSFIX_RESTART: return "restart";
	case CKPT_SYSFIX_EINTR: return "eintr";
	}
	return "?";
}

static const char *const sig_names[32] = {
	NULL,	   "SIGHUP",  "SIGINT",	   "SIGQUIT", "SIGILL",	   "SIGTRAP", "SIGABRT",
	"SIGBUS",  "SIGFPE",  "SIGKILL",   "SIGUSR1", "SIGSEGV",   "SIGUSR2", "SIGPIPE",
	"SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",
	"SIGTTIN", "SIGTTOU", "SIGURG",	   "SIGXCPU", "SIGXFSZ",   "SIGVTALRM", "SIGPROF",
	"SIGWINCH", "SIGIO",  "SIGPWR",	   "SIGSYS",
};

const char *ckpt_sig_name(int sig, char *buf, size_t len)
{
	if (sig > 0 && sig < 32)
		return sig_names[sig];
	if (sig >= 32 && sig <= CKPT_NSIG)
		snprintf(buf, len, "SIGRTMIN+%d", sig - 32);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

static const char *const rlimit_names[CKPT_NRLIMITS] = {
	"RLIMIT_CPU",	 "RLIMIT_FSIZE",      "RLIMIT_DATA",	 "RLIMIT_STACK",
	"RLIMIT_CORE",	 "RLIMIT_RSS",	      "RLIMIT_NPROC",	 "RLIMIT_NOFILE",
	"RLIMIT_MEMLOCK", "RLIMIT_AS",	      "RLIMIT_LOCKS",	 "RLIMIT_SIGPENDING",
	"RLIMIT_MSGQUEUE", "RLIMIT_NICE",     "RLIMIT_RTPRIO",	 "RLIMIT_RTTIME",
};

const char *ckpt_rlimit_name(unsigned i)
{
	return i < CKPT_NRLIMITS ? rlimit_names[i] : "?";
}

const char *ckpt_itimer_name(unsigned i)
{
	static const char *const names[3] = { "ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF" };

	return i < 3 ? names[i] : "?";
}

const char *ckpt_sigsrc_name(uint32_t src)
{
	switch (src) {
	case CKPT_SIGSRC_TRACEE: return "tracee";
	case CKPT_SIGSRC_PROC: return "proc-only";
	}
	return "none";
}

const char *ckpt_vma_flag_name(uint32_t bit)
{
	switch (bit) {
	case CKPT_VMA_F_SHARED: return "shared";
	case CKPT_VMA_F_GROWSDOWN: return "growsdown";
	case CKPT_VMA_F_DELETED: return "deleted";
	case CKPT_VMA_F_DATA_HERE: return "data-here";
	case CKPT_VMA_F_LOCKED: return "locked";
	case CKPT_VMA_F_DONTDUMP: return "dontdump";
	case CKPT_VMA_F_GUARD: return "guard";
	case CKPT_VMA_F_NORESERVE: return "noreserve";
	}
	return NULL;
}

const char *ckpt_pipe_end_name(int32_t end)
{
	return end == 0 ? "read" : end == 1 ? "write" : "both";
}

const char *ckpt_sock_state_name(uint32_t state)
{
	static const char *const names[CKPT_SOCK__MAX] = {
		[CKPT_SOCK_UNCONNECTED] = "unconnected", [CKPT_SOCK_LISTENING] = "listening",
		[CKPT_SOCK_CONNECTED] = "connected",	 [CKPT_SOCK_PEER_GONE] = "peer-gone",
		[CKPT_SOCK_CONNECTING] = "connecting",
	};

	return state < CKPT_SOCK__MAX && names[state] ? names[state] : "?";
}

const char *ckpt_anon_kind_name(uint32_t kind)
{
	static const char *const names[CKPT_ANON__MAX] = {
		[CKPT_ANON_EVENTFD] = "eventfd",
		[CKPT_ANON_TIMERFD] = "timerfd",
		[CKPT_ANON_SIGNALFD] = "signalfd",
		[CKPT_ANON_EPOLL] = "epoll",
		[CKPT_ANON_PIDFD] = "pidfd",
		[CKPT_ANON_INOTIFY] = "inotify",
	};

	return kind < CKPT_ANON__MAX && names[kind] ? names[kind] : "?";
}

const char *ckpt_lock_kind_name(uint32_t kind)
{
	static const char *const names[CKPT_LOCK__MAX] = {
		[CKPT_LOCK_POSIX] = "posix",
		[CKPT_LOCK_OFD] = "ofd",
		[CKPT_LOCK_FLOCK] = "flock",
	};

	return kind < CKPT_LOCK__MAX && names[kind] ? names[kind] : "?";
}

const char *ckpt_lock_type_name(uint32_t type)
{
	return type == CKPT_LOCK_READ ? "read" : type == CKPT_LOCK_WRITE ? "write" : "?";
}

void ckpt_anon_free(struct ckpt_anon *a)
{
	if (a) {
		free(a->items);
		for (uint32_t k = 0; k < a->nwatches && a->watches; k++)
			free(a->watches[k].path);
		free(a->watches);
	}
	free(a);
}

const char *ckpt_sock_type_name(uint32_t type)
{
	switch (type) {
	case 1: return "stream";
	case 2: return "dgram";
	case 3: return "raw";
	case 5: return "seqpacket";
	}
	return "?";
}

void ckpt_sock_addr_text(char *buf, size_t n, const uint8_t *addr, uint32_t len)
{
	const char *path = (const char *)addr + 2;
	size_t plen = len > 2 ? len - 2 : 0;
	sa_family_t fam = 0;

	if (len >= sizeof(fam))
		memcpy(&fam, addr, sizeof(fam));
	if (fam == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in a;
		char ip[INET_ADDRSTRLEN];

		memcpy(&a, addr, sizeof(a));
		inet_ntop(AF_INET, &a.sin_addr, ip, sizeof(ip));
		snprintf(buf, n, "%s:%u", ip, ntohs(a.sin_port));
		return;
	}
	if (fam == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 a;
		char ip[INET6_ADDRSTRLEN];

		memcpy(&a, addr, sizeof(a));
		inet_ntop(AF_INET6, &a.sin6_addr, ip, sizeof(ip));
		snprintf(buf, n, "[%s]:%u", ip, ntohs(a.sin6_port));
		return;
	}
	if (fam == AF_NETLINK && len >= sizeof(struct sockaddr_nl)) {
		struct sockaddr_nl a;

		memcpy(&a, addr, sizeof(a));
		snprintf(buf, n, "portid %u groups %#x", a.nl_pid, a.nl_groups);
		return;
	}
	if (!plen || fam != AF_UNIX) {
		snprintf(buf, n, "-");
		return;
	}
	if (path[0])
		snprintf(buf, n, "%.*s", (int)strnlen(path, plen), path);
	else
		snprintf(buf, n, "@%.*s", (int)(plen - 1), path + 1);
	/* an abstract name may hold any byte: keep the text printable */
	for (char *c = buf; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
			*c = '?';
}

const char *ckpt_sock_family_name(uint32_t family)
{
	return family == AF_UNIX ? "unix" : family == AF_INET ? "inet" :
	       family == AF_INET6 ? "inet6" : family == AF_NETLINK ? "netlink" : "?";
}

void ckpt_sock_free(struct ckpt_sock *s)
{
	if (s) {
		free(s->msg_len);
		free(s->msg_from);
		free(s->pending);
		for (uint32_t i = 0; s->scm && i < s->nscm; i++)
			free(s->scm[i].files);
		free(s->scm);
	}
	free(s);
}

/* ---- lifetime ------------------------------------------------------------------------- */

void ckpt_proc_init(struct ckpt_proc *p)
{
	memset(p, 0, sizeof(*p));
	p->version = CKPT_STATE_VERSION;
	p->umask = ~0u;
	p->personality = ~0u;
}

static void free_thread(struct ckpt_thread *t)
{
	free(t->xsave);
	free(t->pending);
	t->xsave = NULL;
	t->pending = NULL;
}

void ckpt_proc_free(struct ckpt_proc *p)
{
	uint32_t i;

	free(p->uniquepid);
	free(p->exe);
	free(p->cwd);
	free(p->root);
	free(p->cmdline);
	free(p->environ);
	free(p->creds.groups);
	free(p->zombies);
	for (i = 0; p->threads && i < p->nthreads; i++)
		free_thread(&p->threads[i]);
	free(p->threads);
	if (p->sig) {
		free(p->sig->pending);
		free(p->sig->timers);
		free(p->sig);
	}
	for (i = 0; p->files && i < p->nfiles; i++) {
		free(p->files[i].path);
		free(p->files[i].data);
		ckpt_sock_free(p->files[i].sock);
		ckpt_anon_free(p->files[i].anon);
		free(p->files[i].locks);
	}
	free(p->files);
	free(p->fds);
	for (i = 0; p->vmas && i < p->nvmas; i++)
		free(p->vmas[i].path);
	free(p->vmas);
	free(p->runs);
	ckpt_proc_init(p);
}

static __thread char vwhy[160];

/* ---- cross-section checks ----------------------------------------------------------- */

int ckpt_validate_proc(const struct ckpt_proc *p, const char **why)
{
	uint64_t total = 0;
	uint32_t i, *per_vma;

	if (p->nthreads && !p->threads) {
		*why = "THREAD sections missing";
		return -EINVAL;
	}
	for (i = 0; i < p->nthreads; i++) {
		if (p->threads[i].tid <= 0) {
			snprintf(vwhy, sizeof(vwhy), "thread record %u of %u is missing",
				 i + 1, p->nthreads);
			*why = vwhy;
			return -EINVAL;
		}
	}
	if (!p->sig) {
		*why = "SIGNALS section missing";
		return -EINVAL;
	}
	if ((p->nfiles && !p->files) || (p->nfds && !p->fds) || (p->nvmas && !p->vmas) ||
	    (p->nruns && !p->runs)) {
		*why = "FILES, FDS, VMAS or PAGEMAP section missing";
		return -EINVAL;
	}
	for (i = 0; i < p->nfds; i++) {
		if (p->fds[i].file >= p->nfiles) {
			snprintf(vwhy, sizeof(vwhy), "fd %d points at file %u of %u",
				 p->fds[i].fd, p->fds[i].file, p->nfiles);
			*why = vwhy;
			return -EINVAL;
		}
	}
	/* An epoll set watches fds of this process (fds are sorted: the decoder checks). */
	for (i = 0; i < p->nfiles; i++) {
		const struct ckpt_anon *a = p->files[i].anon;

		for (uint32_t k = 0; a && k < a->nitems; k++) {
			uint32_t lo = 0, hi = p->nfds;

			while (lo < hi) {
				uint32_t mid = lo + (hi - lo) / 2;

				if (p->fds[mid].fd < a->items[k].tfd)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo == p->nfds || p->fds[lo].fd != a->items[k].tfd) {
				snprintf(vwhy, sizeof(vwhy),
					 "file %u: epoll watches fd %d, which the process does not "
					 "have", i, a->items[k].tfd);
				*why = vwhy;
				return -EINVAL;
			}
		}
	}
	/* A file in flight on a socket is no socket with files in flight itself (the
	 * checkpoint refuses that nesting, and a restart could not order it). */
	for (i = 0; i < p->nfiles; i++) {
		const struct ckpt_sock *k = p->files[i].sock;

		for (uint32_t m = 0; k && m < k->nscm; m++) {
			for (uint32_t j = 0; j < k->scm[m].nfiles; j++) {
				const struct ckpt_sock *in = p->files[k->scm[m].files[j]].sock;
				uint32_t carried = 0;

				for (uint32_t q = 0; in && q < in->nscm; q++)
					carried += in->scm[q].nfiles;
				if (!carried)
					continue;
				snprintf(vwhy, sizeof(vwhy),
					 "file %u: socket file %u in flight has files in flight too",
					 i, k->scm[m].files[j]);
				*why = vwhy;
				return -EINVAL;
			}
		}
	}
	per_vma = calloc(p->nvmas ? p->nvmas : 1, sizeof(*per_vma));
	if (!per_vma) {
		*why = "out of memory";
		return -ENOMEM;
	}
	for (i = 0; i < p->nruns; i++) {
		const struct ckpt_pagerun *r = &p->runs[i];
		const struct ckpt_vma *v;
		const char *bad = NULL;

		if (r->vma >= p->nvmas)
			bad = "names a vma that does not exist";
		else if (r->npages == 0 || r->vaddr % CKPT_PAGE_SIZE)
			bad = "is empty or not page aligned";
		else if ((v = &p->vmas[r->vma]), r->vaddr < v->start ||
			 r->vaddr + (uint64_t)r->npages * CKPT_PAGE_SIZE > v->end)
			bad = "lies outside its vma";
		else if (i && r->vaddr < p->runs[i - 1].vaddr +
						(uint64_t)p->runs[i - 1].npages * CKPT_PAGE_SIZE)
			bad = "overlaps the previous one or is out of order";
		if (bad) {
			snprintf(vwhy, sizeof(vwhy), "page run %u at %#llx %s", i,
				 (unsigned long long)r->vaddr, bad);
			*why = vwhy;
			free(per_vma);
			return -EINVAL;
		}
		per_vma[r->vma] += r->npages;
		total += r->npages;
	}
	for (i = 0; i < p->nvmas; i++) {
		if (per_vma[i] != p->vmas[i].npages_stored) {
			snprintf(vwhy, sizeof(vwhy),
				 "vma %u says %u pages stored, its runs hold %u", i,
				 p->vmas[i].npages_stored, per_vma[i]);
			*why = vwhy;
			free(per_vma);
			return -EINVAL;
		}
	}
	free(per_vma);
	if (total != p->pages_stored) {
		snprintf(vwhy, sizeof(vwhy), "%llu pages in runs, process record says %llu",
			 (unsigned long long)total, (unsigned long long)p->pages_stored);
		*why = vwhy;
		return -EINVAL;
	}
	return 0;
}
