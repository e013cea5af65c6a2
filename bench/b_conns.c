/*
 * b_conns: a computation holding many TCP connections with data in flight, for the socket
 * checkpoint benchmark (bench/sock_bench.sh).
 *
 *   b_conns NPROCS NCONNS BYTES DIR
 *
 * NPROCS processes (the parent and NPROCS-1 children), each with a listener on 127.0.0.1;
 * process i opens its share of NCONNS connections to process i+1 (round the ring) and
 * accepts as many from process i-1; then writes BYTES on each connection it opened, which
 * nobody reads: the bytes sit in the receivers' queues when a checkpoint comes. Prints
 * "READY" (and creates DIR/ready) once every process is done, then sleeps until DIR/stop
 * exists.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void wait_stop(const char *dir)
{
	char p[4200];
	struct stat st;

	snprintf(p, sizeof(p), "%s/stop", dir);
	while (stat(p, &st)) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
}

int main(int argc, char **argv)
{
	int nprocs, nconns, me = 0, done[2];
	long bytes;
	int *lst;
	struct sockaddr_in *addr;
	char *buf, p[4200];

	if (argc != 5)
		return 2;
	nprocs = atoi(argv[1]);
	nconns = atoi(argv[2]);
	bytes = atol(argv[3]);
	if (nprocs < 2 || nconns < nprocs || bytes < 0 || pipe(done))
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	lst = calloc((size_t)nprocs, sizeof(*lst));
	addr = calloc((size_t)nprocs, sizeof(*addr));
	buf = calloc(1, (size_t)bytes + 1);
	if (!lst || !addr || !buf)
		return 2;
	for (int i = 0; i < nprocs; i++) {
		socklen_t l = sizeof(addr[i]);

		addr[i].sin_family = AF_INET;
		addr[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		lst[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (lst[i] < 0 || bind(lst[i], (struct sockaddr *)&addr[i], sizeof(addr[i])) ||
		    listen(lst[i], 1024) || getsockname(lst[i], (struct sockaddr *)&addr[i], &l))
			return 3;
	}
	for (int i = 1; i < nprocs; i++) {
		pid_t k = fork();

		if (k < 0)
			return 3;
		if (k == 0) {
			me = i;
			break;
		}
	}
	{
		int next = (me + 1) % nprocs, share = nconns / nprocs + (me < nconns % nprocs);
		int in = nconns / nprocs + ((me + nprocs - 1) % nprocs < nconns % nprocs);
		int *out = calloc((size_t)share, sizeof(int));

		if (!out)
			return 3;
		for (int i = 0; i < nprocs; i++)
			if (i != me)
				close(lst[i]);
		for (int c = 0; c < share; c++) {
			out[c] = socket(AF_INET, SOCK_STREAM, 0);
			if (out[c] < 0 || connect(out[c], (struct sockaddr *)&addr[next], sizeof(addr[next])))
				return 4;
		}
		for (int c = 0; c < in; c++)
			if (accept(lst[me], NULL, NULL) < 0)
				return 5;
		for (int c = 0; c < share && bytes; c++) {
			long off = 0;

			while (off < bytes) {
				ssize_t w = write(out[c], buf + off, (size_t)(bytes - off));

				if (w <= 0)
					return 6;
				off += w;
			}
		}
		if (write(done[1], "x", 1) != 1)
			return 7;
	}
	if (me) {
		wait_stop(argv[4]);
		return 0;
	}
	for (int i = 0; i < nprocs; i++) {
		char c;

		if (read(done[0], &c, 1) != 1)
			return 8;
	}
	snprintf(p, sizeof(p), "%s/ready", argv[4]);
	close(open(p, O_WRONLY | O_CREAT, 0644));
	printf("READY\n");
	wait_stop(argv[4]);
	while (wait(NULL) > 0)
		;
	return 0;
}
