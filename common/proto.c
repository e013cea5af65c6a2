/*
 * The coordinator protocol codec: building, validating and parsing messages, and the buffered
 * non-blocking connection used by poll loops. The wire format is described in proto.h and
 * docs/protocol.md. Nothing here logs: the callers know which connection a failure concerns.
 */
#include "clock.h"
#include "proto.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FIELD_HDR_SIZE 8
#define READ_CHUNK     (64u << 10)

static const char *const type_names[MSG__COUNT] = {
	[MSG_HELLO] = "HELLO",
	[MSG_WELCOME] = "WELCOME",
	[MSG_REFUSE] = "REFUSE",
	[MSG_PEER_UPDATE] = "PEER_UPDATE",
	[MSG_BARRIER] = "BARRIER",
	[MSG_BARRIER_DONE] = "BARRIER_DONE",
	[MSG_KILL] = "KILL",
	[MSG_COMMAND] = "COMMAND",
	[MSG_COMMAND_REPLY] = "COMMAND_REPLY",
	[MSG_KV_PUT] = "KV_PUT",
	[MSG_KV_GET] = "KV_GET",
	[MSG_KV_REPLY] = "KV_REPLY",
	[MSG_CKPT_REQUEST] = "CKPT_REQUEST",
	[MSG_CKPT_PROGRESS] = "CKPT_PROGRESS",
	[MSG_CHALLENGE] = "CHALLENGE",
	[MSG_AUTH] = "AUTH",
	[MSG_WHERE] = "WHERE",
	[MSG_WHERE_REPLY] = "WHERE_REPLY",
	[MSG_WHERE_PART] = "WHERE_PART",
	[MSG_DETACH] = "DETACH",
};

struct tag_info {
	const char *name;
	uint8_t kind;
	uint8_t repeatable;
};

static const struct tag_info tags[F_TAG__COUNT] = {
	[F_ROLE] = { "ROLE", PROTO_STR, 0 },
	[F_PROG] = { "PROG", PROTO_STR, 0 },
	[F_PID] = { "PID", PROTO_U64, 0 },
	[F_REAL_PID] = { "REAL_PID", PROTO_U64, 0 },
	[F_PPID] = { "PPID", PROTO_U64, 0 },
	[F_UNIQUEPID] = { "UNIQUEPID", PROTO_STR, 0 },
	[F_HOST] = { "HOST", PROTO_STR, 0 },
	[F_STATE] = { "STATE", PROTO_STR, 0 },
	[F_COMPID] = { "COMPID", PROTO_STR, 0 },
	[F_CKPTDIR] = { "CKPTDIR", PROTO_STR, 0 },
	[F_INTERVAL] = { "INTERVAL", PROTO_U64, 0 },
	[F_BARRIER] = { "BARRIER", PROTO_STR, 0 },
	[F_GENERATION] = { "GENERATION", PROTO_U64, 0 },
	[F_STATUS] = { "STATUS", PROTO_U64, 0 },
	[F_REASON] = { "REASON", PROTO_STR, 0 },
	[F_IMAGE] = { "IMAGE", PROTO_STR, 0 },
	[F_CMD] = { "CMD", PROTO_STR, 0 },
	[F_ARG] = { "ARG", PROTO_U64, 0 },
	[F_NUM_PEERS] = { "NUM_PEERS", PROTO_U64, 0 },
	[F_RUNNING] = { "RUNNING", PROTO_U64, 0 },
	[F_PORT] = { "PORT", PROTO_U64, 0 },
	[F_PEER_ID] = { "PEER_ID", PROTO_U64, 0 },
	[F_PEER] = { "PEER", PROTO_STR, 1 },
	[F_KEY] = { "KEY", PROTO_STR, 0 },
	[F_VALUE] = { "VALUE", PROTO_STR, 0 },
	[F_TIMEOUT_MS] = { "TIMEOUT_MS", PROTO_U64, 0 },
	[F_RESTART] = { "RESTART", PROTO_U64, 0 },
	[F_NUM_EXPECTED] = { "NUM_EXPECTED", PROTO_U64, 0 },
	[F_COORD_STATE] = { "COORD_STATE", PROTO_STR, 0 },
	[F_CKPT_COUNT] = { "CKPT_COUNT", PROTO_U64, 0 },
	[F_LAST_CKPT] = { "LAST_CKPT", PROTO_STR, 0 },
	[F_VIRT_PID] = { "VIRT_PID", PROTO_U64, 0 },
	[F_EXIT_STATUS] = { "EXIT_STATUS", PROTO_U64, 0 },
	[F_IMAGE_SIZE] = { "IMAGE_SIZE", PROTO_U64, 0 },
	[F_BYTES] = { "BYTES", PROTO_U64, 0 },
	[F_CKPT_DONE] = { "CKPT_DONE", PROTO_U64, 0 },
	[F_CKPT_TOTAL] = { "CKPT_TOTAL", PROTO_U64, 0 },
	[F_CKPT_BYTES] = { "CKPT_BYTES", PROTO_U64, 0 },
	[F_CKPT_ELAPSED_MS] = { "CKPT_ELAPSED_MS", PROTO_U64, 0 },
	[F_WAITING] = { "WAITING", PROTO_STR, 0 },
	[F_LAST_ERROR] = { "LAST_ERROR", PROTO_STR, 0 },
	[F_CKPT_ID] = { "CKPT_ID", PROTO_U64, 0 },
	[F_NONCE] = { "NONCE", PROTO_STR, 0 },
	[F_AUTH] = { "AUTH", PROTO_STR, 0 },
	[F_WHERE_ID] = { "WHERE_ID", PROTO_U64, 0 },
	[F_NOTE] = { "NOTE", PROTO_STR, 0 },
	[F_THREAD] = { "THREAD", PROTO_STR, 1 },
	[F_FRAME] = { "FRAME", PROTO_STR, 1 },
	[F_DETACHABLE] = { "DETACHABLE", PROTO_U64, 0 },
};

