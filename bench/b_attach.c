/*
 * b_attach: the process bench/attach_bench.sh attaches to. It touches MIB MiB of memory,
 * starts THREADS-1 threads that wait on a condition variable, prints "READY <pid>" and waits
 * for a line on stdin; then it times ITERATIONS rounds of cheap untrapped syscalls (getppid, a
 * 1-byte pipe write and read, clock_gettime), prints the nanoseconds per round, and exits.
 *
 *   b_attach THREADS MIB ITERATIONS
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int done;

static void *waiter(void *a)
{
	pthread_mutex_lock(&mu);
	while (!done)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return a;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long threads, mib, iters, i;
	pthread_t *tids;
	struct timespec ts;
	long long t0;
	char line[16], c = 'x';
	char *mem;
	int p[2];

	if (argc != 4) {
		fprintf(stderr, "usage: b_attach THREADS MIB ITERATIONS\n");
		return 2;
	}
	threads = atol(argv[1]);
	mib = atol(argv[2]);
	iters = atol(argv[3]);
	mem = malloc((size_t)mib << 20);
	tids = calloc((size_t)(threads > 0 ? threads : 1), sizeof(*tids));
	if (!mem || !tids || pipe(p) < 0) {
		perror("b_attach");
		return 2;
	}
	memset(mem, 0x5a, (size_t)mib << 20);
	for (i = 1; i < threads; i++)
		if (pthread_create(&tids[i], NULL, waiter, NULL) != 0) {
			perror("pthread_create");
			return 2;
		}
	printf("READY %d\n", (int)getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 2;
	t0 = now_ns();
	for (i = 0; i < iters; i++) {
		syscall(SYS_getppid);
		if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1)
			return 2;
		clock_gettime(CLOCK_MONOTONIC, &ts);
	}
	printf("%.1f\n", (double)(now_ns() - t0) / (double)iters);
	pthread_mutex_lock(&mu);
	done = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (i = 1; i < threads; i++)
		pthread_join(tids[i], NULL);
	return mem[((size_t)mib << 20) - 1] == 0x5a ? 0 : 1;
}
