/*
 * Launch test program: a parent held in vfork() while a checkpoint waits for it.
 *
 *   l_vfork DIR
 *
 * Prints READY. When DIR/vfork appears, vforks: the child writes DIR/in-vfork, waits (bounded,
 * 60 s) for DIR/go, then execs /bin/true; the parent, which cannot be stopped until then, reaps
 * it and prints "vfork done". Ends with PASS when DIR/stop appears.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[4096];

static int exists(const char *name)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

static void nap(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	char path[4200];
	int st, i;
	pid_t c;

	if (argc != 2)
		return 2;
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("READY\n");
	while (!exists("stop")) {
		if (!exists("vfork")) {
			nap();
			continue;
		}
		snprintf(path, sizeof(path), "%s/vfork", dir);
		unlink(path);
		c = vfork();
		if (c == 0) {
			/* only syscalls here: the parent's stack is ours until exec */
			snprintf(path, sizeof(path), "%s/in-vfork", dir);
			i = open(path, O_WRONLY | O_CREAT, 0644);
			if (i >= 0 && write(i, "1\n", 2) != 2)
				_exit(126);
			close(i);
			for (i = 0; i < 6000 && !exists("go"); i++)
				nap();
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)) {
			printf("FAIL vfork child: %d status 0x%x\n", (int)c, st);
			return 1;
		}
		printf("vfork done\n");
	}
	printf("PASS\n");
	return 0;
}
