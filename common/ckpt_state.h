/*
 * The content model of a checkpoint image: what is saved about one process, shared by the
 * dumper (tracer/collect_*.c, tracer/dump_*.c) and the restarter (restart/).
 *
 * One image holds one process (struct ckpt_proc): its ids and credentials, its threads, its
 * signal dispositions and timers, its rlimits, its open files and fds, its memory map, and the
 * page runs whose data follows in page sections. Everything here is plain data: tracee
 * addresses are kept as uint64_t because they are never dereferenced on this side; code that
 * does talk to a live tracee uses its own address type.
 *
 * In the image container each part is one section of the type number given in enum
 * ckpt_sec (encoded by common/ckpt_state_enc.c, validated by common/ckpt_state_dec.c; the
 * encodings and their meaning are described in docs/ckpt-content.md). Counts and sizes are
 * bounded by the CKPT_MAX_* limits below, which the loader enforces so that a corrupt image
 * that still passes its checksums is rejected by name.
 */
#ifndef DMTCP_CKPT_STATE_H
#define DMTCP_CKPT_STATE_H

#include <stddef.h>
#include <stdint.h>

/* Version of the section encodings below; bumped on any incompatible change. */
/* 2: sockets have a record (struct ckpt_sock); 3: eventfd, timerfd, signalfd and epoll have a
 * record (struct ckpt_anon); 4: files carry their locks (struct ckpt_lock); 5: pidfd and
 * inotify records (ckpt_anon.pid, ckpt_anon.watches) */
#define CKPT_STATE_VERSION 5

/*
 * Section type numbers in the image container. The container's own types stay below 0x100;
 * ours start there. Order in an image: PROC first, then the rest in this order, then page data.
 */
enum ckpt_sec {
	CKPT_SEC_PROC = 0x100,	   /* struct ckpt_proc scalars, strings, rlimits, zombies */
	CKPT_SEC_THREAD = 0x101,   /* one per thread: struct ckpt_thread (+ xsave, siginfos) */
	CKPT_SEC_SIGNALS = 0x102,  /* dispositions, shared pending queue, itimers, POSIX timers */
	CKPT_SEC_FILES = 0x103,	   /* the open file descriptions (struct ckpt_file) */
	CKPT_SEC_FDS = 0x104,	   /* fd number -> file id (struct ckpt_fd) */
	CKPT_SEC_VMAS = 0x105,	   /* memory map (struct ckpt_vma) */
	CKPT_SEC_PAGEMAP = 0x106,  /* page runs stored (struct ckpt_pagerun), in data order */
	CKPT_SEC_PAGES = 0x107,	   /* page data: the runs' bytes, concatenated, in PAGEMAP order */
	CKPT_SEC_FILEDATA = 0x108, /* bytes of a file: deleted file contents, pipe buffers */
};

/* Limits the loader enforces (and the collector respects). */
#define CKPT_MAX_THREADS   65536
#define CKPT_MAX_VMAS	   262144
#define CKPT_MAX_FDS	   1048576
#define CKPT_MAX_FILES	   1048576
#define CKPT_MAX_RUNS	   (1u << 24)
#define CKPT_MAX_PATH	   4096
#define CKPT_MAX_ARGS	   (2u << 20) /* cmdline / environ bytes kept */
#define CKPT_MAX_GROUPS	   65536
#define CKPT_MAX_NS_LEVELS 32
#define CKPT_MAX_ZOMBIES   65536
#define CKPT_MAX_SIGINFO   65536      /* queued signals per queue */
#define CKPT_MAX_XSAVE	   (64u << 10)
#define CKPT_MAX_TIMERS	   65536
#define CKPT_MAX_FILEDATA  (1ull << 40)
#define CKPT_MAX_SOCK_MSGS (1u << 20) /* datagrams queued on one socket */
#define CKPT_MAX_SOCK_PENDING 65536  /* connections waiting on one listener */
#define CKPT_MAX_SOCK_OPTS 64	     /* integer options saved per socket */
#define CKPT_MAX_EPOLL_ITEMS (1u << 20) /* files watched by one epoll set */
#define CKPT_MAX_INOTIFY_WATCHES (1u << 20) /* watches of one inotify instance */
#define CKPT_MAX_FILE_LOCKS 4096	     /* locks recorded on one file */
#define CKPT_MAX_SCM_FILES 253	     /* fds one message carries (the kernel's SCM_MAX_FD) */
#define CKPT_SOCK_ADDR_MAX 128	      /* sizeof(struct sockaddr_storage) */
#define CKPT_NSIG	   64	      /* signals 1..64 */
#define CKPT_NRLIMITS	   16	      /* RLIMIT_CPU .. RLIMIT_RTTIME */
#define CKPT_SIGINFO_SIZE  128
#define CKPT_PAGE_SIZE	   4096ull

