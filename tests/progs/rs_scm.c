/*
 * Restart test program: file descriptors and credentials in flight on unix sockets, its own
 * oracle.
 *
 *   rs_scm READYFILE LIMIT
 *
 * On a stream, a seqpacket and a datagram socket pair, one end always has two sets of three
 * messages queued that nobody has read; each message is a record (sock_records.h) with fds
 * attached (SCM_RIGHTS):
 *   1. the read end (O_NONBLOCK) of a pipe holding bytes of the set, whose write end is
 *      closed: only the message holds the pipe;
 *   2. a description of a regular file opened O_RDWR|O_APPEND, at an offset of the set;
 *   3. two fds: a description the program holds itself (a file whose offset it then moves
 *      through the received fd: one description, not two), and the write end of a pipe whose
 *      read end the program holds.
 * Every step sends one more set on each pair and reads the oldest, checking the records'
 * bytes and boundaries, each fd's bytes, offset, status flags, and the sharing. A child
 * process holds a file description the parent does not, and keeps it in flight towards the
 * parent on a stream pair (two messages queued): what the parent receives must be the
 * child's description (kcmp), not a copy (left out when RS_SCM_NOCHILD is set). A datagram
 * pair with SO_PASSCRED on its receiver always has two messages queued: each must come with
 * the sender's uid and gid, and with its pid (SCM_CREDENTIALS) when the program was not
 * restarted, or after a restart when RS_SCM_PID_EXACT is set (see docs/dmtcp_restart.1).
 * Prints "count N" after each step, PASS at LIMIT.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "sock_records.h"

#define SETS 2 /* sets queued on each pair at every moment */
#define FILE_SIZE 4096

struct chan {
	const char *name;
	int type;
	int a, b; /* a sends, b receives */
	uint32_t sent, got;
	int back[SETS + 1]; /* per set: the read end of the pipe whose write end message 3 has */
};

static int file_fd = -1;   /* the regular file's description the program holds */
static int shared_fd = -1; /* the description also sent in message 3 */
static char file_path[4096];

static uint8_t file_byte(size_t off)
{
	return (uint8_t)(off * 13 + 5);
}

static uint8_t pipe_byte(uint32_t tag, uint32_t seq, size_t i)
{
	return (uint8_t)(tag * 3 + seq * 5 + i);
}

static size_t pipe_len(uint32_t seq)
{
	return 1 + (seq * 29) % 200;
}

static void send_fds(struct chan *c, uint32_t tag, uint32_t seq, const int *fds, int n)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 2)];
		struct cmsghdr align;
	} ctl;
	uint8_t rec[512];
	size_t len = rec_len(tag, seq);
	struct iovec iov = { rec, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n) };
	struct cmsghdr *h = CMSG_FIRSTHDR(&mh);

	memset(&ctl, 0, sizeof(ctl));
	rec_make(rec, tag, seq);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
	memcpy(CMSG_DATA(h), fds, sizeof(int) * (size_t)n);
	if (sendmsg(c->a, &mh, MSG_NOSIGNAL) != (ssize_t)len)
		FAIL("%s: sendmsg %u/%u: %m", c->name, tag, seq);
}

