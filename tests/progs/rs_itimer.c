/*
 * Restart test program: a periodic ITIMER_REAL caught between expiry and re-arm, its own
 * oracle.
 *
 *   rs_itimer READYFILE LIMIT
 *
 * Blocks SIGALRM and starts a 10 ms interval timer. After its first expiry the SIGALRM stays
 * pending and the kernel does not re-arm the timer until that signal is dequeued: getitimer
 * reads value 0, interval 10 ms; a checkpoint sees exactly that. Prints "count N" per step
 * (checking the interval and the pending SIGALRM each time); at LIMIT unblocks SIGALRM and
 * expects the pending signal and then the timer's ticks: a restart that left the timer unarmed
 * gives one signal and no more. READYFILE gets its pid once the timer is in that state.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t ticks;

static void on_alarm(int sig)
{
	(void)sig;
	ticks++;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int alarm_pending(void)
{
	sigset_t set;

	sigpending(&set);
	return sigismember(&set, SIGALRM);
}

int main(int argc, char **argv)
{
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } };
	struct sigaction sa = { 0 };
	sigset_t set;
	long limit, n;
	FILE *f;
	int i;

	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (setitimer(ITIMER_REAL, &it, NULL))
		return 2;
	for (i = 0; i < 5000 && !alarm_pending(); i++)
		sleep_ms(1);
	getitimer(ITIMER_REAL, &it);
	if (!alarm_pending() || it.it_value.tv_sec || it.it_value.tv_usec) {
		printf("FAIL the timer did not expire into a pending SIGALRM (value %ld us)\n",
		       (long)it.it_value.tv_usec);
		return 1;
	}
	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	for (n = 1; n <= limit; n++) {
		getitimer(ITIMER_REAL, &it);
		if (it.it_interval.tv_sec || it.it_interval.tv_usec != 10000) {
			printf("FAIL ITIMER_REAL interval is %ld us at count %ld\n",
			       (long)it.it_interval.tv_usec, n);
			return 1;
		}
		if (!alarm_pending()) {
			printf("FAIL the pending SIGALRM is gone at count %ld\n", n);
			return 1;
		}
		printf("count %ld\n", n);
		sleep_ms(20);
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	/* The pending one at once, then one per 10 ms: 5 within 5 s even on a loaded machine. */
	for (i = 0; i < 500 && ticks < 5; i++)
		sleep_ms(10);
	if (ticks < 5) {
		printf("FAIL %d SIGALRM after unblocking; the timer stopped\n", (int)ticks);
		return 1;
	}
	printf("PASS pid %d\n", (int)getpid());
	return 0;
}