/* ---- process ---------------------------------------------------------------------------- */

struct ckpt_rlimit {
	uint64_t cur, max; /* RLIM_INFINITY as ~0 */
};

struct ckpt_zombie {
	int32_t pid;	     /* a child in state Z when the checkpoint was taken */
	int32_t exit_code;   /* its wait status (/proc/PID/stat exit_code) */
};

struct ckpt_mm {
	/* /proc/PID/stat fields start_code..env_end, and the brk area */
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
};

struct ckpt_creds {
	uint32_t uid[4]; /* real, effective, saved, filesystem */
	uint32_t gid[4];
	uint32_t ngroups;
	uint32_t *groups;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	uint32_t no_new_privs;
	uint32_t seccomp_mode;
};

struct ckpt_proc {
	uint32_t version; /* CKPT_STATE_VERSION */
	int32_t pid, ppid, pgid, sid;
	/* As seen in each PID namespace, outermost first: NSpid, NSpgid, NSsid. */
	uint32_t ns_levels;
	int32_t ns_pid[CKPT_MAX_NS_LEVELS], ns_pgid[CKPT_MAX_NS_LEVELS],
		ns_sid[CKPT_MAX_NS_LEVELS];
	char comm[16];
	char *uniquepid; /* the coordinator's "<host>-<pid>-<time>" id; may be "" */
	char *exe;	 /* readlink /proc/PID/exe */
	char *cwd, *root;
	uint8_t *cmdline; /* raw NUL-separated argv bytes */
	uint32_t cmdline_len;
	uint8_t *environ; /* for information only */
	uint32_t environ_len;
	uint32_t umask;	      /* ~0u when unknown */
	uint32_t personality; /* ~0u when unknown */
	uint64_t start_time;  /* /proc/PID/stat starttime, clock ticks */
	struct ckpt_mm mm;
	struct ckpt_creds creds;
	struct ckpt_rlimit rlim[CKPT_NRLIMITS];
	uint32_t nzombies;
	struct ckpt_zombie *zombies;

	uint32_t nthreads;
	struct ckpt_thread *threads;
	struct ckpt_signals *sig;

	uint32_t nfiles;
	struct ckpt_file *files;
	uint32_t nfds;
	struct ckpt_fd *fds;

	uint32_t nvmas;
	struct ckpt_vma *vmas;
	uint32_t nruns;
	struct ckpt_pagerun *runs;
	uint64_t pages_stored; /* sum of runs' npages */
};

/* ---- threads ---------------------------------------------------------------------------- */

/* x86_64 struct user_regs_struct, field for field (27 x u64). */
struct ckpt_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi;
	uint64_t orig_rax, rip, cs, eflags, rsp, ss, fs_base, gs_base, ds, es, fs, gs;
};

/* What was done to the saved registers of a thread stopped inside a syscall. */
enum ckpt_sysfix {
	CKPT_SYSFIX_NONE = 0,	 /* not in a syscall, or its result is final */
	CKPT_SYSFIX_RESTART = 1, /* rip -= 2, rax = the call's number (restart codes, an epoll
				    wait without timeout, a restart-block call issued again, its
				    request maybe its own remainder): tracer/sysrestart.c */
	CKPT_SYSFIX_EINTR = 2,	 /* in restart_syscall for a call the tracer does not know: the
				    syscall returns -EINTR */
};

struct ckpt_siginfo {
	uint8_t raw[CKPT_SIGINFO_SIZE]; /* siginfo_t as PTRACE_PEEKSIGINFO returns it */
};

