/*
 * Restart test program: four processes in a ring of a pipe, a FIFO, a unix socketpair and a TCP
 * connection, its own oracle.
 *
 *   rs_ring READYFILE LIMIT
 *
 * The parent (stage 0) forks three children and joins the four in a ring:
 *
 *   stage 0 --pipe--> stage 1 --FIFO READYFILE.f1--> stage 2 --socketpair--> stage 3
 *      ^                                                                         |
 *      +------------------- TCP, 127.0.0.1 (stage 0 listens) <-------------------+
 *
 * Stage 0 sends numbered records (a header and 16-1000 bytes that follow from the number),
 * at most WINDOW of them in the ring at once, and takes each back; every stage checks that
 * each record is whole and is the one after the last (no gap, repeat or changed byte) and
 * that its parent and its own pid are what they were, and forwards it; the stages nap a few
 * milliseconds now and then, so that bytes sit in every link when a checkpoint comes. Stage 0 prints "count N" for the Nth record back (10 ms apart). After LIMIT records
 * (LIMIT 0: once the file READYFILE.stop exists) it sends no more, takes back those still in
 * the ring, and sends an end record in which each stage writes how many records and bytes it
 * passed on: every one must equal what stage 0 sent and got back (every byte through the
 * pipes accounted for). Then each child exits 0, stage 0 checks their statuses and prints
 * "PASS pid P records N bytes B". Any mismatch prints a FAIL line and exits 1. Each stage,
 * once it has passed the end record on and closed its output, waits (10 s at most) for its
 * own input to end: a link whose last writer closed it must read as ended, which it does not
 * if any other process (of a restart, say) still holds it open. A stage whose
 * neighbour is gone before that (killed: dmtcp_command -k kills the four one by one) waits
 * 5 s for its own kill before it leaves with status 3, so that a killed ring ends by the
 * kill, not by SIGPIPE or an end of input.
 *
 * READYFILE gets the four pids, one a line, once the ring is joined.
 *
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NSTAGES 4
#define WINDOW 8
#define MAX_PAYLOAD 1000
#define END_WAIT_MS 10000
#define GONE_GRACE_MS 5000
#define MAGIC_DATA 0x52494e47u /* "RING" */
#define MAGIC_END 0x454e4421u  /* "END!" */

struct rec_hdr {
	uint32_t magic;
	uint32_t len; /* payload bytes */
	uint64_t seq;
};

/* The end record's payload: what each stage passed on. */
struct totals {
	uint64_t records[NSTAGES];
	uint64_t bytes[NSTAGES];
};

struct stage {
	int idx;
	int in, out;
	pid_t parent, self;
	uint64_t next_seq;     /* the number the next record must carry */
	uint64_t records, bytes; /* passed on (data records, header and payload) */
};

static void fail(const struct stage *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(const struct stage *s, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL stage %d: ", s->idx);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	_exit(1);
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000 * 1000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint32_t payload_len(uint64_t seq)
{
	return 16 + (uint32_t)((seq * 2654435761u) % (MAX_PAYLOAD - 16 + 1));
}

static uint8_t payload_byte(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131 + i * 7 + (i >> 5));
}

/*
 * The stage before us ended (our input reads as ended) or the one after (a write fails with
 * EPIPE): killed, since dmtcp_command -k does not kill the four at the same instant, or
 * failed, and said so with its own FAIL line. Either way it is not a finding of ours: wait a
 * moment for our own SIGKILL, so that a killed ring ends by the kill, then say so and leave
 * (the ring stops, which the test sees; stage 0 sees our status).
 */
static void __attribute__((noreturn)) neighbour_gone(const struct stage *s, const char *what)
{
	nap_ms(GONE_GRACE_MS);
	printf("stage %d: %s before record %llu\n", s->idx, what, (unsigned long long)s->next_seq);
	fflush(stdout);
	_exit(3);
}

/* Read n bytes; at_start: they begin a record, where the end of input can come. */
static void read_full(struct stage *s, void *buf, size_t n, const char *what, int at_start)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(s->in, (char *)buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 && got == 0 && at_start)
			neighbour_gone(s, "its input ended");
		if (r <= 0)
			fail(s, "%s: %s after %zu of %zu bytes (record %llu)", what,
			     r ? strerror(errno) : "end of input", got, n,
			     (unsigned long long)s->next_seq);
		got += (size_t)r;
	}
}

/* One write of at most PIPE_BUF bytes: whole or not at all, never mixed with another. */
static void write_rec(struct stage *s, const void *buf, size_t n)
{
	ssize_t r;

	do
		r = write(s->out, buf, n);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EPIPE)
		neighbour_gone(s, "its output has no reader");
	if (r != (ssize_t)n)
		fail(s, "write of record %llu: %s", (unsigned long long)s->next_seq,
		     r < 0 ? strerror(errno) : "short");
}

static void check_ids(const struct stage *s)
{
	if (getpid() != s->self || (s->parent && getppid() != s->parent))
		fail(s, "pid %d ppid %d, were %d and %d", getpid(), getppid(), s->self, s->parent);
}

