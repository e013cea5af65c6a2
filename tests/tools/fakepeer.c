/*
 * fakepeer: a scripted test client that plays N peers of a computation over N connections to
 * a dmtcp_coordinator, so the coordinator's barriers, aborts, key-value store and restart
 * handling can be tested without a tracer. It prints one event per line on stdout (line
 * buffered) so that tests can wait on them:
 *
 *   welcome I PEER_ID COMPID      refused I REASON        ready (all N welcomed)
 *   barrier I NAME GEN            done I NAME GEN STATUS  image I PATH
 *   kill I                        closed I                all-closed
 *   joined I                      kv I KEY STATUS [VALUE]
 *   holding I NAME GEN            released I NAME GEN
 *   ckpt-id I NAME GEN ID         num-images I NAME GEN N   (what a barrier carried)
 *
 * Options: see usage(). --peer-host HOST:I makes peer I claim to run on HOST.
 * --hold-at BARRIER[:I] makes peer I hold its answer to BARRIER (each time) until fakepeer gets
 * SIGUSR1; while it holds, it reports --hold-why TEXT as its reason (PEER_UPDATE F_WAITING)
 * and, at 'checkpoint', --progress-bytes N as the bytes written so far (CKPT_PROGRESS).
 * --image-bytes N writes images of N bytes; --image-size reports their size (F_IMAGE_SIZE).
 * --late-child makes the peer that joins late (--join-at) claim peer 0 as its parent.
 *
 * It exits 0 once every connection is closed (killed, disconnected on purpose, or closed by
 * the coordinator), 2 on bad usage, 3 when the coordinator cannot be reached.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coordclient.h"
#include "ids.h"
#include "proto.h"

#define MAXP 64

struct peer {
	int fd;
	bool open;
	bool joined;
	uint64_t id;
	char uniq[IDS_MAX];
	char tmp_image[512], image[512];
	int nbarriers; /* barriers received so far */
};

static struct peer peers[MAXP];
static int npeers = 1;
static const char *prog = "fakepeer";
static const char *host_opt;
static int port = -1;
static const char *fail_at, *disconnect_at, *join_at, *image_dir, *restart_compid;
static int fail_peer, disconnect_peer;
static long expect_n;
static const char *kv_puts[16], *kv_gets[16];
static int nputs, ngets;
static bool ckpt_request;
static const char *update_prog;
static const char *peer_host[MAXP];
static long hello_interval = -1;
static const char *hold_at, *hold_why;
static int hold_peer;
static long long progress_bytes = -1, image_bytes = -1;
static bool report_size;
static bool late_child;
/* The answer being held back (--hold-at) until SIGUSR1. */
static struct {
	bool on;
	int i;
	char name[32];
	uint64_t gen;
} held;

static void usage(void)
{
	fprintf(stderr,
		"usage: fakepeer -p PORT [-n N] [--prog NAME] [--fail-at BARRIER[:I]]\n"
		"       [--disconnect-at BARRIER[:I]] [--join-at BARRIER] [--image-dir DIR]\n"
		"       [--restart COMPID] [--kv-put KEY=VALUE]... [--kv-get KEY[:TIMEOUT_MS]]...\n"
		"       [--ckpt-request] [--update-prog NAME] [--expect N] [--peer-host HOST:I]\n"
		"       [--interval N] [--hold-at BARRIER[:I]] [--hold-why TEXT]\n"
		"       [--progress-bytes N] [--image-bytes N] [--image-size] [--late-child]\n");
	exit(2);
}

/* "NAME" or "NAME:I" -> name (static copy) and peer index. */
static const char *split_at(const char *s, int *idx)
{
	char *c = strdup(s), *colon = strchr(c, ':');

	*idx = 0;
	if (colon) {
		*colon = '\0';
		*idx = atoi(colon + 1);
	}
	return c;
}

static int send_msg(int i, struct proto_msg *m)
{
	int ret = proto_send(peers[i].fd, m);

	proto_msg_free(m);
	return ret;
}

static void close_peer(int i, const char *what)
{
	if (!peers[i].open)
		return;
	close(peers[i].fd);
	peers[i].open = false;
	printf("%s %d\n", what, i);
}

