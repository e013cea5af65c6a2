/*
 * The coordinator's key and its challenge-response (see coordauth.h). HMAC-SHA256, random
 * bytes and constant-time comparison come from libsodium.
 */
#include "coordauth.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_FILE_MAX 256 /* a key file is one short line */

static void init_sodium(void)
{
	static int done;

	/* sodium_init() is idempotent; it fails only without a random source. */
	if (!done && sodium_init() < 0) {
		fprintf(stderr, "dmtcp: libsodium cannot initialise (no random source)\n");
		abort();
	}
	done = 1;
}

int coord_key_path(int port, char *buf, size_t n)
{
	const char *f = getenv("DMTCP_COORD_KEY_FILE");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int w;

	if (f && *f)
		w = snprintf(buf, n, "%s", f);
	else if (xdg && *xdg == '/')
		w = snprintf(buf, n, "%s/dmtcp/coord-%d.key", xdg, port);
	else
		w = snprintf(buf, n, "/tmp/dmtcp-%u/coord-%d.key", (unsigned)geteuid(), port);
	return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

/* The directory of a default key path: ours (created 0700), or refused. */
static int own_dir(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	struct stat st;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int e = errno;

		snprintf(err, errlen, "cannot create the key directory %s: %s", dir, strerror(e));
		return -e;
	}
	if (lstat(dir, &st) < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", dir, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		snprintf(err, errlen,
			 "the key directory %s is not a directory of ours that only we can use "
			 "(owner %u, mode %04o): refusing it",
			 dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

int coord_key_parse(const char *text, size_t len, struct coord_key *k)
{
	size_t ml = strlen(COORD_KEY_MAGIC);
	size_t bin_len = 0;

	/* exactly: magic, one space, 64 hex digits, one newline */
	if (len != ml + 1 + COORD_HEX_LEN + 1 || memcmp(text, COORD_KEY_MAGIC, ml) ||
	    text[ml] != ' ' || text[len - 1] != '\n')
		return -EINVAL;
	for (size_t i = ml + 1; i < len - 1; i++)
		if (!strchr("0123456789abcdef", text[i]) || !text[i])
			return -EINVAL;
	if (sodium_hex2bin(k->k, sizeof(k->k), text + ml + 1, COORD_HEX_LEN, NULL, &bin_len,
			   NULL) ||
	    bin_len != sizeof(k->k))
		return -EINVAL;
	return 0;
}

/* Read path as a key file: ours, private, and a key. */
static int read_key(const char *path, struct coord_key *k, char *err, size_t errlen)
{
	char buf[KEY_FILE_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd, e;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot open the coordinator key file %s: %s", path,
			 strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "the coordinator key file %s is not a regular file", path);
		return -EINVAL;
	}
	if ((st.st_uid != geteuid() && geteuid() != 0) || (st.st_mode & 077)) {
		close(fd);
		snprintf(err, errlen,
			 "the coordinator key file %s is not private to its user (owner %u, mode "
			 "%04o): refusing it",
			 path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	n = read(fd, buf, sizeof(buf));
	e = errno;
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(e));
		return -e;
	}
	if (coord_key_parse(buf, (size_t)n, k)) {
		sodium_memzero(buf, sizeof(buf));
		snprintf(err, errlen, "%s is not a dmtcp coordinator key file (expected one line: %s "
			 "and 64 hex digits)", path, COORD_KEY_MAGIC);
		return -EINVAL;
	}
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

int coord_key_load(int port, struct coord_key *k, char *path, size_t pathlen, char *err,
		   size_t errlen)
{
	if (coord_key_path(port, path, pathlen)) {
		snprintf(err, errlen, "the coordinator key file path is too long");
		return -ENAMETOOLONG;
	}
	return read_key(path, k, err, errlen);
}

/* Write a new key file at path: a temporary file beside it, renamed over it. */
static int write_key(const char *path, const struct coord_key *k, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 32], line[KEY_FILE_MAX];
	size_t len;
	int fd, e;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "the coordinator key file path is too long");
		return -ENAMETOOLONG;
	}
	len = (size_t)snprintf(line, sizeof(line), "%s ", COORD_KEY_MAGIC);
	sodium_bin2hex(line + len, sizeof(line) - len, k->k, sizeof(k->k));
	len += COORD_HEX_LEN;
	line[len++] = '\n';
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot create the coordinator key file %s: %s", tmp,
			 strerror(e));
		return -e;
	}
	if (write(fd, line, len) != (ssize_t)len || fsync(fd) < 0 || close(fd) < 0) {
		e = errno ? errno : EIO;
		close(fd);
		unlink(tmp);
		sodium_memzero(line, sizeof(line));
		snprintf(err, errlen, "cannot write the coordinator key file %s: %s", tmp,
			 strerror(e));
		return -e;
	}
	sodium_memzero(line, sizeof(line));
	if (rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(e));
		return -e;
	}
	return 0;
}

