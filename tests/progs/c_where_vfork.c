/*
 * c_where_vfork DIR: a vfork parent whose child does not exec for a while, for t_coord_where
 * (such a parent cannot be stopped until its child execs or exits, so --where must report the
 * two rather than stop them). The child says "VFORKED PID" and waits, in raw nanosleep calls,
 * until DIR/go exists, then execs /bin/true; the parent then prints PASS when the child ended
 * with 0, and exits 0.
 */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char go[4096], line[64];
	char *const true_argv[] = { "true", NULL };
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int status;
	pid_t kid;

	if (argc != 2) {
		fprintf(stderr, "usage: c_where_vfork DIR\n");
		return 2;
	}
	snprintf(go, sizeof(go), "%s/go", argv[1]);
	kid = vfork();
	if (kid < 0) {
		perror("vfork");
		return 2;
	}
	if (kid == 0) {
		/* Shares the parent's memory: plain system calls only, no stdio. */
		int n = snprintf(line, sizeof(line), "VFORKED %d\n", (int)getpid());

		if (write(STDOUT_FILENO, line, (size_t)n) != n)
			_exit(3);
		while (syscall(SYS_access, go, F_OK) != 0)
			syscall(SYS_nanosleep, &ts, NULL);
		execv("/bin/true", true_argv);
		_exit(4);
	}
	if (waitpid(kid, &status, 0) != kid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("FAIL the child ended with status 0x%x\n", status);
		return 1;
	}
	printf("PASS\n");
	return 0;
}