static int connect_peer(int i)
{
	struct proto_msg m;
	char host[256] = "localhost";
	int ret;

	peers[i].fd = coord_tcp_connect(host_opt, port, 5000);
	if (peers[i].fd < 0) {
		fprintf(stderr, "fakepeer: cannot connect to %s:%d: %s\n", host_opt, port,
			strerror(-peers[i].fd));
		exit(3);
	}
	peers[i].open = true;
	peers[i].joined = true;
	gethostname(host, sizeof(host) - 1);
	if (peer_host[i])
		snprintf(host, sizeof(host), "%s", peer_host[i]);
	snprintf(peers[i].uniq, sizeof(peers[i].uniq), "%lx-%d-%x", read_hostid(),
		 (int)getpid() * 10 + i, 0xf00 + i);
	proto_msg_init(&m, MSG_HELLO);
	proto_put_str(&m, F_ROLE, "peer");
	proto_put_str(&m, F_PROG, prog);
	proto_put_u64(&m, F_PID, (uint64_t)getpid() * 10 + i);
	/* --late-child: the late joiner says it is a child of peer 0 */
	proto_put_u64(&m, F_PPID, late_child && i == npeers - 1 && i > 0 ? (uint64_t)getpid() * 10
									 : (uint64_t)getppid());
	proto_put_str(&m, F_UNIQUEPID, peers[i].uniq);
	proto_put_str(&m, F_HOST, host);
	proto_put_str(&m, F_STATE, restart_compid ? "RESTARTING" : "RUNNING");
	if (hello_interval >= 0)
		proto_put_u64(&m, F_INTERVAL, (uint64_t)hello_interval);
	if (restart_compid) {
		proto_put_u64(&m, F_RESTART, 1);
		proto_put_str(&m, F_COMPID, restart_compid);
		proto_put_u64(&m, F_NUM_EXPECTED, (uint64_t)expect_n);
	}
	ret = coord_hello(peers[i].fd, host_opt, port, &m);
	proto_msg_free(&m);
	return ret;
}

static void send_done(int i, const char *name, uint64_t gen, int64_t status, const char *reason,
		      const char *image, int64_t image_size)
{
	struct proto_msg m;

	proto_msg_init(&m, MSG_BARRIER_DONE);
	proto_put_str(&m, F_BARRIER, name);
	proto_put_u64(&m, F_GENERATION, gen);
	proto_put_u64(&m, F_STATUS, (uint64_t)status);
	if (reason)
		proto_put_str(&m, F_REASON, reason);
	if (image)
		proto_put_str(&m, F_IMAGE, image);
	if (image && image_size >= 0)
		proto_put_u64(&m, F_IMAGE_SIZE, (uint64_t)image_size);
	if (send_msg(i, &m) == 0)
		printf("done %d %s %llu %lld\n", i, name, (unsigned long long)gen,
		       (long long)status);
}

