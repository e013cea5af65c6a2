/*
 * l_churn: processes and threads born and dying without pause, so that checkpoints meet
 * fork/clone racing with PTRACE_INTERRUPT. The main thread forks children that exit at once
 * (some exec /bin/true first) and reaps them, and runs /bin/true through posix_spawn (a
 * vfork-style clone) every few rounds, and makes sockets (a socketpair a byte goes through, a
 * UDP socket) every round; a second thread creates and joins threads.
 * Until DIR/stop exists. Every fork, exec, wait and join must succeed (no EINTR, no lost
 * child); prints READY after the first rounds and PASS (with the counts) at the end. Every 64
 * forks it writes the count to DIR/forks (the file rewritten in place), so a test can see it
 * go on.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static const char *stopfile;
static volatile int done;
static long nthreads, thread_errors;

static int stopped(void)
{
	struct stat st;

	return stat(stopfile, &st) == 0;
}

/* A socketpair that carries a byte, and a UDP socket: 0, or -1 with errno. */
static int sockets(void)
{
	int sv[2], u;
	char c = 'x';

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (write(sv[0], &c, 1) != 1 || read(sv[1], &c, 1) != 1 || c != 'x') {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[0]);
	close(sv[1]);
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (u < 0)
		return -1;
	close(u);
	return 0;
}

static void *nothing(void *a)
{
	return a;
}

static void *spawner(void *a)
{
	pthread_t t;
	void *ret;

	(void)a;
	while (!done) {
		if (pthread_create(&t, NULL, nothing, (void *)1) != 0 ||
		    pthread_join(t, &ret) != 0 || ret != (void *)1)
			thread_errors++;
		nthreads++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	char path[4096], fpath[4096], buf[32];
	long forks = 0, errors = 0;
	int ffd, len;
	pthread_t sp;
	int st;
	pid_t pid, w;

	if (argc != 2) {
		fprintf(stderr, "usage: l_churn DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(path, sizeof(path), "%s/stop", argv[1]);
	stopfile = path;
	snprintf(fpath, sizeof(fpath), "%s/forks", argv[1]);
	ffd = open(fpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (ffd < 0) {
		perror(fpath);
		return 2;
	}
	pthread_create(&sp, NULL, spawner, NULL);
	while (!stopped()) {
		if (sockets() < 0) {
			printf("FAIL sockets: %s\n", strerror(errno));
			errors++;
			break;
		}
		if (forks % 4 == 1) {
			char *av[] = { (char *)"true", NULL };
			int e = posix_spawn(&pid, "/bin/true", NULL, NULL, av, environ);

			if (e) {
				printf("FAIL posix_spawn: %s\n", strerror(e));
				errors++;
				break;
			}
			goto reap;
		}
		pid = fork();
		if (pid == 0) {
			if (forks % 4 == 3)
				execl("/bin/true", "true", (char *)NULL);
			_exit(0);
		}
		if (pid < 0) {
			printf("FAIL fork: %s\n", strerror(errno));
			errors++;
			break;
		}
reap:
		w = waitpid(pid, &st, 0);
		if (w != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			printf("FAIL waitpid %d: %d status %#x (%s)\n", pid, w, st,
			       w < 0 ? strerror(errno) : "");
			errors++;
		}
		if (++forks == 20)
			printf("READY\n");
		if (forks % 64 == 0) {
			len = snprintf(buf, sizeof(buf), "%20ld\n", forks);
			if (pwrite(ffd, buf, (size_t)len, 0) != len) {
				printf("FAIL pwrite: %s\n", strerror(errno));
				errors++;
				break;
			}
		}
	}
	done = 1;
	pthread_join(sp, NULL);
	printf("forks %ld threads %ld errors %ld thread-errors %ld\n", forks, nthreads, errors,
	       thread_errors);
	printf("%s\n", errors || thread_errors ? "FAIL" : "PASS");
	return errors || thread_errors ? 1 : 0;
}