/* The next message: record (tag, seq) with exactly n fds, into fds. */
static void recv_fds(struct chan *c, uint32_t tag, uint32_t seq, int *fds, int n)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} ctl;
	uint8_t want[512], rec[1024];
	size_t len = rec_len(tag, seq);
	/* on a stream, ask for exactly the record: the fds come with its first byte */
	struct iovec iov = { rec, c->type == SOCK_STREAM ? len : sizeof(rec) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *h;
	ssize_t r = recvmsg(c->b, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	int got = 0;

	if (r < 0)
		FAIL("%s: message %u/%u: recvmsg: %m", c->name, tag, seq);
	rec_make(want, tag, seq);
	if ((size_t)r != len || memcmp(rec, want, len))
		FAIL("%s: message %u/%u: %zd bytes, expected %zu, or other bytes", c->name, tag,
		     seq, r, len);
	if (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC))
		FAIL("%s: message %u/%u truncated", c->name, tag, seq);
	for (h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			FAIL("%s: message %u/%u: unexpected ancillary data %d/%d", c->name, tag,
			     seq, h->cmsg_level, h->cmsg_type);
		int k = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));

		if (got + k > n)
			FAIL("%s: message %u/%u: more than %d fds", c->name, tag, seq, n);
		memcpy(fds + got, CMSG_DATA(h), sizeof(int) * (size_t)k);
		got += k;
	}
	if (got != n)
		FAIL("%s: message %u/%u: %d fds, expected %d", c->name, tag, seq, got, n);
	for (int i = 0; i < n; i++)
		if (fcntl(fds[i], F_GETFD) != FD_CLOEXEC)
			FAIL("%s: message %u/%u: fd %d without FD_CLOEXEC", c->name, tag, seq, i);
}

static void send_set(struct chan *c)
{
	uint32_t seq = c->sent++, tag = (uint32_t)c->type * 10;
	int p[2], fds[2];
	uint8_t b[256];

	/* 1: a pipe's read end with bytes, its write end closed */
	if (pipe2(p, O_NONBLOCK))
		FAIL("pipe: %m");
	for (size_t i = 0; i < pipe_len(seq); i++)
		b[i] = pipe_byte(tag, seq, i);
	if (write(p[1], b, pipe_len(seq)) != (ssize_t)pipe_len(seq))
		FAIL("pipe write: %m");
	close(p[1]);
	send_fds(c, tag + 1, seq, &p[0], 1);
	close(p[0]);
	/* 2: a new description of the file at an offset */
	fds[0] = open(file_path, O_RDWR | O_APPEND);
	if (fds[0] < 0 || lseek(fds[0], (off_t)((seq * 97) % FILE_SIZE), SEEK_SET) < 0)
		FAIL("open %s: %m", file_path);
	send_fds(c, tag + 2, seq, fds, 1);
	close(fds[0]);
	/* 3: the program's own description, and a pipe's write end it reads from */
	if (pipe2(p, O_NONBLOCK))
		FAIL("pipe: %m");
	c->back[seq % (SETS + 1)] = p[0];
	fds[0] = shared_fd;
	fds[1] = p[1];
	send_fds(c, tag + 3, seq, fds, 2);
	close(p[1]);
}

