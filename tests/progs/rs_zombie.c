/*
 * Restart test program: a zombie child, its own oracle.
 *
 *   rs_zombie READYFILE LIMIT
 *
 * Forks a child that exits with status 7 at once and does not reap it: across checkpoints it
 * must stay a zombie with its pid (waitid WNOWAIT sees it at every step). Prints "count N" per
 * step; at LIMIT reaps it, checks pid and status 7, prints PASS. READYFILE gets its pid and
 * the zombie's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	siginfo_t si;
	long limit, n;
	pid_t z;
	int st;
	FILE *f;

	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	z = fork();
	if (z == 0)
		_exit(7);
	/* Until it has ended (and is left unreaped). */
	if (waitid(P_PID, z, &si, WEXITED | WNOWAIT))
		return 2;
	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n%d\n", (int)getpid(), (int)z);
	fclose(f);
	for (n = 1; n <= limit; n++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		si.si_pid = 0;
		if (waitid(P_PID, z, &si, WEXITED | WNOWAIT | WNOHANG) || si.si_pid != z ||
		    si.si_code != CLD_EXITED || si.si_status != 7) {
			printf("FAIL zombie %d is gone or changed at count %ld\n", (int)z, n);
			return 1;
		}
		printf("count %ld\n", n);
		nanosleep(&ts, NULL);
	}
	if (waitpid(z, &st, 0) != z || !WIFEXITED(st) || WEXITSTATUS(st) != 7) {
		printf("FAIL reaping zombie %d: status 0x%x\n", (int)z, st);
		return 1;
	}
	printf("PASS pid %d zombie %d\n", (int)getpid(), (int)z);
	return 0;
}