enum proto_kind proto_field_kind(uint16_t tag)
{
	if (tag == 0 || tag >= F_TAG__COUNT)
		return 0;
	return tags[tag].kind;
}

const char *proto_type_name(uint16_t type)
{
	if (type == 0 || type >= MSG__COUNT)
		return "?";
	return type_names[type];
}

const char *proto_tag_name(uint16_t tag)
{
	if (tag == 0 || tag >= F_TAG__COUNT)
		return "?";
	return tags[tag].name;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | ((uint64_t)get_le32(p + 4) << 32);
}

/* ---- building ---------------------------------------------------------------------------- */

void proto_msg_init(struct proto_msg *m, uint16_t type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->cap = 256;
	m->buf = calloc(1, m->cap);
	if (!m->buf) {
		m->err = -ENOMEM;
		m->cap = 0;
		return;
	}
	m->len = PROTO_HDR_SIZE;
}

/* Make room for n more bytes; records the first error in m->err. */
static uint8_t *msg_reserve(struct proto_msg *m, size_t n)
{
	size_t need;

	if (m->err)
		return NULL;
	need = m->len + n;
	if (need - PROTO_HDR_SIZE > PROTO_MAX_PAYLOAD) {
		m->err = -EMSGSIZE;
		return NULL;
	}
	if (need > m->cap) {
		size_t cap = m->cap * 2;
		uint8_t *nb;

		while (cap < need)
			cap *= 2;
		nb = realloc(m->buf, cap);
		if (!nb) {
			m->err = -ENOMEM;
			return NULL;
		}
		m->buf = nb;
		m->cap = cap;
	}
	return m->buf + m->len;
}

static void put_field(struct proto_msg *m, uint16_t tag, uint16_t kind, const void *v, uint32_t n)
{
	uint8_t *p = msg_reserve(m, FIELD_HDR_SIZE + (size_t)n);

	if (!p)
		return;
	put_le16(p, tag);
	put_le16(p + 2, kind);
	put_le32(p + 4, n);
	if (n)
		memcpy(p + FIELD_HDR_SIZE, v, n);
	m->len += FIELD_HDR_SIZE + n;
}

void proto_put_u64(struct proto_msg *m, uint16_t tag, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (v >> (8 * i)) & 0xff;
	put_field(m, tag, PROTO_U64, b, 8);
}

void proto_put_strn(struct proto_msg *m, uint16_t tag, const char *s, size_t n)
{
	if (m->err)
		return;
	if (n > PROTO_MAX_STR) {
		m->err = -EMSGSIZE;
		return;
	}
	/* The receiver rejects NUL bytes in strings; refuse to build such a message. */
	if (n && memchr(s, '\0', n)) {
		m->err = -EINVAL;
		return;
	}
	put_field(m, tag, PROTO_STR, s, (uint32_t)n);
}

