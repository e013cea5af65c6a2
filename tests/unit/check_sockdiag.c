/*
 * Unit tests of the sock_diag reader (common/sockdiag.c) on sockets of this process: the peers
 * of a socketpair, the bytes queued and a send-side shutdown, a stream whose peer closed, a
 * listener bound to an abstract name with a connection waiting (its connecting socket's inode
 * listed).
 */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sockdiag.h"

static uint32_t ino_of(int fd)
{
	struct stat st;

	ck_assert_int_eq(fstat(fd, &st), 0);
	return (uint32_t)st.st_ino;
}

START_TEST(test_pair_queue_shutdown)
{
	struct sockdiag_unix_set set;
	const struct sockdiag_unix *a, *b;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[1], "hello", 5), 5);
	ck_assert_int_eq(shutdown(sv[1], SHUT_WR), 0);
	ck_assert_int_eq(sockdiag_unix_dump(&set), 0);
	a = sockdiag_unix_find(&set, ino_of(sv[0]));
	b = sockdiag_unix_find(&set, ino_of(sv[1]));
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(a->peer, b->ino);
	ck_assert_uint_eq(b->peer, a->ino);
	ck_assert_uint_eq(a->type, SOCK_STREAM);
	ck_assert_uint_eq(a->rqueue, 5);
	ck_assert_uint_eq(b->shutdown, 2);
	ck_assert_uint_eq(a->shutdown, 1);
	ck_assert_uint_eq(a->name_len, 0);
	sockdiag_unix_free(&set);
	close(sv[1]);
	ck_assert_int_eq(sockdiag_unix_dump(&set), 0);
	a = sockdiag_unix_find(&set, ino_of(sv[0]));
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->peer, 0);
	ck_assert_uint_eq(a->shutdown, 3);
	ck_assert_uint_eq(a->rqueue, 5);
	ck_assert_ptr_null(sockdiag_unix_find(&set, 1));
	sockdiag_unix_free(&set);
	close(sv[0]);
}
END_TEST

START_TEST(test_listener_waiting)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sockdiag_unix_set set;
	const struct sockdiag_unix *l, *c;
	char name[64];
	socklen_t len;
	int lfd, cfd;

	snprintf(name, sizeof(name), "check_sockdiag.%d", (int)getpid());
	memcpy(sa.sun_path + 1, name, strlen(name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	cfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, len), 0);
	ck_assert_int_eq(listen(lfd, 7), 0);
	ck_assert_int_eq(connect(cfd, (struct sockaddr *)&sa, len), 0);
	ck_assert_int_eq(sockdiag_unix_dump(&set), 0);
	l = sockdiag_unix_find(&set, ino_of(lfd));
	c = sockdiag_unix_find(&set, ino_of(cfd));
	ck_assert_ptr_nonnull(l);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(l->state, 10); /* TCP_LISTEN */
	ck_assert_uint_eq(l->wqueue, 7); /* the backlog */
	ck_assert_uint_eq(l->rqueue, 1);
	ck_assert_uint_eq(l->nicons, 1);
	ck_assert_uint_eq(l->icons[0], c->ino);
	ck_assert_uint_eq(l->name_len, 1 + strlen(name));
	ck_assert_int_eq(l->name[0], 0);
	ck_assert_mem_eq(l->name + 1, name, strlen(name));
	ck_assert_uint_eq(c->peer, 0); /* the waiting end has no inode yet */
	sockdiag_unix_free(&set);
	close(cfd);
	close(lfd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sockdiag");
	TCase *tc = tcase_create("unix");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, test_pair_queue_shutdown);
	tcase_add_test(tc, test_listener_waiting);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