static void check_set(struct chan *c)
{
	uint32_t seq = c->got++, tag = (uint32_t)c->type * 10;
	uint8_t b[512];
	off_t off;
	int fd, fds[2], fl;
	ssize_t r;

	recv_fds(c, tag + 1, seq, &fd, 1);
	fl = fcntl(fd, F_GETFL);
	if ((fl & O_ACCMODE) != O_RDONLY || !(fl & O_NONBLOCK))
		FAIL("%s: set %u: pipe read end has flags %#x", c->name, seq, fl);
	r = read(fd, b, sizeof(b));
	if (r != (ssize_t)pipe_len(seq))
		FAIL("%s: set %u: pipe held %zd bytes, expected %zu", c->name, seq, r,
		     pipe_len(seq));
	for (size_t i = 0; i < pipe_len(seq); i++)
		if (b[i] != pipe_byte(tag, seq, i))
			FAIL("%s: set %u: pipe byte %zu differs", c->name, seq, i);
	if (read(fd, b, 1) != 0)
		FAIL("%s: set %u: the pipe has a writer left or more bytes", c->name, seq);
	close(fd);

	recv_fds(c, tag + 2, seq, &fd, 1);
	fl = fcntl(fd, F_GETFL);
	if ((fl & O_ACCMODE) != O_RDWR || !(fl & O_APPEND))
		FAIL("%s: set %u: file has flags %#x, not O_RDWR|O_APPEND", c->name, seq, fl);
	off = lseek(fd, 0, SEEK_CUR);
	if (off != (off_t)((seq * 97) % FILE_SIZE))
		FAIL("%s: set %u: file offset %lld, expected %u", c->name, seq, (long long)off,
		     (seq * 97) % FILE_SIZE);
	r = read(fd, b, 16);
	if (r <= 0)
		FAIL("%s: set %u: file read: %m", c->name, seq);
	for (ssize_t i = 0; i < r; i++)
		if (b[i] != file_byte((size_t)off + (size_t)i))
			FAIL("%s: set %u: file byte %lld differs", c->name, seq,
			     (long long)(off + i));
	close(fd);

	recv_fds(c, tag + 3, seq, fds, 2);
	/* one description with the program's shared_fd: an offset moved through the received
	 * fd shows through the program's */
	if (lseek(fds[0], (off_t)(seq % 1000), SEEK_SET) < 0 ||
	    lseek(shared_fd, 0, SEEK_CUR) != (off_t)(seq % 1000))
		FAIL("%s: set %u: the received file is not the program's own description",
		     c->name, seq);
	close(fds[0]);
	/* a pipe's write end whose read end the program holds: the byte arrives there */
	fl = fcntl(fds[1], F_GETFL);
	if ((fl & O_ACCMODE) != O_WRONLY)
		FAIL("%s: set %u: pipe write end has flags %#x", c->name, seq, fl);
	if (write(fds[1], "x", 1) != 1)
		FAIL("%s: set %u: write through the received pipe end: %m", c->name, seq);
	close(fds[1]);
	fd = c->back[seq % (SETS + 1)];
	if (read(fd, b, 2) != 1 || b[0] != 'x' || read(fd, b, 1) != 0)
		FAIL("%s: set %u: the received pipe end is not the held pipe's", c->name, seq);
	close(fd);
}

static void cred_send(int fd, uint32_t seq)
{
	uint8_t b[8];
	uint32_t pid = (uint32_t)getpid();

	memcpy(b, &seq, 4);
	memcpy(b + 4, &pid, 4);
	if (send(fd, b, sizeof(b), 0) != (ssize_t)sizeof(b))
		FAIL("creds: send %u: %m", seq);
}

/* The child: holds fd kfd (its own description of the file) and sends it on via at every
 * byte that comes on ask; ends at end of file. */
