/*
 * b_threads: a process with N threads for the suspend+resume benchmark. Half the threads
 * compute, half sleep 1 ms at a time, so a suspend meets both running and blocked threads.
 * With "blocked" every thread sleeps instead. Prints READY once all run; exits when DIR/stop
 * exists.
 *
 *   b_threads N DIR [blocked]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile int quit;
static volatile int running;
static int all_blocked;

static void *worker(void *arg)
{
	struct timespec ts = { 0, 1000 * 1000 };
	volatile unsigned long x = 1;

	__atomic_add_fetch(&running, 1, __ATOMIC_SEQ_CST);
	while (!quit) {
		if (all_blocked || ((long)arg & 1))
			nanosleep(&ts, NULL);
		else
			for (int i = 0; i < 100000; i++)
				x = x * 6364136223846793005UL + 1;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	char stop[4096];
	struct stat st;
	pthread_t t;
	long i, n;

	if (argc != 3 && !(argc == 4 && !strcmp(argv[3], "blocked"))) {
		fprintf(stderr, "usage: b_threads N DIR [blocked]\n");
		return 2;
	}
	all_blocked = argc == 4;
	n = atol(argv[1]);
	snprintf(stop, sizeof(stop), "%s/stop", argv[2]);
	for (i = 0; i < n - 1; i++)
		pthread_create(&t, NULL, worker, (void *)i);
	while (__atomic_load_n(&running, __ATOMIC_SEQ_CST) < n - 1)
		nanosleep(&ts, NULL);
	printf("READY\n");
	fflush(stdout);
	while (stat(stop, &st) != 0)
		nanosleep(&ts, NULL);
	quit = 1;
	return 0;
}
