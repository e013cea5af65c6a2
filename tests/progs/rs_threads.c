/*
 * Restart test program: many threads with TLS, a shared mutex, and FPU/SSE/AVX state, its own
 * oracle.
 *
 *   rs_threads READYFILE LIMIT
 *
 * NTHREADS workers each keep a thread-local counter, their tid, and a double accumulator in
 * registers across each step; under a mutex they bump a shared counter. The main thread
 * prints "count N" per step (20 ms apart) and checks that the shared counter equals the sum
 * of the thread-local ones, that every worker still has its tid, and that the arithmetic each
 * worker does in its vector registers gives what it gave before. Each worker names itself
 * ("worker-I") and checks its name at every step, as ps and top show it. PASS at LIMIT.
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 8

static __thread long tls_count;
static __thread pid_t tls_tid;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long shared_count;
static long counts[NTHREADS];
static pid_t tids[NTHREADS];
static _Atomic int bad;
static _Atomic int stop;

static pid_t my_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void *worker(void *arg)
{
	long i = (long)arg;
	/* A value that lives in an SSE register across the sleep below. */
	__m128d acc = _mm_set_pd(1.0 + (double)i, 2.0);

	char name[16], now[16];

	snprintf(name, sizeof(name), "worker-%ld", i);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	tls_tid = my_tid();
	tids[i] = tls_tid;
	while (!atomic_load(&stop)) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		__m128d before = acc;

		memset(now, 0, sizeof(now));
		if (prctl(PR_GET_NAME, now, 0, 0, 0) || strcmp(now, name))
			atomic_store(&bad, 1);
		acc = _mm_add_pd(acc, _mm_set1_pd(0.5));
		nanosleep(&ts, NULL);
		acc = _mm_sub_pd(acc, _mm_set1_pd(0.5));
		if (_mm_movemask_pd(_mm_cmpeq_pd(acc, before)) != 3 || my_tid() != tls_tid)
			atomic_store(&bad, 1);
		pthread_mutex_lock(&lock);
		tls_count++;
		counts[i] = tls_count;
		shared_count++;
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[NTHREADS];
	pid_t saved[NTHREADS];
	long limit, n, i;
	FILE *f;

	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i))
			return 2;
	for (;;) {
		int all = 1;

		for (i = 0; i < NTHREADS; i++)
			all &= tids[i] != 0;
		if (all)
			break;
		usleep(1000);
	}
	for (i = 0; i < NTHREADS; i++)
		saved[i] = tids[i];
	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	for (n = 1; n <= limit; n++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		long sum = 0;

		pthread_mutex_lock(&lock);
		for (i = 0; i < NTHREADS; i++)
			sum += counts[i];
		if (sum != shared_count) {
			printf("FAIL shared counter %ld, threads say %ld\n", shared_count, sum);
			return 1;
		}
		pthread_mutex_unlock(&lock);
		for (i = 0; i < NTHREADS; i++)
			if (tids[i] != saved[i]) {
				printf("FAIL thread %ld has tid %d, had %d\n", i, tids[i], saved[i]);
				return 1;
			}
		if (atomic_load(&bad)) {
			printf("FAIL a worker lost its registers, its tid or its name\n");
			return 1;
		}
		printf("count %ld\n", n);
		nanosleep(&ts, NULL);
	}
	atomic_store(&stop, 1);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	printf("PASS pid %d threads %d\n", (int)getpid(), NTHREADS);
	return 0;
}
