/*
 * The coordinator's key and the challenge-response that proves knowledge of it.
 *
 * Every coordinator has a secret: 32 random bytes in a key file only its user can read. Every
 * connection (tracer peers, dmtcp_command, dmtcp_restart) proves it knows the key, and the
 * coordinator proves it back, without sending the key:
 *
 *   client -> coord   HELLO      F_NONCE = cn (32 random bytes, hex) and the usual fields
 *   coord  -> client  CHALLENGE  F_NONCE = sn, F_AUTH = HMAC-SHA256(key, "dmtcp coord" 0 sn cn)
 *   client -> coord   AUTH       F_AUTH = HMAC-SHA256(key, "dmtcp client" 0 sn cn)
 *
 * after which the coordinator acts on the HELLO (WELCOME, REFUSE, commands). A client that
 * sees a wrong coordinator proof stops there: a process of the computation never obeys a
 * coordinator that does not know its key. The labels keep one side's proof from being
 * replayed as the other's; the fresh nonces of both sides keep any proof from being replayed.
 *
 * Where the key file is, for the coordinator on port P (the same lookup on both sides, so our
 * commands of the same user find it without any option):
 *   $DMTCP_COORD_KEY_FILE                 when set: an existing file is used (a key shared by
 *                                         hosts, e.g. on a shared home), else created there
 *   $XDG_RUNTIME_DIR/dmtcp/coord-P.key    when XDG_RUNTIME_DIR is set
 *   /tmp/dmtcp-<uid>/coord-P.key          otherwise
 * The directories are created mode 0700 and must be the user's own; the file is 0600. A key
 * file another user could read, or that holds anything but a key, is refused.
 */
#ifndef DMTCP_COORDAUTH_H
#define DMTCP_COORDAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COORD_KEY_LEN	32
#define COORD_NONCE_LEN 32
#define COORD_HEX_LEN	64 /* hex digits of a nonce or a proof */
#define COORD_KEY_MAGIC "DMTCP-COORD-KEY-1"

struct coord_key {
	uint8_t k[COORD_KEY_LEN];
};

/* The key file's path for the coordinator on port (see above); 0 or -ENAMETOOLONG. */
int coord_key_path(int port, char *buf, size_t n);

/*
 * The coordinator's side: its key for port. DMTCP_COORD_KEY_FILE naming an existing file
 * gives that key; otherwise a new random key is written to the key file (atomically, 0600;
 * an older coordinator's file on the same port is replaced). *created says whether we wrote
 * it (coord_key_remove() at exit). 0, or -errno with err set.
 */
int coord_key_setup(int port, struct coord_key *k, char *path, size_t pathlen, bool *created,
		    char *err, size_t errlen);
/* Remove the key file written by coord_key_setup() if it still holds key k. */
void coord_key_remove(const char *path, const struct coord_key *k);

/* A client's side: read and check the key file for port. 0, or -errno with err set. */
int coord_key_load(int port, struct coord_key *k, char *path, size_t pathlen, char *err,
		   size_t errlen);

/* The text of a key file: "DMTCP-COORD-KEY-1 <64 hex digits>\n"; 0 or -EINVAL. */
int coord_key_parse(const char *text, size_t len, struct coord_key *k);

/* A fresh random nonce, as hex (COORD_HEX_LEN digits and a NUL). */
void coord_nonce_hex(char hex[COORD_HEX_LEN + 1]);

/*
 * The proof of one side (coord_side: the coordinator's, else the client's) for the nonces
 * sn (coordinator) and cn (client), both as hex. 0, or -EINVAL when a nonce is malformed.
 */
int coord_auth_proof(const struct coord_key *k, bool coord_side, const char *sn, const char *cn,
		     char hex[COORD_HEX_LEN + 1]);
/* Whether proof is that side's proof for these nonces (constant-time comparison). */
bool coord_auth_check(const struct coord_key *k, bool coord_side, const char *sn,
		      const char *cn, const char *proof);

#endif