int coord_key_setup(int port, struct coord_key *k, char *path, size_t pathlen, bool *created,
		    char *err, size_t errlen)
{
	const char *f = getenv("DMTCP_COORD_KEY_FILE");
	int r;

	init_sodium();
	*created = false;
	if (coord_key_path(port, path, pathlen)) {
		snprintf(err, errlen, "the coordinator key file path is too long");
		return -ENAMETOOLONG;
	}
	if (f && *f) {
		/* A key the user provides (shared by several hosts) is used as it is. */
		if (access(path, F_OK) == 0)
			return read_key(path, k, err, errlen);
	} else {
		r = own_dir(path, err, errlen);
		if (r)
			return r;
	}
	randombytes_buf(k->k, sizeof(k->k));
	r = write_key(path, k, err, errlen);
	if (!r)
		*created = true;
	return r;
}

void coord_key_remove(const char *path, const struct coord_key *k)
{
	struct coord_key cur;
	char err[256];

	if (read_key(path, &cur, err, sizeof(err)) == 0 &&
	    sodium_memcmp(cur.k, k->k, sizeof(cur.k)) == 0)
		unlink(path);
	sodium_memzero(&cur, sizeof(cur));
}

void coord_nonce_hex(char hex[COORD_HEX_LEN + 1])
{
	uint8_t n[COORD_NONCE_LEN];

	init_sodium();
	randombytes_buf(n, sizeof(n));
	sodium_bin2hex(hex, COORD_HEX_LEN + 1, n, sizeof(n));
}

static int nonce_bin(const char *hex, uint8_t out[COORD_NONCE_LEN])
{
	size_t len = 0;

	if (!hex || strlen(hex) != COORD_HEX_LEN)
		return -EINVAL;
	if (sodium_hex2bin(out, COORD_NONCE_LEN, hex, COORD_HEX_LEN, NULL, &len, NULL) ||
	    len != COORD_NONCE_LEN)
		return -EINVAL;
	return 0;
}

static int proof_bin(const struct coord_key *k, bool coord_side, const char *sn, const char *cn,
		     uint8_t mac[crypto_auth_hmacsha256_BYTES])
{
	static const char coord_label[] = "dmtcp coord", client_label[] = "dmtcp client";
	const char *label = coord_side ? coord_label : client_label;
	crypto_auth_hmacsha256_state st;
	uint8_t s[COORD_NONCE_LEN], c[COORD_NONCE_LEN];

	if (nonce_bin(sn, s) || nonce_bin(cn, c))
		return -EINVAL;
	init_sodium();
	crypto_auth_hmacsha256_init(&st, k->k, sizeof(k->k));
	/* the label with its NUL: no label is a prefix of the other's input */
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)label, strlen(label) + 1);
	crypto_auth_hmacsha256_update(&st, s, sizeof(s));
	crypto_auth_hmacsha256_update(&st, c, sizeof(c));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	return 0;
}

int coord_auth_proof(const struct coord_key *k, bool coord_side, const char *sn, const char *cn,
		     char hex[COORD_HEX_LEN + 1])
{
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	int r = proof_bin(k, coord_side, sn, cn, mac);

	if (r)
		return r;
	sodium_bin2hex(hex, COORD_HEX_LEN + 1, mac, sizeof(mac));
	return 0;
}

bool coord_auth_check(const struct coord_key *k, bool coord_side, const char *sn,
		      const char *cn, const char *proof)
{
	uint8_t mac[crypto_auth_hmacsha256_BYTES], got[crypto_auth_hmacsha256_BYTES];
	size_t len = 0;

	if (!proof || strlen(proof) != COORD_HEX_LEN ||
	    sodium_hex2bin(got, sizeof(got), proof, COORD_HEX_LEN, NULL, &len, NULL) ||
	    len != sizeof(got))
		return false;
	if (proof_bin(k, coord_side, sn, cn, mac))
		return false;
	return crypto_verify_32(mac, got) == 0;
}
