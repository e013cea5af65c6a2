/*
 * Restart test program: standard streams that follow the restart command, its own oracle.
 *
 *   rs_stdio READYFILE [child]
 *
 * Reads lines from stdin; for each prints "got LINE" to stdout, "err N" to stderr and
 * "dup LINE" to fd 5, a duplicate of stdout made at start. With "child", a child process reads
 * every line from a pipe as its stdin (a pipe inside the computation, not the launch's) and
 * prints "child LINE" to its stdout, inherited from the launch. At the line "quit" it ends,
 * after the child, printing "PASS pid PID". READYFILE gets the pid once all is set up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char line[256];
	int p[2], d, n = 0, st;
	pid_t child = -1;
	FILE *f;

	if (argc < 2)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && !strcmp(argv[2], "child")) {
		if (pipe(p))
			return 2;
		child = fork();
		if (child == 0) {
			dup2(p[0], 0);
			close(p[0]);
			close(p[1]);
			while (fgets(line, sizeof(line), stdin))
				printf("child %s", line);
			_exit(0);
		}
		close(p[0]);
	}
	d = dup2(1, 5);
	if (d != 5)
		return 2;
	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	while (fgets(line, sizeof(line), stdin)) {
		n++;
		printf("got %s", line);
		fprintf(stderr, "err %d\n", n);
		dprintf(d, "dup %s", line);
		if (child > 0 && write(p[1], line, strlen(line)) != (ssize_t)strlen(line))
			return 1;
		if (!strcmp(line, "quit\n"))
			break;
	}
	if (child > 0) {
		close(p[1]);
		if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st)) {
			printf("FAIL the child ended with status %#x\n", st);
			return 1;
		}
	}
	printf("PASS pid %d\n", (int)getpid());
	return 0;
}