/*
 * Read the next record into buf (header first, then its payload); check it is whole and the
 * one expected. Returns its magic.
 */
static uint32_t take(struct stage *s, unsigned char *buf)
{
	struct rec_hdr h;
	uint32_t i;

	read_full(s, &h, sizeof(h), "header", 1);
	memcpy(buf, &h, sizeof(h));
	if (h.magic == MAGIC_END) {
		if (h.len != sizeof(struct totals))
			fail(s, "end record of %u bytes", h.len);
		read_full(s, buf + sizeof(h), h.len, "end record", 0);
		return h.magic;
	}
	if (h.magic != MAGIC_DATA || h.len > MAX_PAYLOAD)
		fail(s, "garbled header (magic %#x, length %u) where record %llu was due", h.magic,
		     h.len, (unsigned long long)s->next_seq);
	if (h.seq != s->next_seq)
		fail(s, "got record %llu, expected %llu", (unsigned long long)h.seq,
		     (unsigned long long)s->next_seq);
	if (h.len != payload_len(h.seq))
		fail(s, "record %llu has %u bytes, expected %u", (unsigned long long)h.seq, h.len,
		     payload_len(h.seq));
	read_full(s, buf + sizeof(h), h.len, "payload", 0);
	for (i = 0; i < h.len; i++)
		if (buf[sizeof(h) + i] != payload_byte(h.seq, i))
			fail(s, "record %llu: byte %u is %#x, expected %#x",
			     (unsigned long long)h.seq, i, buf[sizeof(h) + i],
			     payload_byte(h.seq, i));
	s->next_seq++;
	return h.magic;
}

/*
 * After the end record, once the stage before has closed its end: the input ends. A pipe or
 * FIFO that some other process also holds open for writing (after a restart: anything of the
 * restart that kept a copy) never ends, and the reader would wait forever.
 */
static void expect_end(struct stage *s)
{
	struct pollfd pfd = { .fd = s->in, .events = POLLIN };
	char c;
	int r;

	do
		r = poll(&pfd, 1, END_WAIT_MS);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		fail(s, "its input did not end within %d ms of the last writer closing it: "
			"another process holds it open", END_WAIT_MS);
	do
		r = (int)read(s->in, &c, 1);
	while (r < 0 && errno == EINTR);
	if (r != 0)
		fail(s, "%s after the end record", r > 0 ? "bytes" : strerror(errno));
}

/* Stages 1-3: take each record, check it, pass it on; the end record gets our totals. */
static void __attribute__((noreturn)) relay(struct stage *s)
{
	unsigned char buf[sizeof(struct rec_hdr) + MAX_PAYLOAD];

	for (;;) {
		struct rec_hdr *h = (struct rec_hdr *)buf;

		check_ids(s);
		if (take(s, buf) == MAGIC_END) {
			struct totals t;

			memcpy(&t, buf + sizeof(*h), sizeof(t));
			t.records[s->idx] = s->records;
			t.bytes[s->idx] = s->bytes;
			memcpy(buf + sizeof(*h), &t, sizeof(t));
			write_rec(s, buf, sizeof(*h) + sizeof(t));
			close(s->out);
			expect_end(s);
			_exit(0);
		}
		write_rec(s, buf, sizeof(*h) + h->len);
		s->records++;
		s->bytes += sizeof(*h) + h->len;
		/* now and then, so that records queue up before some stage */
		if (h->seq % (3 + s->idx) == 0)
			nap_ms(1 + (long)(h->seq % 7));
	}
}

static void send_rec(struct stage *s, uint64_t seq)
{
	unsigned char buf[sizeof(struct rec_hdr) + MAX_PAYLOAD];
	struct rec_hdr h = { MAGIC_DATA, payload_len(seq), seq };
	uint32_t i;

	memcpy(buf, &h, sizeof(h));
	for (i = 0; i < h.len; i++)
		buf[sizeof(h) + i] = payload_byte(seq, i);
	write_rec(s, buf, sizeof(h) + h.len);
	s->records++;
	s->bytes += sizeof(h) + h.len;
}

static int open_fifo(const char *path, int flags)
{
	int fd;

	do
		fd = open(path, flags);
	while (fd < 0 && errno == EINTR);
	return fd;
}