struct ckpt_thread {
	int32_t tid;
	int32_t ns_tid[CKPT_MAX_NS_LEVELS]; /* NStgid of the task, outermost first */
	uint32_t ns_levels;
	char comm[16];
	struct ckpt_regs regs;	  /* after the syscall fix-up */
	uint64_t stopped_ret;	  /* the syscall result (rax) as the thread was stopped, before
				     the fix-up */
	uint32_t sysfix;	  /* enum ckpt_sysfix */
	uint32_t xsave_size;	  /* NT_X86_XSTATE size from the kernel; 0 if unavailable */
	uint8_t *xsave;
	uint64_t sigmask; /* blocked signals, bit n-1 = signal n */
	/* sigaltstack (parasite); ss_flags SS_DISABLE when none */
	uint64_t ss_sp, ss_size;
	uint32_t ss_flags;
	uint32_t have_altstack; /* 0 when the stack could not be read */
	/* rseq registration (PTRACE_GET_RSEQ_CONFIGURATION); rseq_len 0 when none */
	uint64_t rseq_addr;
	uint32_t rseq_len, rseq_sig, rseq_flags;
	/* robust futex list (get_robust_list) */
	uint64_t robust_head, robust_len;
	/* set_tid_address (parasite PR_GET_TID_ADDRESS); have_clear_tid 0 when unknown */
	uint64_t clear_tid;
	uint32_t have_clear_tid;
	uint32_t npending;
	struct ckpt_siginfo *pending; /* thread-directed queue */
};

/* ---- signals and timers ----------------------------------------------------------------- */

struct ckpt_sigaction {
	uint64_t handler; /* SIG_DFL 0, SIG_IGN 1, else an address */
	uint64_t flags;	  /* SA_* */
	uint64_t restorer;
	uint64_t mask;
};

struct ckpt_itimer {
	uint64_t interval_ns, value_ns;
};

struct ckpt_posix_timer {
	int32_t id;
	int32_t clock;	    /* CLOCK_* */
	int32_t signo;	    /* sigev_signo */
	int32_t notify;	    /* SIGEV_* (with SIGEV_THREAD_ID as 4) */
	int32_t notify_tid; /* for SIGEV_THREAD_ID */
	int32_t overrun;
	uint64_t sigval;
	uint64_t interval_ns, value_ns;
};

enum ckpt_sigsrc {
	CKPT_SIGSRC_NONE = 0,	/* not collected */
	CKPT_SIGSRC_PROC = 1,	/* only ignored/caught masks from /proc/PID/status */
	CKPT_SIGSRC_TRACEE = 2, /* read in the process (parasite / remote syscall): exact */
};

struct ckpt_signals {
	uint32_t act_source; /* enum ckpt_sigsrc for act[] */
	struct ckpt_sigaction act[CKPT_NSIG]; /* act[n-1] for signal n */
	uint64_t sig_ignored, sig_caught;     /* /proc masks, always present */
	uint32_t npending;
	struct ckpt_siginfo *pending; /* shared (process) queue */
	uint32_t timer_source;	      /* enum ckpt_sigsrc for itimers and POSIX timers */
	struct ckpt_itimer itimer[3]; /* ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF */
	uint32_t ntimers;
	struct ckpt_posix_timer *timers;
};

/* ---- files ------------------------------------------------------------------------------ */

enum ckpt_file_type {
	CKPT_FILE_REG = 1,
	CKPT_FILE_DIR,
	CKPT_FILE_CHR,	  /* character device other than a terminal */
	CKPT_FILE_BLK,
	CKPT_FILE_TTY,	  /* a terminal: termios and window size saved */
	CKPT_FILE_PIPE,	  /* anonymous pipe: pipe:[ino] */
	CKPT_FILE_FIFO,	  /* named pipe */
	CKPT_FILE_SOCKET, /* socket:[ino]: its record is ckpt_file.sock */
	CKPT_FILE_ANON,	  /* anon_inode:[eventfd] and the like: its record is ckpt_file.anon */
	CKPT_FILE_OTHER,
	CKPT_FILE__MAX
};

/* ckpt_file.flags bits (ours, not O_*) */
#define CKPT_FF_DELETED	   0x1 /* path ended in " (deleted)"; data stored */
#define CKPT_FF_HAS_DATA   0x2 /* data_len bytes in a FILEDATA section (data_id) */
#define CKPT_FF_TERMIOS	   0x4 /* termios/winsize valid */
#define CKPT_FF_DATA_TRUNC 0x8 /* pipe bytes could not all be read (see docs) */
#define CKPT_FF_MEMFD	   0x10 /* a memfd (also DELETED, path "/memfd:NAME"): mfd_flags and
				   seals follow the path in the record */

/* ckpt_file.mfd_flags: the memfd_create() flags a restart passes (MFD_CLOEXEC is the fd's) */
#define CKPT_MFD_KNOWN (0x0002U /* MFD_ALLOW_SEALING */ | 0x0004U /* MFD_HUGETLB */)
/* ckpt_file.seals: F_SEAL_SEAL, SHRINK, GROW, WRITE, FUTURE_WRITE, EXEC */
#define CKPT_SEALS_KNOWN 0x3fU

