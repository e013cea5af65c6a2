/*
 * Restart test program: a fork tree with a pipeline, its own oracle.
 *
 *   rs_tree READYFILE LIMIT
 *
 * The parent forks a writer and a reader joined by a pipe, in a process group led by the
 * writer, the way a shell runs "writer | reader". The writer sends "seq N" lines every 10 ms;
 * the reader takes one every 20 ms (so bytes are always in flight in the pipe), checks the
 * sequence has no gap or repeat, that its parent, its group and its pid are what they were,
 * and prints "count N" per line. After LIMIT lines the reader exits 0; the parent then stops
 * the writer (SIGTERM, or SIGPIPE if it wrote first), checks both statuses and its own ids,
 * and prints PASS.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void nap(long ms)
{
	struct timespec ts = { 0, ms * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static void writer(int wfd)
{
	char line[32];
	long n;

	for (n = 1;; n++) {
		int len = snprintf(line, sizeof(line), "seq %ld\n", n);

		if (write(wfd, line, len) != len)
			_exit(3);
		nap(10);
	}
}

static int reader(int rfd, long limit, pid_t parent, pid_t group)
{
	FILE *in = fdopen(rfd, "r");
	char line[64];
	pid_t me = getpid();
	long n;

	if (!in)
		return 2;
	for (n = 1; n <= limit; n++) {
		long got;

		if (!fgets(line, sizeof(line), in) || sscanf(line, "seq %ld", &got) != 1) {
			printf("FAIL reader: pipe ended or garbled at %ld\n", n);
			return 1;
		}
		if (got != n) {
			printf("FAIL reader: got seq %ld, expected %ld\n", got, n);
			return 1;
		}
		if (getppid() != parent || getpgrp() != group || getpid() != me) {
			printf("FAIL reader: ppid %d/%d pgid %d/%d pid %d/%d\n", getppid(), parent,
			       getpgrp(), group, getpid(), me);
			return 1;
		}
		printf("count %ld\n", n);
		nap(20);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int p[2], st;
	pid_t me = getpid(), w, r;
	long limit;
	FILE *f;

	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe(p))
		return 2;
	w = fork();
	if (w == 0) {
		close(p[0]);
		setpgid(0, 0);
		writer(p[1]);
	}
	setpgid(w, w);
	r = fork();
	if (r == 0) {
		close(p[1]);
		setpgid(0, w);
		exit(reader(p[0], limit, me, w));
	}
	setpgid(r, w);
	close(p[0]);
	close(p[1]);
	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n%d\n%d\n", (int)me, (int)w, (int)r);
	fclose(f);
	if (waitpid(r, &st, 0) != r || !WIFEXITED(st) || WEXITSTATUS(st)) {
		printf("FAIL reader ended with status 0x%x\n", st);
		kill(w, SIGKILL);
		return 1;
	}
	/* With the reader gone the writer's next line raises SIGPIPE: under load it can come
	 * before this SIGTERM, and is as good (every line it sent was checked by then). */
	kill(w, SIGTERM);
	if (waitpid(w, &st, 0) != w || !WIFSIGNALED(st) ||
	    (WTERMSIG(st) != SIGTERM && WTERMSIG(st) != SIGPIPE)) {
		printf("FAIL writer ended with status 0x%x\n", st);
		return 1;
	}
	if (getpid() != me) {
		printf("FAIL parent pid %d, was %d\n", getpid(), me);
		return 1;
	}
	printf("PASS pid %d writer %d reader %d\n", (int)me, (int)w, (int)r);
	return 0;
}
