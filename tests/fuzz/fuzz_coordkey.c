/*
 * Fuzz target "coordkey": the input is the content of a coordinator key file (coordauth.h),
 * which anyone who can write the file controls. coord_key_parse() must take exactly the one
 * well-formed line and refuse everything else; the key read from an accepted file must be
 * what its hex says. The handshake checks must take any proof text: only the right proof is
 * accepted.
 */
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordauth.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sn[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	static const char cn[] = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
	size_t ml = strlen(COORD_KEY_MAGIC);
	char right[COORD_HEX_LEN + 1], *proof;
	struct coord_key k;

	if (coord_key_parse((const char *)data, size, &k) == 0) {
		/* accepted: exactly the magic, a space, 64 lowercase hex digits, a newline */
		if (size != ml + 1 + COORD_HEX_LEN + 1 || memcmp(data, COORD_KEY_MAGIC, ml) ||
		    data[ml] != ' ' || data[size - 1] != '\n')
			fuzz_fail("a key file of %zu bytes that is not one key line was accepted",
				  size);
		for (size_t i = 0; i < COORD_KEY_LEN; i++) {
			char hex[3];

			snprintf(hex, sizeof(hex), "%02x", k.k[i]);
			if (memcmp(hex, data + ml + 1 + 2 * i, 2))
				fuzz_fail("key byte %zu is not what the file says", i);
		}
		fuzz_accepted++;
	} else {
		memset(&k, 0x5a, sizeof(k));
	}
	/* The input as a proof: accepted only if it is the right one. */
	proof = malloc(size + 1);
	if (!proof)
		fuzz_fail("out of memory");
	memcpy(proof, data, size);
	proof[size] = '\0';
	if (coord_auth_proof(&k, false, sn, cn, right))
		fuzz_fail("no proof for well-formed nonces");
	if (coord_auth_check(&k, false, sn, cn, proof) != (strcmp(proof, right) == 0))
		fuzz_fail("proof check disagrees with the proof");
	if (coord_auth_check(&k, true, sn, cn, right))
		fuzz_fail("the client's proof passed as the coordinator's");
	/* and as nonces: malformed ones give no proof and pass no check */
	if (coord_auth_proof(&k, true, proof, cn, right) == 0 && strlen(proof) != COORD_HEX_LEN)
		fuzz_fail("a proof for a nonce of %zu characters", strlen(proof));
	free(proof);
	return 0;
}