/* struct termios as the kernel's TCGETS returns it (struct termios of asm-generic) */
struct ckpt_termios {
	uint32_t iflag, oflag, cflag, lflag;
	uint8_t line;
	uint8_t cc[19];
	uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel;
};

/* What a socket was doing (ckpt_sock.state). */
enum ckpt_sock_state {
	CKPT_SOCK_UNCONNECTED = 1, /* no peer: new, or bound (a datagram socket may receive) */
	CKPT_SOCK_LISTENING,	   /* listen() was called: backlog, name */
	CKPT_SOCK_CONNECTED,	   /* has a peer (peer_ino; peer_addr when it has a name) */
	CKPT_SOCK_PEER_GONE,	   /* was connected; the peer closed (unread data may remain) */
	CKPT_SOCK_CONNECTING,	   /* TCP: a non-blocking connect() in progress to peer_addr */
	CKPT_SOCK__MAX
};

/* ckpt_sock.flags */
#define CKPT_SF_PASSCRED 0x1 /* SO_PASSCRED set */
#define CKPT_SF_PEEK_OFF 0x2 /* SO_PEEK_OFF enabled: peek_off is its value */

/*
 * A socket, with what the kernel tells of it (NETLINK_SOCK_DIAG, getsockname/getpeername,
 * getsockopt) as the whole computation was suspended. Its queued bytes (what its own reads
 * would return next) are the file's data (CKPT_FF_HAS_DATA); for datagram and seqpacket
 * sockets msg_len[] gives the boundaries (the lengths sum to the data's length).
 */
struct ckpt_sock {
	uint32_t family;   /* AF_UNIX; AF_INET, AF_INET6 (TCP, UDP) */
	uint32_t type;	   /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	uint32_t protocol;
	uint32_t state;	   /* enum ckpt_sock_state */
	uint32_t shutdown; /* its own: 1 receive side shut, 2 send side shut */
	uint32_t flags;	   /* CKPT_SF_* */
	uint64_t ino;	   /* its inode when saved: connected ends find each other by it */
	uint64_t peer_ino; /* CONNECTED: the peer's inode; 0 while it waits to be accepted */
	uint32_t backlog;  /* LISTENING */
	uint32_t addr_len; /* bound address as getsockname gives it; 0 when unbound */
	uint8_t addr[CKPT_SOCK_ADDR_MAX];
	uint32_t peer_addr_len; /* CONNECTED: the peer's address (getpeername); 0 when unnamed */
	uint8_t peer_addr[CKPT_SOCK_ADDR_MAX];
	uint32_t addr_mode;	/* a path-bound unix socket: its file's mode (0 when none) */
	int32_t sndbuf, rcvbuf; /* SO_SNDBUF, SO_RCVBUF as getsockopt gives them */
	int64_t rcvtimeo_us, sndtimeo_us;
	int32_t peek_off;
	uint32_t nmsgs;	   /* datagram/seqpacket: queued messages */
	uint32_t *msg_len; /* their lengths, oldest first */
	/* UDP: each message's sender (NULL for other sockets: a unix datagram's sender is its
	 * peer or unnamed) */
	struct ckpt_sock_addr {
		uint32_t len;
		uint8_t addr[CKPT_SOCK_ADDR_MAX];
	} *msg_from;
	/* LISTENING: the connections waiting to be accepted, oldest first, as the inodes of
	 * their connecting sockets (ino of a CONNECTED socket whose peer_ino is 0) */
	uint32_t npending;
	uint64_t *pending;
	/* Integer options as getsockopt gave them (TCP_NODELAY, SO_KEEPALIVE, IP_TTL, ...),
	 * set again in this order; SO_LINGER as its seconds, or -1 when off. */
	uint32_t nopts;
	struct ckpt_sockopt {
		int32_t level, name, value;
	} opts[CKPT_MAX_SOCK_OPTS];
	/*
	 * Unix: the queued runs that came with ancillary data, oldest first, not overlapping.
	 * A datagram or seqpacket run is exactly one message; a stream run is what one read
	 * returns up to and including the bytes the fds came with (the kernel hands the fds
	 * out with the read that reaches them, and ends that read there).
	 */
	uint32_t nscm;
	struct ckpt_sock_scm {
		uint64_t off;	 /* where in the socket's data its bytes begin */
		uint64_t len;	 /* its bytes */
		uint32_t msg;	 /* datagram, seqpacket: the message's index (0 on a stream) */
		uint32_t flags;	 /* CKPT_SCM_* */
		int32_t pid;	 /* CKPT_SCM_CREDS: SCM_CREDENTIALS as the receiver saw them */
		uint32_t uid, gid;
		uint32_t nfiles; /* SCM_RIGHTS: the files carried, in order, */
		uint32_t *files; /* as ids of files of this image (ckpt_file.id) */
	} *scm;
};