/* Write a small image under a temporary name; its final name is reported. */
static int write_image(int i, uint64_t gen)
{
	struct peer *p = &peers[i];
	char uniq[IDS_MAX];
	int fd;

	memcpy(uniq, p->uniq, sizeof(uniq));
	snprintf(p->image, sizeof(p->image), "%s/ckpt_%s_%s.dmtcp", image_dir, prog, uniq);
	snprintf(p->tmp_image, sizeof(p->tmp_image), "%s/.ckpt_%s_%s.dmtcp.tmp", image_dir, prog,
		 uniq);
	fd = open(p->tmp_image, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -errno;
	dprintf(fd, "fake image of peer %d, generation %llu\n", i, (unsigned long long)gen);
	for (long long k = 0; image_bytes >= 0 && k < image_bytes; k += 4096) {
		static const char page[4096];
		size_t n = image_bytes - k < 4096 ? (size_t)(image_bytes - k) : 4096;

		if (write(fd, page, n) != (ssize_t)n) {
			close(fd);
			return -EIO;
		}
	}
	close(fd);
	return 0;
}

/* The size of the image written under its temporary name; -1 unless --image-size. */
static int64_t image_size(int i)
{
	struct stat st;

	if (!report_size || stat(peers[i].tmp_image, &st))
		return -1;
	return st.st_size;
}

/* Hold the answer to this barrier back until SIGUSR1 (--hold-at), saying why meanwhile. */
static void hold(int i, const char *name, uint64_t gen)
{
	struct proto_msg m;

	held.on = true;
	held.i = i;
	snprintf(held.name, sizeof(held.name), "%s", name);
	held.gen = gen;
	if (hold_why) {
		proto_msg_init(&m, MSG_PEER_UPDATE);
		proto_put_str(&m, F_WAITING, hold_why);
		send_msg(i, &m);
	}
	if (progress_bytes >= 0 && !strcmp(name, BARRIER_CHECKPOINT)) {
		proto_msg_init(&m, MSG_CKPT_PROGRESS);
		proto_put_u64(&m, F_GENERATION, gen);
		proto_put_u64(&m, F_BYTES, (uint64_t)progress_bytes);
		send_msg(i, &m);
	}
	printf("holding %d %s %llu\n", i, name, (unsigned long long)gen);
}

static void answer(int i, const char *name, uint64_t gen);

static void on_barrier(int i, const struct proto_in *in)
{
	const char *name = proto_get_str(in, F_BARRIER);
	uint64_t gen = 0, v;

	proto_get_u64(in, F_GENERATION, &gen);
	if (!name)
		return;
	printf("barrier %d %s %llu\n", i, name, (unsigned long long)gen);
	if (!proto_get_u64(in, F_CKPT_ID, &v))
		printf("ckpt-id %d %s %llu %016llx\n", i, name, (unsigned long long)gen,
		       (unsigned long long)v);
	if (!proto_get_u64(in, F_NUM_PEERS, &v))
		printf("num-images %d %s %llu %llu\n", i, name, (unsigned long long)gen,
		       (unsigned long long)v);
	peers[i].nbarriers++;
	if (join_at && i == 0 && !peers[npeers - 1].joined && !strcmp(name, join_at)) {
		connect_peer(npeers - 1);
		printf("joined %d\n", npeers - 1);
	}
	if (hold_at && i == hold_peer && !strcmp(name, hold_at) && !held.on) {
		hold(i, name, gen);
		return;
	}
	answer(i, name, gen);
}

static void answer(int i, const char *name, uint64_t gen)
{
	int fail_i, disc_i;
	const char *image = NULL;
	int64_t size = -1;

	fail_i = fail_peer;
	disc_i = disconnect_peer;
	if (disconnect_at && i == disc_i && !strcmp(name, disconnect_at)) {
		close_peer(i, "closed");
		return;
	}
	if (fail_at && i == fail_i && !strcmp(name, fail_at)) {
		send_done(i, name, gen, -EIO, "fakepeer: told to fail here", NULL, -1);
		return;
	}
	if (image_dir && !strcmp(name, BARRIER_CHECKPOINT)) {
		int ret = write_image(i, gen);

		if (ret) {
			send_done(i, name, gen, ret, "cannot write the fake image", NULL, -1);
			return;
		}
		image = peers[i].image;
		size = image_size(i);
	} else if (image_dir && !strcmp(name, BARRIER_COMMIT) && peers[i].tmp_image[0]) {
		if (rename(peers[i].tmp_image, peers[i].image) == 0)
			printf("image %d %s\n", i, peers[i].image);
		peers[i].tmp_image[0] = '\0';
	} else if (!strcmp(name, BARRIER_ABORT) && peers[i].tmp_image[0]) {
		unlink(peers[i].tmp_image);
		peers[i].tmp_image[0] = '\0';
	}
	send_done(i, name, gen, 0, NULL, image, size);
}

/* SIGUSR1: answer the held barrier. */
static void release(int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si) || !held.on)
		return;
	held.on = false;
	printf("released %d %s %llu\n", held.i, held.name, (unsigned long long)held.gen);
	if (peers[held.i].open)
		answer(held.i, held.name, held.gen);
}

