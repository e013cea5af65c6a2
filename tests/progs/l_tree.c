/*
 * l_tree: a fork/exec tree whose shape the tests control.
 *
 *   l_tree DIR N      fork N children that exec "l_tree --child DIR I"; print READY once
 *                     each child has written DIR/child.I.ready; wait for them all; exit 7
 *                     if each exited 0
 *   --child DIR I     write DIR/child.I.ready, then wait (checking every 10 ms) until
 *                     DIR/stop.I or DIR/stop.all exists; exit 0
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int exists(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

static int child_main(const char *dir, const char *idx)
{
	char path[4096], mine[64];
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int fd;

	snprintf(path, sizeof(path), "%s/child.%s.ready", dir, idx);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0 || write(fd, "1\n", 2) != 2 || close(fd) < 0) {
		perror(path);
		return 3;
	}
	snprintf(mine, sizeof(mine), "stop.%s", idx);
	while (!exists(dir, mine) && !exists(dir, "stop.all"))
		nanosleep(&ts, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	char self[4096], idx[16], name[64];
	int i, n, st, bad = 0;
	ssize_t len;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "--child"))
		return child_main(argv[2], argv[3]);
	if (argc != 3) {
		fprintf(stderr, "usage: l_tree DIR N\n");
		return 2;
	}
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0) {
		perror("readlink /proc/self/exe");
		return 2;
	}
	self[len] = '\0';
	n = atoi(argv[2]);
	for (i = 0; i < n; i++) {
		snprintf(idx, sizeof(idx), "%d", i);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0) {
			execl(self, "l_tree", "--child", argv[1], idx, (char *)NULL);
			perror("exec");
			_exit(127);
		}
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "child.%d.ready", i);
		while (!exists(argv[1], name))
			nanosleep(&ts, NULL);
	}
	printf("READY %d\n", getpid());
	for (i = 0; i < n; i++) {
		if (wait(&st) < 0) {
			perror("wait");
			return 2;
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	}
	printf("%s\n", bad ? "FAIL" : "PASS");
	return bad ? 1 : 7;
}