/* The kinds of anonymous-inode files that are saved (ckpt_anon.kind); any other kind fails the
 * checkpoint. */
enum ckpt_anon_kind {
	CKPT_ANON_EVENTFD = 1, /* anon_inode:[eventfd] */
	CKPT_ANON_TIMERFD,     /* anon_inode:[timerfd] */
	CKPT_ANON_SIGNALFD,    /* anon_inode:[signalfd] */
	CKPT_ANON_EPOLL,       /* anon_inode:[eventpoll]: its interest list */
	CKPT_ANON_PIDFD,       /* anon_inode:[pidfd]: the process it names */
	CKPT_ANON_INOTIFY,     /* anon_inode:inotify: its watches */
	CKPT_ANON__MAX
};

/* ckpt_anon.flags */
#define CKPT_AF_SEMAPHORE 0x1 /* eventfd: EFD_SEMAPHORE */
#define CKPT_AF_ABSTIME	  0x2 /* timerfd: TFD_TIMER_ABSTIME (value_ns is a time on clock) */
#define CKPT_AF_CANCEL	  0x4 /* timerfd: TFD_TIMER_CANCEL_ON_SET */

/* One file an epoll set watches, as fdinfo's "tfd: events: data:" line gives it. */
struct ckpt_epoll_item {
	int32_t tfd;	 /* the fd it was added by, in this process (checked at checkpoint) */
	uint32_t events; /* EPOLLIN..., with EPOLLET/ONESHOT/EXCLUSIVE/WAKEUP */
	uint64_t data;
};

/* One watch of an inotify instance, as fdinfo's "inotify wd:" line gives it, with a path
 * found for its inode at checkpoint. */
struct ckpt_inotify_watch {
	int32_t wd;	/* the watch descriptor the program holds (> 0; increasing in the list) */
	uint32_t mask;	/* IN_* events with IN_ONESHOT, IN_EXCL_UNLINK as the kernel keeps them */
	uint64_t dev, ino; /* the watched inode at checkpoint (st_dev encoding) */
	char *path;	/* an absolute path that named that inode at checkpoint */
};

/*
 * What /proc/PID/fdinfo tells of an eventfd, timerfd, signalfd, epoll set, pidfd or inotify
 * instance. Its O_NONBLOCK is the file's oflags, its close-on-exec the fd's.
 */
struct ckpt_anon {
	uint32_t kind;	     /* enum ckpt_anon_kind */
	uint32_t flags;	     /* CKPT_AF_* */
	int32_t clock;	     /* timerfd: CLOCK_* */
	uint64_t count;	     /* eventfd: the counter; timerfd: expirations not yet read */
	uint64_t sigmask;    /* signalfd: bit n-1 for signal n */
	/* timerfd: the next expiry (an absolute time on clock when CKPT_AF_ABSTIME, else the
	 * time left; 0: disarmed) and the period (0: one-shot) */
	uint64_t value_ns, interval_ns;
	uint32_t nitems;		/* epoll: the interest list */
	struct ckpt_epoll_item *items;
	int32_t pid;			/* pidfd: the process, as the program sees its pid */
	uint32_t nwatches;		/* inotify: the watches, by increasing wd; */
	struct ckpt_inotify_watch *watches; /* count: bytes of events unread at checkpoint */
};
void ckpt_anon_free(struct ckpt_anon *a); /* and its items; NULL is fine */

/* The kinds of file lock (ckpt_lock.kind), as /proc/PID/fdinfo's "lock:" lines name them. */
enum ckpt_lock_kind {
	CKPT_LOCK_POSIX = 1, /* fcntl F_SETLK: the process's; taken again by the process */
	CKPT_LOCK_OFD,	     /* fcntl F_OFD_SETLK: the open file description's */
	CKPT_LOCK_FLOCK,     /* flock(2): the open file description's, whole file */
	CKPT_LOCK__MAX
};

/* ckpt_lock.type */
enum ckpt_lock_type {
	CKPT_LOCK_READ = 1, /* F_RDLCK, LOCK_SH */
	CKPT_LOCK_WRITE,    /* F_WRLCK, LOCK_EX */
	CKPT_LOCK_TYPE__MAX
};

/* ckpt_lock.flags */
#define CKPT_LKF_TO_EOF 0x1 /* the range runs to the end of the file, whatever its size (end 0) */