static void after_welcome(void)
{
	struct proto_msg m;

	for (int k = 0; k < nputs; k++) {
		char *kv = strdup(kv_puts[k]), *eq = strchr(kv, '=');

		if (!eq)
			usage();
		*eq = '\0';
		proto_msg_init(&m, MSG_KV_PUT);
		proto_put_str(&m, F_KEY, kv);
		proto_put_str(&m, F_VALUE, eq + 1);
		send_msg(0, &m);
		printf("put %s\n", kv);
		free(kv);
	}
	for (int k = 0; k < ngets; k++) {
		char *kv = strdup(kv_gets[k]), *colon = strchr(kv, ':');

		proto_msg_init(&m, MSG_KV_GET);
		if (colon) {
			*colon = '\0';
			proto_put_u64(&m, F_TIMEOUT_MS, strtoull(colon + 1, NULL, 10));
		}
		proto_put_str(&m, F_KEY, kv);
		send_msg(0, &m);
		free(kv);
	}
	if (update_prog) {
		proto_msg_init(&m, MSG_PEER_UPDATE);
		proto_put_str(&m, F_PROG, update_prog);
		send_msg(0, &m);
	}
	if (ckpt_request) {
		proto_msg_init(&m, MSG_CKPT_REQUEST);
		send_msg(0, &m);
		printf("ckpt-request\n");
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'H' },
		{ "num", required_argument, NULL, 'n' },
		{ "prog", required_argument, NULL, 'P' },
		{ "fail-at", required_argument, NULL, 'f' },
		{ "disconnect-at", required_argument, NULL, 'd' },
		{ "join-at", required_argument, NULL, 'j' },
		{ "image-dir", required_argument, NULL, 'I' },
		{ "restart", required_argument, NULL, 'r' },
		{ "kv-put", required_argument, NULL, 'K' },
		{ "kv-get", required_argument, NULL, 'G' },
		{ "ckpt-request", no_argument, NULL, 'C' },
		{ "update-prog", required_argument, NULL, 'U' },
		{ "expect", required_argument, NULL, 'E' },
		{ "peer-host", required_argument, NULL, 'O' },
		{ "interval", required_argument, NULL, 'V' },
		{ "hold-at", required_argument, NULL, 'h' },
		{ "hold-why", required_argument, NULL, 'w' },
		{ "progress-bytes", required_argument, NULL, 'B' },
		{ "image-bytes", required_argument, NULL, 'b' },
		{ "image-size", no_argument, NULL, 'S' },
		{ "late-child", no_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, welcomed = 0, initial, sfd;
	sigset_t usr1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	host_opt = "127.0.0.1";
	while ((opt = getopt_long(argc, argv, "p:n:", lo, NULL)) != -1) {
		switch (opt) {
		case 'p':
			port = coord_parse_port(optarg);
			break;
		case 'H':
			host_opt = optarg;
			break;
		case 'n':
			npeers = atoi(optarg);
			break;
		case 'P':
			prog = optarg;
			break;
		case 'f':
			fail_at = split_at(optarg, &fail_peer);
			break;
		case 'd':
			disconnect_at = split_at(optarg, &disconnect_peer);
			break;
		case 'j':
			join_at = optarg;
			break;
		case 'I':
			image_dir = optarg;
			break;
		case 'r':
			restart_compid = optarg;
			break;
		case 'K':
			if (nputs < 16)
				kv_puts[nputs++] = optarg;
			break;
		case 'G':
			if (ngets < 16)
				kv_gets[ngets++] = optarg;
			break;
		case 'C':
			ckpt_request = true;
			break;
		case 'U':
			update_prog = optarg;
			break;
		case 'E':
			expect_n = atol(optarg);
			break;
		case 'V':
			hello_interval = atol(optarg);
			break;
		case 'h':
			hold_at = split_at(optarg, &hold_peer);
			break;
		case 'w':
			hold_why = optarg;
			break;
		case 'B':
			progress_bytes = atoll(optarg);
			break;
		case 'b':
			image_bytes = atoll(optarg);
			break;
		case 'L':
			late_child = true;
			break;
		case 'S':
			report_size = true;
			break;
		case 'O': {
			int k;
			const char *h = split_at(optarg, &k);

			/* "I:HOST" is written HOST:I here: split_at takes the part after ':'. */
			if (k < 0 || k >= MAXP)
				usage();
			peer_host[k] = h;
			break;
		}
		default:
			usage();
		}
	}
	if (port <= 0 || npeers < 1 || npeers > MAXP || (join_at && npeers < 2))
		usage();
	if (expect_n <= 0)
		expect_n = npeers;
	/* SIGUSR1 releases a held answer; read in the poll loop, never lost between two polls. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	sfd = signalfd(-1, &usr1, SFD_CLOEXEC);
	if (sfd < 0)
		return 1;
	initial = join_at ? npeers - 1 : npeers;
	for (int i = 0; i < initial; i++)
		connect_peer(i);

	for (;;) {
		struct pollfd pf[MAXP + 1];
		int n = 0, idx[MAXP];

		for (int i = 0; i < npeers; i++) {
			if (!peers[i].open)
				continue;
			pf[n] = (struct pollfd){ .fd = peers[i].fd, .events = POLLIN };
			idx[n++] = i;
		}
		if (n == 0) {
			printf("all-closed\n");
			return 0;
		}
		pf[n] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		if (poll(pf, n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pf[n].revents & POLLIN)
			release(sfd);
		for (int k = 0; k < n; k++) {
			int i = idx[k];
			struct proto_in in;
			const char *why;
			uint64_t st = 0;

			if (!pf[k].revents || !peers[i].open)
				continue;
			if (proto_recv(peers[i].fd, &in, 5000, &why)) {
				close_peer(i, "closed");
				continue;
			}
			switch (in.type) {
			case MSG_WELCOME:
				proto_get_u64(&in, F_PEER_ID, &peers[i].id);
				printf("welcome %d %llu %s\n", i, (unsigned long long)peers[i].id,
				       proto_get_str(&in, F_COMPID));
				if (++welcomed == initial) {
					printf("ready\n");
					after_welcome();
				}
				break;
			case MSG_REFUSE:
				printf("refused %d %s\n", i, proto_get_str(&in, F_REASON));
				close_peer(i, "closed");
				break;
			case MSG_BARRIER:
				on_barrier(i, &in);
				break;
			case MSG_KILL:
				close_peer(i, "kill");
				break;
			case MSG_KV_REPLY: {
				const char *v = proto_get_str(&in, F_VALUE);

				proto_get_u64(&in, F_STATUS, &st);
				printf("kv %d %s %lld%s%s\n", i, proto_get_str(&in, F_KEY),
				       (long long)(int64_t)st, v ? " " : "", v ? v : "");
				break;
			}
			default:
				printf("unexpected %d %s\n", i, proto_type_name(in.type));
			}
			proto_in_free(&in);
		}
	}
}
