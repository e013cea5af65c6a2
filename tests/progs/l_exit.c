/*
 * l_exit: ends the way it is told, so the tests can check that dmtcp_launch passes exit codes
 * and fatal signals through.
 *
 *   l_exit code N          exit(N)
 *   l_exit signal S        raise(S) with its default action
 *   l_exit threads N CODE  start N threads, then exit(CODE) from a non-main thread
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int code;

static void *spin(void *a)
{
	(void)a;
	for (;;)
		pause();
	return NULL;
}

static void *finisher(void *a)
{
	(void)a;
	exit(code);
}

int main(int argc, char **argv)
{
	pthread_t t;
	int i, n;

	if (argc == 3 && !strcmp(argv[1], "code"))
		return atoi(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "signal")) {
		signal(atoi(argv[2]), SIG_DFL);
		raise(atoi(argv[2]));
		return 100; /* not reached for a fatal signal */
	}
	if (argc == 4 && !strcmp(argv[1], "threads")) {
		n = atoi(argv[2]);
		code = atoi(argv[3]);
		for (i = 0; i < n; i++)
			pthread_create(&t, NULL, spin, NULL);
		pthread_create(&t, NULL, finisher, NULL);
		for (;;)
			pause();
	}
	fprintf(stderr, "usage: l_exit code N | signal S | threads N CODE\n");
	return 2;
}