/*
 * One advisory lock held through a file: a POSIX lock is recorded on the file of the process
 * that holds it through which it was taken (fdinfo shows it there), an OFD or flock lock on
 * the description that holds it (in every image that shares it). Bytes start..end, both
 * included; a flock lock covers the whole file (start 0, to EOF).
 */
struct ckpt_lock {
	uint32_t kind;	/* enum ckpt_lock_kind */
	uint32_t type;	/* enum ckpt_lock_type */
	uint32_t flags; /* CKPT_LKF_* */
	int32_t pid;	/* POSIX: the holder as the checkpoint saw it (this process); else 0 */
	uint64_t start, end;
};

/* ckpt_sock_scm.flags */
#define CKPT_SCM_CREDS 0x1 /* credentials came with it (the receiver had SO_PASSCRED) */

struct ckpt_file {
	uint32_t id;	     /* index in proc->files, also the FILEDATA key */
	uint32_t type;	     /* enum ckpt_file_type */
	uint32_t oflags;     /* file status flags (fdinfo "flags", O_*), octal in /proc */
	uint32_t flags;	     /* CKPT_FF_* */
	uint64_t pos;	     /* fdinfo "pos" */
	uint32_t mnt_id;
	uint32_t mode;	     /* st_mode */
	uint64_t dev, ino, rdev;
	uint64_t size;	     /* st_size when regular */
	/* The same open description, process-wide and tree-wide: the tracer's key, e.g. the
	 * pid:fd that first showed it. Equal keys in two images = one shared description. */
	uint64_t share_key;
	int32_t pipe_end;    /* pipes: 0 read end, 1 write end, -1 both/unknown */
	uint32_t sock_type;  /* SOCK_* for sockets */
	uint64_t data_len;   /* CKPT_FF_HAS_DATA: bytes in the FILEDATA section */
	struct ckpt_termios tio;
	uint32_t mfd_flags;  /* CKPT_FF_MEMFD: CKPT_MFD_KNOWN bits it was made with */
	uint32_t seals;	     /* CKPT_FF_MEMFD: F_GET_SEALS */
	char *path;	     /* /proc/PID/fd/N link text, " (deleted)" stripped */
	uint8_t *data;	     /* in memory only after load when wanted; NULL otherwise */
	struct ckpt_sock *sock; /* CKPT_FILE_SOCKET: always (the loader checks) */
	struct ckpt_anon *anon; /* CKPT_FILE_ANON: always (the loader checks) */
	uint32_t nlocks;	/* the locks held through it (regular files, directories) */
	struct ckpt_lock *locks;
};

/* ckpt_fd.fd_flags */
#define CKPT_FDF_CLOEXEC 0x1 /* FD_CLOEXEC */
#define CKPT_FDF_STDIO	 0x2 /* fd 0-2 holding the file the computation's starting command
				(dmtcp_launch, dmtcp_restart) had at that fd: a restart puts its
				own fd of that number there instead */

struct ckpt_fd {
	int32_t fd;
	uint32_t fd_flags; /* CKPT_FDF_* */
	uint32_t file;	   /* index into proc->files */
};

/* ---- memory ----------------------------------------------------------------------------- */

/*
 * The restore area (the restorer blob, its plan, the threads' first frames) stays mapped in a
 * restored process, which runs on it until its last rt_sigreturn. It is a private mapping of
 * a memfd of this name ("/memfd:dmtcp-restorer (deleted)" in /proc/PID/maps), so that the
 * next checkpoint can leave it out instead of carrying one more area into every later image.
 */
#define CKPT_RESTORE_AREA_NAME "dmtcp-restorer"

enum ckpt_vma_kind {
	CKPT_VMA_ANON = 1,    /* private anonymous */
	CKPT_VMA_FILE_PRIV,   /* private file mapping: only written (COW) pages stored */
	CKPT_VMA_FILE_SHARED, /* shared file mapping: by reference (data if deleted) */
	CKPT_VMA_SHMEM,	      /* shared anonymous, /dev/zero, memfd, SysV shm: one object */
	CKPT_VMA_HEAP,
	CKPT_VMA_STACK,	      /* [stack] */
	CKPT_VMA_VDSO,
	CKPT_VMA_VVAR,
	CKPT_VMA_VVAR_VCLOCK,
	CKPT_VMA_VSYSCALL,
	CKPT_VMA_OTHER,	      /* a device mapping or anything not restorable as data */
	CKPT_VMA__MAX
};