void proto_put_str(struct proto_msg *m, uint16_t tag, const char *s)
{
	proto_put_strn(m, tag, s ? s : "", s ? strlen(s) : 0);
}

static void write_header(uint8_t *hdr, uint16_t type, size_t len)
{
	put_le32(hdr, PROTO_MAGIC);
	put_le16(hdr + 4, PROTO_VERSION);
	put_le16(hdr + 6, type);
	put_le32(hdr + 8, (uint32_t)(len - PROTO_HDR_SIZE));
	put_le32(hdr + 12, 0);
}

int proto_finish(struct proto_msg *m)
{
	if (m->err)
		return m->err;
	write_header(m->buf, m->type, m->len);
	return 0;
}

void proto_msg_free(struct proto_msg *m)
{
	free(m->buf);
	m->buf = NULL;
	m->len = m->cap = 0;
}

/* ---- parsing ----------------------------------------------------------------------------- */

long proto_check_header(const uint8_t *hdr, uint16_t *type)
{
	uint32_t len;
	uint16_t t;

	if (get_le32(hdr) != PROTO_MAGIC)
		return -EPROTO;
	if (get_le16(hdr + 4) != PROTO_VERSION)
		return -EPROTONOSUPPORT;
	t = get_le16(hdr + 6);
	if (t == 0 || t >= MSG__COUNT)
		return -EPROTO;
	if (get_le32(hdr + 12) != 0)
		return -EPROTO;
	len = get_le32(hdr + 8);
	if (len > PROTO_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (type)
		*type = t;
	return (long)len;
}

/* A static description of a header error, for logs. */
static const char *header_why(const uint8_t *hdr, long err)
{
	if (err == -EPROTONOSUPPORT)
		return "unsupported protocol version";
	if (err == -EMSGSIZE)
		return "message larger than PROTO_MAX_PAYLOAD";
	if (get_le32(hdr) != PROTO_MAGIC)
		return "bad magic (not a DMTP message)";
	if (get_le32(hdr + 12) != 0)
		return "nonzero reserved header word";
	return "unknown message type";
}

int proto_parse(uint16_t type, uint8_t *payload, uint32_t len, struct proto_in *in,
		const char **why)
{
	uint32_t off = 0, n = 0, cap = 0;
	uint32_t seen[(F_TAG__COUNT + 31) / 32] = { 0 };
	struct proto_field *f = NULL;
	const char *err = NULL;
	uint8_t *buf;

	memset(in, 0, sizeof(*in));
	*why = NULL;
	/*
	 * One spare byte after the payload: once the field table is built, every string value is
	 * NUL-terminated in place by overwriting the first byte after it (the next field's header,
	 * already decoded, or this spare byte), so proto_get_str() needs no copy.
	 */
	buf = realloc(payload, (size_t)len + 1);
	if (!buf) {
		free(payload);
		*why = "out of memory";
		return -ENOMEM;
	}
	while (off < len) {
		uint16_t tag, kind;
		uint32_t flen;

		if (len - off < FIELD_HDR_SIZE) {
			err = "truncated field header";
			goto bad;
		}
		tag = get_le16(buf + off);
		kind = get_le16(buf + off + 2);
		flen = get_le32(buf + off + 4);
		off += FIELD_HDR_SIZE;
		if (flen > len - off) {
			err = "field value runs past the end of the message";
			goto bad;
		}
		if (kind != PROTO_U64 && kind != PROTO_STR) {
			err = "unknown field kind";
			goto bad;
		}
		if (kind == PROTO_U64 && flen != 8) {
			err = "integer field whose size is not 8";
			goto bad;
		}
		if (kind == PROTO_STR && flen > PROTO_MAX_STR) {
			err = "string field longer than PROTO_MAX_STR";
			goto bad;
		}
		if (proto_field_kind(tag) == 0) {
			/* Unknown tag: skipped, for forward compatibility. */
			off += flen;
			continue;
		}
		if (kind != tags[tag].kind) {
			err = "field of the wrong kind for its tag";
			goto bad;
		}
		if (kind == PROTO_STR && flen && memchr(buf + off, '\0', flen)) {
			err = "NUL byte inside a string field";
			goto bad;
		}
		if (!tags[tag].repeatable) {
			if (seen[tag / 32] & (1u << (tag % 32))) {
				err = "non-repeatable field given twice";
				goto bad;
			}
			seen[tag / 32] |= 1u << (tag % 32);
		}
		if (n == PROTO_MAX_FIELDS) {
			err = "too many fields";
			goto bad;
		}
		if (n == cap) {
			struct proto_field *nf;

			cap = cap ? cap * 2 : 16;
			nf = realloc(f, cap * sizeof(*f));
			if (!nf) {
				free(f);
				free(buf);
				*why = "out of memory";
				return -ENOMEM;
			}
			f = nf;
		}
		f[n].tag = tag;
		f[n].kind = kind;
		f[n].len = flen;
		f[n].val = buf + off;
		n++;
		off += flen;
	}
	for (uint32_t i = 0; i < n; i++)
		if (f[i].kind == PROTO_STR)
			((uint8_t *)f[i].val)[f[i].len] = '\0';
	in->type = type;
	in->nfields = n;
	in->fields = f;
	in->payload = buf;
	in->len = len;
	return 0;
bad:
	free(f);
	free(buf);
	*why = err;
	return -EPROTO;
}

void proto_in_free(struct proto_in *in)
{
	free(in->fields);
	free(in->payload);
	memset(in, 0, sizeof(*in));
}

int proto_get_u64(const struct proto_in *in, uint16_t tag, uint64_t *v)
{
	for (uint32_t i = 0; i < in->nfields; i++) {
		if (in->fields[i].tag == tag && in->fields[i].kind == PROTO_U64) {
			*v = get_le64(in->fields[i].val);
			return 0;
		}
	}
	return -ENOENT;
}

const char *proto_get_str(const struct proto_in *in, uint16_t tag)
{
	for (uint32_t i = 0; i < in->nfields; i++)
		if (in->fields[i].tag == tag && in->fields[i].kind == PROTO_STR)
			return (const char *)in->fields[i].val;
	return NULL;
}

const char *proto_next_str(const struct proto_in *in, uint16_t tag, uint32_t *pos)
{
	for (uint32_t i = *pos; i < in->nfields; i++) {
		if (in->fields[i].tag == tag && in->fields[i].kind == PROTO_STR) {
			*pos = i + 1;
			return (const char *)in->fields[i].val;
		}
	}
	*pos = in->nfields;
	return NULL;
}

/* ---- buffered non-blocking connection ---------------------------------------------------- */

void proto_conn_init(struct proto_conn *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
}

void proto_conn_free(struct proto_conn *c)
{
	free(c->rbuf);
	free(c->wbuf);
	c->rbuf = c->wbuf = NULL;
	c->rlen = c->rcap = c->wlen = c->wcap = 0;
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : 4096;
	uint8_t *nb;

	while (ncap < need)
		ncap *= 2;
	if (ncap == *cap)
		return 0;
	nb = realloc(*buf, ncap);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	*cap = ncap;
	return 0;
}

int proto_conn_fill(struct proto_conn *c)
{
	ssize_t r;
	int ret;

	ret = grow(&c->rbuf, &c->rcap, c->rlen + READ_CHUNK);
	if (ret)
		return ret;
	do
		r = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	c->rlen += (size_t)r;
	return (int)r;
}

int proto_conn_next(struct proto_conn *c, struct proto_in *in, const char **why)
{
	uint16_t type;
	uint8_t *payload;
	long plen;
	int ret;

	*why = NULL;
	if (c->rlen < PROTO_HDR_SIZE)
		return 0;
	/* The header is checked as soon as it is complete, before waiting for a huge payload. */
	plen = proto_check_header(c->rbuf, &type);
	if (plen < 0) {
		*why = header_why(c->rbuf, plen);
		return (int)plen;
	}
	if (c->rlen < PROTO_HDR_SIZE + (size_t)plen)
		return 0;
	payload = malloc(plen ? (size_t)plen : 1);
	if (!payload) {
		*why = "out of memory";
		return -ENOMEM;
	}
	memcpy(payload, c->rbuf + PROTO_HDR_SIZE, plen);
	c->rlen -= PROTO_HDR_SIZE + (size_t)plen;
	memmove(c->rbuf, c->rbuf + PROTO_HDR_SIZE + plen, c->rlen);
	ret = proto_parse(type, payload, (uint32_t)plen, in, why);
	return ret ? ret : 1;
}

int proto_conn_queue(struct proto_conn *c, const struct proto_msg *m)
{
	int ret;

	if (m->err)
		return m->err;
	ret = grow(&c->wbuf, &c->wcap, c->wlen + m->len);
	if (ret)
		return ret;
	memcpy(c->wbuf + c->wlen, m->buf, m->len);
	/* The header is (re)written in the copy, so a message queued without proto_finish()
	 * still goes out valid. */
	write_header(c->wbuf + c->wlen, m->type, m->len);
	c->wlen += m->len;
	return 0;
}

int proto_conn_take(struct proto_conn *c, struct proto_conn *from)
{
	int ret;

	if (!from->wlen)
		return 0;
	ret = grow(&c->wbuf, &c->wcap, c->wlen + from->wlen);
	if (ret)
		return ret;
	memcpy(c->wbuf + c->wlen, from->wbuf, from->wlen);
	c->wlen += from->wlen;
	from->wlen = 0;
	return 0;
}

/* write() that never raises SIGPIPE on a socket whose peer went away. */
static ssize_t write_nosig(int fd, const void *buf, size_t n)
{
	ssize_t r = send(fd, buf, n, MSG_NOSIGNAL);

	if (r < 0 && errno == ENOTSOCK)
		r = write(fd, buf, n);
	return r;
}

int proto_conn_flush(struct proto_conn *c)
{
	size_t off = 0;

	while (off < c->wlen) {
		ssize_t r = write_nosig(c->fd, c->wbuf + off, c->wlen - off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		off += (size_t)r;
	}
	c->wlen -= off;
	memmove(c->wbuf, c->wbuf + off, c->wlen);
	return c->wlen ? 1 : 0;
}

/* ---- blocking helpers -------------------------------------------------------------------- */


/* Wait for events on fd until the deadline (-1: none). Returns 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r, tmo;

	for (;;) {
		tmo = -1;
		if (deadline >= 0) {
			long left = deadline - mono_now_ms();

			if (left <= 0)
				return -ETIMEDOUT;
			tmo = (int)left;
		}
		r = poll(&p, 1, tmo);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int proto_send(int fd, struct proto_msg *m)
{
	size_t off = 0;
	int ret = proto_finish(m);

	if (ret)
		return ret;
	while (off < m->len) {
		ssize_t r = write_nosig(fd, m->buf + off, m->len - off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				ret = wait_fd(fd, POLLOUT, -1);
				if (ret)
					return ret;
				continue;
			}
			return -errno;
		}
		off += (size_t)r;
	}
	return 0;
}

static int read_full(int fd, uint8_t *buf, size_t n, long deadline)
{
	size_t off = 0;

	while (off < n) {
		int ret = wait_fd(fd, POLLIN, deadline);
		ssize_t r;

		if (ret)
			return ret;
		r = read(fd, buf + off, n - off);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ECONNRESET;
		off += (size_t)r;
	}
	return 0;
}

int proto_recv(int fd, struct proto_in *in, int timeout_ms, const char **why)
{
	uint8_t hdr[PROTO_HDR_SIZE];
	long deadline = timeout_ms < 0 ? -1 : mono_now_ms() + timeout_ms;
	uint8_t *payload;
	uint16_t type;
	long plen;
	int ret;

	*why = NULL;
	memset(in, 0, sizeof(*in));
	ret = read_full(fd, hdr, sizeof(hdr), deadline);
	if (ret) {
		*why = ret == -ETIMEDOUT ? "timed out" : ret == -ECONNRESET ? "connection closed"
									    : "read failed";
		return ret;
	}
	plen = proto_check_header(hdr, &type);
	if (plen < 0) {
		*why = header_why(hdr, plen);
		return (int)plen;
	}
	payload = malloc(plen ? (size_t)plen : 1);
	if (!payload) {
		*why = "out of memory";
		return -ENOMEM;
	}
	ret = read_full(fd, payload, (size_t)plen, deadline);
	if (ret) {
		free(payload);
		*why = ret == -ETIMEDOUT ? "timed out" : "truncated message";
		return ret;
	}
	return proto_parse(type, payload, (uint32_t)plen, in, why);
}