static void child_run(int ask, int via, int kfd)
{
	char c;
	struct chan k = { .name = "from the child", .type = SOCK_STREAM, .a = via };

	for (;;) {
		ssize_t r = read(ask, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			_exit(0);
		send_fds(&k, 77, k.sent++, &kfd, 1);
	}
}

/* The next message from the child must carry the child's own description of the file. */
static void child_check(struct chan *k, pid_t child, int kfd)
{
	int fd;

	recv_fds(k, 77, k->got++, &fd, 1);
	if (syscall(SYS_kcmp, getpid(), child, 0 /* KCMP_FILE */, fd, kfd) != 0)
		FAIL("%s: message %u: not the child's description of the file (kcmp: %m)",
		     k->name, k->got - 1);
	close(fd);
}

static int pids_other; /* restored messages whose pid was not kept */

static void cred_expect(int fd, uint32_t seq, int pid_exact)
{
	union {
		char b[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl;
	uint8_t b[16];
	struct iovec iov = { b, sizeof(b) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *h;
	struct ucred uc;
	uint32_t q;
	ssize_t r = recvmsg(fd, &mh, MSG_DONTWAIT);

	if (r != 8)
		FAIL("creds: message %u: %zd bytes (%m)", seq, r);
	memcpy(&q, b, 4);
	if (q != seq)
		FAIL("creds: message %u came as %u", seq, q);
	h = CMSG_FIRSTHDR(&mh);
	if (!h || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_CREDENTIALS)
		FAIL("creds: message %u without SCM_CREDENTIALS", seq);
	memcpy(&uc, CMSG_DATA(h), sizeof(uc));
	if (uc.uid != getuid() || uc.gid != getgid())
		FAIL("creds: message %u: uid %u gid %u, expected %u %u", seq, uc.uid, uc.gid,
		     getuid(), getgid());
	if (uc.pid != getpid()) {
		if (pid_exact)
			FAIL("creds: message %u: pid %d, expected %d", seq, uc.pid, getpid());
		pids_other++;
	}
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int type;
	} kinds[] = { { "stream", SOCK_STREAM }, { "seqpacket", SOCK_SEQPACKET },
		      { "dgram", SOCK_DGRAM } };
	struct chan ch[3];
	int cr[2], on = 1, pid_exact = getenv("RS_SCM_PID_EXACT") != NULL, ask[2], kv[2], kfd;
	struct chan kch = { .name = "from the child", .type = SOCK_STREAM };
	pid_t child = 0;
	int with_child = getenv("RS_SCM_NOCHILD") == NULL;
	uint32_t csent = 0, cgot = 0;
	pid_t first = getpid();
	uint8_t fb[FILE_SIZE];
	long limit, n;
	FILE *f;

	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(file_path, sizeof(file_path), "%s.file", argv[1]);
	for (size_t i = 0; i < sizeof(fb); i++)
		fb[i] = file_byte(i);
	file_fd = open(file_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (file_fd < 0 || write(file_fd, fb, sizeof(fb)) != (ssize_t)sizeof(fb))
		FAIL("create %s: %m", file_path);
	shared_fd = open(file_path, O_RDONLY);
	if (shared_fd < 0)
		FAIL("open %s: %m", file_path);
	for (int i = 0; i < 3; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, kinds[i].type, 0, sv))
			FAIL("socketpair %s: %m", kinds[i].name);
		ch[i] = (struct chan){ .name = kinds[i].name, .type = kinds[i].type, .a = sv[0], .b = sv[1] };
		for (int k = 0; k < SETS; k++)
			send_set(&ch[i]);
	}
	/* the child's description: opened before the fork, closed in the parent after */
	kfd = open(file_path, O_RDONLY);
	if (kfd < 0 || pipe(ask) || socketpair(AF_UNIX, SOCK_STREAM, 0, kv))
		FAIL("child's file and channels: %m");
	child = with_child ? fork() : getpid();
	if (child < 0)
		FAIL("fork: %m");
	if (child == 0) {
		close(ask[1]);
		close(kv[1]);
		child_run(ask[0], kv[0], kfd);
	}
	close(ask[0]);
	close(kv[0]);
	close(kfd); /* kfd now names the child's fd, which the parent does not hold */
	kch.b = kv[1];
	for (int k = 0; k < SETS && with_child; k++)
		if (write(ask[1], "s", 1) != 1)
			FAIL("ask the child: %m");
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, cr) ||
	    setsockopt(cr[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)))
		FAIL("creds pair: %m");
	for (; csent < SETS; csent++)
		cred_send(cr[0], csent);

	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	for (n = 1; n <= limit; n++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		for (int i = 0; i < 3; i++) {
			send_set(&ch[i]);
			check_set(&ch[i]);
		}
		cred_send(cr[0], csent++);
		cred_expect(cr[1], cgot++, pid_exact);
		if (with_child && write(ask[1], "s", 1) != 1)
			FAIL("ask the child: %m");
		/* the child's message comes when it runs: wait for it, bounded */
		for (int w = 0; w < 5000 && with_child; w++) {
			struct pollfd pf = { kch.b, POLLIN, 0 };

			if (poll(&pf, 1, 1) == 1)
				break;
		}
		if (with_child)
			child_check(&kch, child, kfd);
		printf("count %ld\n", n);
		nanosleep(&ts, NULL);
	}
	close(ask[1]);
	{
		int st;

		if (with_child &&
		    (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st)))
			FAIL("the child did not end well");
	}
	if (pids_other)
		printf("note: %d restored messages carried another sender pid\n", pids_other);
	printf("PASS pid %d\n", (int)first);
	return 0;
}