/* ckpt_vma.flags */
#define CKPT_VMA_F_SHARED    0x1  /* 's' in maps */
#define CKPT_VMA_F_GROWSDOWN 0x2  /* VM_GROWSDOWN ("gd" in smaps VmFlags) */
#define CKPT_VMA_F_DELETED   0x4  /* backing file was deleted */
#define CKPT_VMA_F_DATA_HERE 0x8  /* this image holds the (shared object's) data */
#define CKPT_VMA_F_LOCKED    0x10 /* "lo" */
#define CKPT_VMA_F_DONTDUMP  0x20 /* "dd": data not stored by request of the program */
#define CKPT_VMA_F_GUARD     0x40 /* no access at all (PROT_NONE): a guard area */
#define CKPT_VMA_F_NORESERVE 0x80 /* "nr": VM_NORESERVE, made with MAP_NORESERVE (no commit) */

struct ckpt_vma {
	uint64_t start, end; /* [start, end), page aligned */
	uint32_t prot;	     /* PROT_READ|PROT_WRITE|PROT_EXEC */
	uint32_t flags;	     /* CKPT_VMA_F_* */
	uint32_t kind;	     /* enum ckpt_vma_kind */
	uint32_t pad;
	uint64_t pgoff;	     /* file offset in bytes */
	uint64_t dev;	     /* makedev(major, minor) from maps */
	uint64_t ino;
	/* Shared memory object id (CKPT_VMA_SHMEM, and shared mappings of deleted files):
	 * dev/ino of the object, tree-wide. The data of an object is stored in exactly one
	 * image of the tree, the one with CKPT_VMA_F_DATA_HERE; owner_pid names it. */
	uint64_t shm_id;
	int32_t owner_pid;
	uint32_t npages_stored; /* pages of this vma present in the page runs */
	char *path;		/* "" for anonymous; [heap] etc. for the named ones */
};

/*
 * A run of stored pages. The data of all runs follows in the PAGES sections, concatenated in
 * run order, npages * CKPT_PAGE_SIZE bytes each. Runs are sorted by address, do not overlap,
 * and lie inside vma[vma]. Pages not in any run were never touched (or are zero pages): at
 * restore they are left to the kernel's zero fill (private) or to the backing file.
 */
struct ckpt_pagerun {
	uint64_t vaddr;
	uint32_t npages;
	uint32_t vma; /* index into proc->vmas */
};

/* ---- names, for logs and --show --------------------------------------------------------- */
const char *ckpt_sec_name(uint32_t type);	   /* "PROC", ...; NULL when not ours */
const char *ckpt_file_type_name(uint32_t type);	   /* "reg", "pipe", ... */
const char *ckpt_vma_kind_name(uint32_t kind);	   /* "anon", "file-private", ... */
const char *ckpt_sysfix_name(uint32_t fix);
/* "SIGUSR1", "SIGRTMIN+3", or "signal 99" written into buf */
const char *ckpt_sig_name(int sig, char *buf, size_t len);
const char *ckpt_rlimit_name(unsigned i);	   /* "RLIMIT_CPU", ... for rlim[i] */
const char *ckpt_itimer_name(unsigned i);	   /* "ITIMER_REAL", ... for itimer[i] */
const char *ckpt_sigsrc_name(uint32_t src);	   /* "tracee", "proc-only", "none" */
const char *ckpt_vma_flag_name(uint32_t bit);	   /* "growsdown", ...; NULL when unknown */
const char *ckpt_pipe_end_name(int32_t end);	   /* "read", "write", "both" */
const char *ckpt_sock_state_name(uint32_t state);  /* "listening", ... */
const char *ckpt_sock_family_name(uint32_t family); /* "unix", "tcp4", "tcp6" */
const char *ckpt_sock_type_name(uint32_t type);	   /* "stream", "dgram", "seqpacket" */
const char *ckpt_anon_kind_name(uint32_t kind);	   /* "eventfd", "timerfd", ..., "inotify" */
const char *ckpt_lock_kind_name(uint32_t kind);	   /* "posix", "ofd", "flock" */
const char *ckpt_lock_type_name(uint32_t type);	   /* "read", "write" */
/* A socket address (sockaddr bytes) for people: a unix path, "@name" for an abstract one
 * (unprintable bytes as '?'), "1.2.3.4:80", "[::1]:80"; "-" for none. */
void ckpt_sock_addr_text(char *buf, size_t n, const uint8_t *addr, uint32_t len);

