/*
 * Records for the socket test programs (rs_socks, rs_tcp): numbered, of lengths and bytes that
 * follow from (tag, number), so that a receiver can tell a byte lost, doubled or out of order,
 * or a message boundary moved; and flows, pairs of connected sockets that keep K records in
 * flight each way; bulk connections kept full; the end of an echo child. A failure prints
 * "FAIL ..." and exits 1.
 */
#ifndef SOCK_RECORDS_H
#define SOCK_RECORDS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		printf("FAIL " __VA_ARGS__);                                                       \
		printf("\n");                                                                      \
		exit(1);                                                                           \
	} while (0)

#define K 8 /* records in flight in each direction */

/* A record: its sequence number, then len - 8 bytes derived from it. */
static inline size_t rec_len(uint32_t tag, uint32_t seq)
{
	return 8 + (seq * 37 + tag * 11) % 300;
}

static inline void rec_make(uint8_t *b, uint32_t tag, uint32_t seq)
{
	size_t n = rec_len(tag, seq);

	memcpy(b, &tag, 4);
	memcpy(b + 4, &seq, 4);
	for (size_t i = 8; i < n; i++)
		b[i] = (uint8_t)(seq + i * 7 + tag);
}

static inline void rec_send(int fd, uint32_t tag, uint32_t seq, const char *what)
{
	uint8_t b[512];
	size_t n = rec_len(tag, seq);

	rec_make(b, tag, seq);
	if (send(fd, b, n, MSG_NOSIGNAL) != (ssize_t)n)
		FAIL("%s: send record %u: %m", what, seq);
}

/* Read exactly n bytes from a stream (the socket may be non-blocking: wait for it). */
static inline void read_full(int fd, uint8_t *b, size_t n, const char *what)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = recv(fd, b + got, n - got, 0);

		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
			continue;
		}
		if (r <= 0)
			FAIL("%s: recv: %s", what, r ? strerror(errno) : "end of file");
		got += (size_t)r;
	}
}

/* The next record of a stream or message socket must be (tag, seq). */
static inline void rec_expect(int fd, int stream, uint32_t tag, uint32_t seq, const char *what)
{
	uint8_t want[512], b[1024];
	size_t n = rec_len(tag, seq);
	ssize_t r;

	rec_make(want, tag, seq);
	if (stream) {
		read_full(fd, b, n, what);
		r = (ssize_t)n;
	} else {
		r = recv(fd, b, sizeof(b), 0);
	}
	if (r != (ssize_t)n)
		FAIL("%s: record %u: %zd bytes, expected %zu (%m)", what, seq, r, n);
	if (memcmp(b, want, n)) {
		uint32_t t, q;

		memcpy(&t, b, 4);
		memcpy(&q, b + 4, 4);
		FAIL("%s: expected record %u/%u, got %u/%u", what, tag, seq, t, q);
	}
}

/* A pair with K records queued each way; each step moves one through each way. */
struct flow {
	const char *name;
	int a, b, stream;
	uint32_t sent_ab, got_ab, sent_ba, got_ba;
};

static inline void flow_fill(struct flow *f)
{
	while (f->sent_ab < K)
		rec_send(f->a, 1, f->sent_ab++, f->name);
	while (f->sent_ba < K)
		rec_send(f->b, 2, f->sent_ba++, f->name);
}

static inline void flow_step(struct flow *f)
{
	rec_send(f->a, 1, f->sent_ab++, f->name);
	rec_send(f->b, 2, f->sent_ba++, f->name);
	rec_expect(f->b, f->stream, 1, f->got_ab++, f->name);
	rec_expect(f->a, f->stream, 2, f->got_ba++, f->name);
}

/* Bulk connections: bytes that follow a pattern of their position. bulk_fill writes on fd
 * (non-blocking) until the kernel takes no more; bulk_read reads 16 KiB and checks them. */
static inline void bulk_fill(int fd, uint64_t *sent)
{
	uint8_t b[16384];

	for (;;) {
		ssize_t n;

		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (uint8_t)((*sent + i) * 7 + 3);
		n = send(fd, b, sizeof(b), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0)
			FAIL("bulk connection: send: %m");
		*sent += (uint64_t)n;
	}
}

static inline void bulk_read(int fd, uint64_t *got)
{
	uint8_t b[16384];
	ssize_t n = recv(fd, b, sizeof(b), MSG_WAITALL);

	if (n != (ssize_t)sizeof(b))
		FAIL("bulk connection: recv: %zd (%m)", n);
	for (size_t i = 0; i < sizeof(b); i++)
		if (b[i] != (uint8_t)((*got + i) * 7 + 3))
			FAIL("bulk connection: byte %llu is wrong", (unsigned long long)(*got + i));
	*got += (uint64_t)n;
}

/* An echo child: every record of stream fd (tag 3) sent back with tag 4, until the end of
 * the stream; exits 0 then, 3 on an error, 4 on a wrong record. */
static inline void echo_child(int fd)
{
	for (uint32_t seq = 0;; seq++) {
		uint8_t b[512], want[512];
		size_t n = rec_len(3, seq), got = 0;

		while (got < n) {
			ssize_t r = recv(fd, b + got, n - got, 0);

			if (r == 0 && got == 0)
				_exit(0);
			if (r <= 0)
				_exit(3);
			got += (size_t)r;
		}
		rec_make(want, 3, seq);
		if (memcmp(b, want, n))
			_exit(4);
		rec_send(fd, 4, seq, "echo child");
	}
}

/* The end of an echo child (tags 3 out, 4 back on a stream fd): tell it we are done, read
 * the echoes still due, and it must end with status 0. */
static inline void echo_child_end(int fd, pid_t kid, uint32_t *got, uint32_t sent,
				  const char *what)
{
	int st;

	shutdown(fd, SHUT_WR);
	while (*got < sent)
		rec_expect(fd, 1, 4, (*got)++, what);
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st))
		FAIL("echo child ended with status %#x", st);
}

#endif
