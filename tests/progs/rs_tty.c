/*
 * Restart test program: a terminal, its own oracle.
 *
 *   rs_tty READYFILE LIMIT
 *
 * Its stdin must be a terminal. It turns ECHO off and sets VMIN to 3 and VTIME to 7 (values no
 * terminal has by default), then at every step (20 ms) checks that stdin is still a terminal
 * with exactly those settings -- after a restart, the restart's own terminal with the saved
 * settings applied -- and prints "count N". PASS at LIMIT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct termios t;
	long limit, n;
	FILE *f;

	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!isatty(0) || tcgetattr(0, &t)) {
		printf("FAIL stdin is not a terminal\n");
		return 1;
	}
	t.c_lflag &= ~ECHO;
	t.c_cc[VMIN] = 3;
	t.c_cc[VTIME] = 7;
	if (tcsetattr(0, TCSANOW, &t))
		return 2;
	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	for (n = 1; n <= limit; n++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		if (!isatty(0) || tcgetattr(0, &t)) {
			printf("FAIL stdin is no longer a terminal at count %ld\n", n);
			return 1;
		}
		if ((t.c_lflag & ECHO) || t.c_cc[VMIN] != 3 || t.c_cc[VTIME] != 7) {
			printf("FAIL terminal settings lost at count %ld: echo %d vmin %d vtime %d\n", n,
			       !!(t.c_lflag & ECHO), t.c_cc[VMIN], t.c_cc[VTIME]);
			return 1;
		}
		printf("count %ld\n", n);
		nanosleep(&ts, NULL);
	}
	printf("PASS pid %d\n", (int)getpid());
	return 0;
}