/* ---- lifetime (common/ckpt_state.c) ----------------------------------------------------- */
void ckpt_proc_init(struct ckpt_proc *p);
void ckpt_sock_free(struct ckpt_sock *s); /* and its msg_len; NULL is fine */
void ckpt_proc_free(struct ckpt_proc *p); /* frees everything the model points to */

/* ---- encodings (common/ckpt_state_enc.c, common/ckpt_state_dec.c) ------------------------
 * A section body is produced into a malloc'ed buffer and parsed back with full validation.
 * Decoders return 0 or -EINVAL with *why set to a static text naming the bad field (e.g.
 * "vma 12: end before start"); they never read outside [buf, buf+len).
 */
struct ckpt_buf {
	uint8_t *p;
	size_t len, cap;
	int err; /* first -ENOMEM */
};
void ckpt_buf_free(struct ckpt_buf *b);

int ckpt_encode_proc(const struct ckpt_proc *p, struct ckpt_buf *b);
int ckpt_encode_thread(const struct ckpt_thread *t, struct ckpt_buf *b);
int ckpt_encode_signals(const struct ckpt_signals *s, struct ckpt_buf *b);
int ckpt_encode_files(const struct ckpt_proc *p, struct ckpt_buf *b);
int ckpt_encode_fds(const struct ckpt_proc *p, struct ckpt_buf *b);
int ckpt_encode_vmas(const struct ckpt_proc *p, struct ckpt_buf *b);
int ckpt_encode_pagemap(const struct ckpt_proc *p, struct ckpt_buf *b);
/* FILEDATA section header: u32 file id, u64 length; the bytes follow. */
int ckpt_encode_filedata_hdr(uint32_t file_id, uint64_t len, struct ckpt_buf *b);

/* Fills the scalars and the declared counts (nthreads, nfiles, ...) but allocates none of
 * the arrays they count: threads[] is the caller's, sized once it has counted the THREAD
 * sections; the FILES, FDS, VMAS and PAGEMAP decoders allocate theirs. */
int ckpt_decode_proc(const uint8_t *buf, size_t len, struct ckpt_proc *p, const char **why);
int ckpt_decode_thread(const uint8_t *buf, size_t len, struct ckpt_thread *t, const char **why);
int ckpt_decode_signals(const uint8_t *buf, size_t len, struct ckpt_signals *s,
			const char **why);
int ckpt_decode_files(const uint8_t *buf, size_t len, struct ckpt_proc *p, const char **why);
int ckpt_decode_fds(const uint8_t *buf, size_t len, struct ckpt_proc *p, const char **why);
int ckpt_decode_vmas(const uint8_t *buf, size_t len, struct ckpt_proc *p, const char **why);
int ckpt_decode_pagemap(const uint8_t *buf, size_t len, struct ckpt_proc *p, const char **why);
int ckpt_decode_filedata_hdr(const uint8_t *buf, size_t len, uint32_t *file_id, uint64_t *dlen,
			     const char **why);
/* Cross-checks after all sections were decoded: fds point at files, runs inside vmas, sorted,
 * counts agree. */
int ckpt_validate_proc(const struct ckpt_proc *p, const char **why);

/* ---- with the image container (common/ckpt_image.c) ----------------------------------------
 * Image order: PROC, THREAD x nthreads, SIGNALS, FILES, FDS, VMAS, PAGEMAP, FILEDATA x n, PAGES
 * (one page section holding the runs of PAGEMAP in order; the container may merge adjacent
 * runs, the byte stream is the same).
 */
struct image_writer;
struct image_reader;
/* Writes every record section of p (not FILEDATA, not PAGES). */
int ckpt_write_records(struct image_writer *w, const struct ckpt_proc *p);
/* A FILEDATA section: header + len bytes. */
int ckpt_write_filedata(struct image_writer *w, uint32_t file_id, const void *data,
			uint64_t len);
/*
 * Opens and validates the image (container checksums, then every content section and their
 * cross-checks, FILEDATA against the files, PAGES byte count against the runs), fills p (file
 * data loaded into files[i].data). On success *rp, if rp is not NULL, is the open reader for
 * image_read_pages(); else it is closed. On failure logs the reason naming the image and
 * returns -errno (-EINVAL for bad content); p is left freed.
 */
int ckpt_load(const char *path, struct ckpt_proc *p, struct image_reader **rp);
/*
 * The content half of ckpt_load(), on an image already opened (so validated as a container)
 * by image_open(): for callers that also look at the container. On failure logs the reason
 * naming the image, sets *why (if not NULL) to it, and returns -errno; p is left freed.
 */
int ckpt_load_reader(struct image_reader *r, struct ckpt_proc *p, const char **why);

#endif