int main(int argc, char **argv)
{
	unsigned char buf[sizeof(struct rec_hdr) + MAX_PAYLOAD];
	char f1[4096], stop[4096];
	struct stage s0 = { 0 }, back = { 0 };
	struct sockaddr_in la = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t lal = sizeof(la);
	int pa[2], pb[2], i, st, failed = 0, lst;
	pid_t pid[NSTAGES];
	uint64_t sent = 0, got = 0;
	long limit;
	FILE *f;

	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* a write to a stage that is gone fails with EPIPE (neighbour_gone()) */
	signal(SIGPIPE, SIG_IGN);
	snprintf(f1, sizeof(f1), "%s.f1", argv[1]);
	snprintf(stop, sizeof(stop), "%s.stop", argv[1]);
	unlink(f1);
	if (mkfifo(f1, 0600) || pipe(pa) || socketpair(AF_UNIX, SOCK_STREAM, 0, pb))
		return 2;
	lst = socket(AF_INET, SOCK_STREAM, 0);
	if (lst < 0 || bind(lst, (struct sockaddr *)&la, sizeof(la)) || listen(lst, 1) ||
	    getsockname(lst, (struct sockaddr *)&la, &lal))
		return 2;
	pid[0] = getpid();
	for (i = 1; i < NSTAGES; i++) {
		pid[i] = fork();
		if (pid[i] < 0)
			return 2;
		if (pid[i] == 0) {
			struct stage s = { .idx = i, .parent = pid[0], .self = getpid(), .next_seq = 1 };

			switch (i) {
			case 1:
				s.in = pa[0];
				s.out = open_fifo(f1, O_WRONLY);
				break;
			case 2:
				s.in = open_fifo(f1, O_RDONLY);
				s.out = pb[1];
				break;
			case 3:
				s.in = pb[0];
				s.out = socket(AF_INET, SOCK_STREAM, 0);
				if (s.out >= 0 && connect(s.out, (struct sockaddr *)&la, sizeof(la))) {
					close(s.out);
					s.out = -1;
				}
				break;
			}
			if (s.in < 0 || s.out < 0)
				fail(&s, "cannot open its link: %s", strerror(errno));
			close(lst);
			/* only our own ends stay open, so an end of input means a stage died */
			if (s.in != pa[0])
				close(pa[0]);
			close(pa[1]);
			if (s.in != pb[0])
				close(pb[0]);
			if (s.out != pb[1])
				close(pb[1]);
			relay(&s);
		}
	}
	close(pa[0]);
	close(pb[0]);
	close(pb[1]);
	s0.idx = 0;
	s0.self = pid[0];
	s0.out = pa[1];
	back.idx = 0;
	back.self = pid[0];
	back.next_seq = 1;
	back.in = accept(lst, NULL, NULL);
	if (back.in < 0)
		fail(&back, "cannot accept stage 3's connection: %s", strerror(errno));
	close(lst);
	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	for (i = 0; i < NSTAGES; i++)
		fprintf(f, "%d\n", (int)pid[i]);
	fclose(f);

	for (;;) {
		int more = limit ? sent < (uint64_t)limit : access(stop, F_OK) < 0;

		check_ids(&s0);
		if (more && sent - got < WINDOW) {
			send_rec(&s0, ++sent);
			continue;
		}
		if (got == sent)
			break;
		if (take(&back, buf) != MAGIC_DATA)
			fail(&back, "end record before record %llu", (unsigned long long)got + 1);
		got++;
		back.records++;
		back.bytes += sizeof(struct rec_hdr) + payload_len(got);
		printf("count %llu\n", (unsigned long long)got);
		nap_ms(10);
	}

	/* Every record is back: the end record collects what each stage passed on. */
	{
		struct rec_hdr h = { MAGIC_END, sizeof(struct totals), 0 };
		struct totals t;

		memset(&t, 0, sizeof(t));
		t.records[0] = s0.records;
		t.bytes[0] = s0.bytes;
		memcpy(buf, &h, sizeof(h));
		memcpy(buf + sizeof(h), &t, sizeof(t));
		write_rec(&s0, buf, sizeof(h) + sizeof(t));
		close(s0.out);
		if (take(&back, buf) != MAGIC_END)
			fail(&back, "a data record after record %llu", (unsigned long long)got);
		expect_end(&back);
		memcpy(&t, buf + sizeof(h), sizeof(t));
		for (i = 0; i < NSTAGES; i++)
			if (t.records[i] != sent || t.bytes[i] != s0.bytes) {
				printf("FAIL stage %d passed on %llu records, %llu bytes; %llu records, "
				       "%llu bytes were sent\n", i, (unsigned long long)t.records[i],
				       (unsigned long long)t.bytes[i], (unsigned long long)sent,
				       (unsigned long long)s0.bytes);
				failed = 1;
			}
		if (back.records != sent || back.bytes != s0.bytes) {
			printf("FAIL stage 0 got back %llu records, %llu bytes of %llu, %llu\n",
			       (unsigned long long)back.records, (unsigned long long)back.bytes,
			       (unsigned long long)sent, (unsigned long long)s0.bytes);
			failed = 1;
		}
	}
	for (i = 1; i < NSTAGES; i++) {
		if (waitpid(pid[i], &st, 0) != pid[i] || !WIFEXITED(st) || WEXITSTATUS(st)) {
			printf("FAIL stage %d (pid %d) ended with status %#x\n", i, (int)pid[i], st);
			failed = 1;
		}
	}
	check_ids(&s0);
	unlink(f1);
	if (failed)
		return 1;
	printf("PASS pid %d records %llu bytes %llu\n", (int)pid[0], (unsigned long long)sent,
	       (unsigned long long)s0.bytes);
	return 0;
}
