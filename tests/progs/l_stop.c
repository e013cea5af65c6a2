/*
 * l_stop: counts, so a test can see whether it runs. Every 10 ms it increments a counter and
 * writes it to DIR/count (whole file rewritten in place); it exits 0 once DIR/stop exists.
 * Prints READY after the first count is written.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	char path[4096], stop[4096], buf[32];
	unsigned long n = 0;
	struct stat st;
	int fd, len;

	if (argc != 2) {
		fprintf(stderr, "usage: l_stop DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(path, sizeof(path), "%s/count", argv[1]);
	snprintf(stop, sizeof(stop), "%s/stop", argv[1]);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0) {
		perror(path);
		return 2;
	}
	while (stat(stop, &st) != 0) {
		n++;
		len = snprintf(buf, sizeof(buf), "%20lu\n", n);
		if (pwrite(fd, buf, (size_t)len, 0) != len) {
			perror("pwrite");
			return 2;
		}
		if (n == 1)
			printf("READY\n");
		nanosleep(&ts, NULL);
	}
	return 0;
}
