/*
 * Restart test program: open files and pipes, its own oracle.
 *
 *   rs_files READYFILE LIMIT
 *
 * Holds, next to its READYFILE: a file it writes to (offset checked), a file opened O_APPEND,
 * a file read at a known offset, a deleted file whose contents only the open fd keeps, a
 * directory fd, O_PATH fds on the directory and on the read file, /dev/null, a pipe to itself with bytes sitting in it, and its own
 * /proc/self/status (a restart reopens it for the restored process: "Pid:" must be its own,
 * never whatever held that pid where the restart ran). Its name (/proc/self/comm, which it
 * sets) and executable (/proc/self/exe) must stay its own too. Each step (20 ms)
 * checks every offset, flag and byte, then prints "count N". PASS at LIMIT.
 */
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		printf("FAIL " __VA_ARGS__);                                                       \
		printf("\n");                                                                      \
		exit(1);                                                                           \
	} while (0)

static char dir[4096];

/* A read-only view of the same file (O_APPEND fds are write-only here). */
static int open_ro(int fd)
{
	static int ro = -1;
	char p[64];

	if (ro < 0) {
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		ro = open(p, O_RDONLY);
	}
	return ro;
}

static void path(char *buf, const char *name)
{
	snprintf(buf, 4200, "%s/%s", dir, name);
}

int main(int argc, char **argv)
{
	char p[4200], buf[256], pipe_data[100];
	int wfd, afd, rfd, dfd, dirfd, nfd, sfd, pfd[2], pipe_pending, opdir, opfile;
	long limit, n;
	off_t woff = 0, aoff;
	struct stat st;
	FILE *f;

	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	{
		char tmp[4096];

		snprintf(tmp, sizeof(tmp), "%s", argv[1]);
		snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	}

	path(p, "rs_files.w");
	wfd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	path(p, "rs_files.a");
	afd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0666);
	path(p, "rs_files.r");
	rfd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0666);
	if (wfd < 0 || afd < 0 || rfd < 0)
		FAIL("open: %m");
	for (int i = 0; i < 1000; i++)
		dprintf(rfd, "line %04d\n", i); /* 10 bytes a line */
	lseek(rfd, 10 * 123, SEEK_SET);
	path(p, "rs_files.deleted");
	dfd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (dfd < 0 || write(dfd, "only the fd knows this\n", 23) != 23 || unlink(p))
		FAIL("deleted file: %m");
	lseek(dfd, 5, SEEK_SET);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	nfd = open("/dev/null", O_WRONLY);
	if (dirfd < 0 || nfd < 0 || pipe(pfd))
		FAIL("dir/null/pipe: %m");
	opdir = open(dir, O_PATH | O_DIRECTORY);
	path(p, "rs_files.r");
	opfile = open(p, O_PATH);
	if (opdir < 0 || opfile < 0)
		FAIL("O_PATH: %m");
	sfd = open("/proc/self/status", O_RDONLY);
	if (sfd < 0)
		FAIL("/proc/self/status: %m");
	char exe0[4096], exe1[4096], comm[32];
	ssize_t exelen = readlink("/proc/self/exe", exe0, sizeof(exe0) - 1);

	if (exelen <= 0)
		FAIL("readlink /proc/self/exe: %m");
	exe0[exelen] = '\0';
	prctl(PR_SET_NAME, "rs-files-named", 0, 0, 0);
	memset(pipe_data, 'p', sizeof(pipe_data));
	if (write(pfd[1], pipe_data, sizeof(pipe_data)) != sizeof(pipe_data))
		FAIL("pipe write");
	pipe_pending = sizeof(pipe_data);
	aoff = 0;

	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	for (n = 1; n <= limit; n++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		char line[32];
		int len = snprintf(line, sizeof(line), "w %ld\n", n);

		if (lseek(wfd, 0, SEEK_CUR) != woff)
			FAIL("write offset %ld, expected %ld", (long)lseek(wfd, 0, SEEK_CUR), (long)woff);
		if (write(wfd, line, len) != len)
			FAIL("write: %m");
		woff += len;
		if (!(fcntl(afd, F_GETFL) & O_APPEND))
			FAIL("O_APPEND lost");
		if (write(afd, line, len) != len)
			FAIL("append: %m");
		/* Appends land at the end, whatever was written there after a checkpoint (file
		 * contents are not part of an image, DMTCP's rule too). */
		if (fstat(afd, &st) || st.st_size < len ||
		    pread(rfd == afd ? afd : open_ro(afd), buf, len, st.st_size - len) != len ||
		    memcmp(buf, line, len))
			FAIL("append did not land at the end of the file");
		aoff += len;
		/* The read fd walks through the lines from line 123 on, wrapping. */
		if (read(rfd, buf, 10) != 10)
			lseek(rfd, 0, SEEK_SET);
		else if (memcmp(buf, "line ", 5))
			FAIL("read file: '%.10s'", buf);
		if (fstat(dfd, &st) || st.st_nlink != 0 || st.st_size != 23)
			FAIL("deleted file: nlink %ld size %ld", (long)st.st_nlink, (long)st.st_size);
		if (pread(dfd, buf, 23, 0) != 23 || memcmp(buf, "only the fd knows this\n", 23))
			FAIL("deleted file contents");
		if (lseek(dfd, 0, SEEK_CUR) != 5)
			FAIL("deleted file offset");
		if (fstat(dirfd, &st) || !S_ISDIR(st.st_mode))
			FAIL("directory fd");
		{
			struct stat rst;

			if (!(fcntl(opdir, F_GETFL) & O_PATH) || !(fcntl(opfile, F_GETFL) & O_PATH))
				FAIL("O_PATH lost");
			if (fstatat(opdir, "rs_files.r", &st, 0) || fstat(rfd, &rst) ||
			    st.st_ino != rst.st_ino)
				FAIL("O_PATH directory fd: %m");
			if (fstat(opfile, &st) || st.st_ino != rst.st_ino)
				FAIL("O_PATH file fd is not the read file");
		}
		if (write(nfd, "x", 1) != 1)
			FAIL("/dev/null");
		/* Take 10 bytes out of the pipe and put 10 back: 100 always sit there. */
		if (read(pfd[0], buf, 10) != 10 || memcmp(buf, pipe_data, 10))
			FAIL("pipe bytes lost");
		if (write(pfd[1], pipe_data, 10) != 10)
			FAIL("pipe write");
		(void)pipe_pending;
		exelen = readlink("/proc/self/exe", exe1, sizeof(exe1) - 1);
		exe1[exelen > 0 ? exelen : 0] = '\0';
		if (strcmp(exe0, exe1))
			FAIL("/proc/self/exe is '%s', was '%s'", exe1, exe0);
		f = fopen("/proc/self/comm", "r");
		if (!f || !fgets(comm, sizeof(comm), f) || strcmp(comm, "rs-files-named\n"))
			FAIL("/proc/self/comm is '%s'", f ? comm : "?");
		fclose(f);
		{
			char status[4096], want[32], *pl;
			ssize_t sn = pread(sfd, status, sizeof(status) - 1, 0);

			if (sn <= 0)
				FAIL("/proc/self/status fd: %m");
			status[sn] = '\0';
			snprintf(want, sizeof(want), "\nPid:\t%d\n", (int)getpid());
			pl = strstr(status, "\nPid:");
			if (!strstr(status, want))
				FAIL("/proc/self/status fd shows '%.16s', not pid %d", pl ? pl + 1 : "?",
				     (int)getpid());
		}
		printf("count %ld\n", n);
		nanosleep(&ts, NULL);
	}
	printf("PASS pid %d\n", (int)getpid());
	return 0;
}
