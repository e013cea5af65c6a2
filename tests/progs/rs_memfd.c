/*
 * Restart test program: memfds across restarts, its own oracle.
 *
 *   rs_memfd READYFILE LIMIT
 *
 * Holds
 *   - a memfd "rs-data" (MFD_ALLOW_SEALING, no seals) of 3 pages of patterned bytes, its
 *     offset at 1234, mapped MAP_SHARED; a child forked once it exists shares the fd (one
 *     description) and the mapping;
 *   - a memfd "rs-sealed" of 100 bytes sealed with F_SEAL_SHRINK, F_SEAL_GROW and
 *     F_SEAL_WRITE;
 *   - a memfd "rs-maponly" of one page, mapped shared (with the child too) and its fd
 *     closed: it must keep its name in /proc/self/maps, and carries the counters too.
 * Every step the parent writes the step number into the third page through the mapping;
 * the child must see it through the mapping and through its fd (pread), and answers with the
 * same number in its own slot, which the parent must see both ways (bounded wait): one object
 * for both fds and both mappings. Both check each step the link text of the fd
 * ("/memfd:rs-data (deleted)"), the seals, sizes, offset, access mode and contents; a write
 * into the sealed one must fail with EPERM.
 * Prints "count N" after each step, "PASS pid P" at LIMIT, "FAIL ..." (exit 1) at the first
 * thing wrong. READYFILE gets its pid once everything is set up.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FAIL(...)                                                                                 \
	do {                                                                                      \
		printf("FAIL %s: ", who);                                                         \
		printf(__VA_ARGS__);                                                              \
		printf("\n");                                                                     \
		exit(1);                                                                          \
	} while (0)

#define PGSZ 4096
#define DATA_LEN (3 * PGSZ)
#define SEALED_LEN 100
#define OFFSET 1234
#define SLOT_PARENT (2 * PGSZ)
#define SLOT_CHILD (2 * PGSZ + 64)
#define PATTERN_END (2 * PGSZ) /* the pattern is checked below, the counters live above */
#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#define DONE UINT64_MAX

static const char *who = "parent";
static int dfd, sfd;
static volatile uint8_t *map, *omap;

/* The mapping at addr is named name in /proc/self/maps. */
static void check_maps_name(const volatile void *addr, const char *name)
{
	char line[512], want[128];
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long start;
	int ok = 0;

	if (!f)
		FAIL("/proc/self/maps: %m");
	snprintf(want, sizeof(want), " %s (deleted)\n", name);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-", &start) == 1 && start == (unsigned long)addr) {
			size_t l = strlen(line), w = strlen(want);

			ok = l > w && !strcmp(line + l - w, want);
			if (!ok)
				FAIL("mapping at %p is '%s', not named %s", (void *)addr, line, name);
		}
	fclose(f);
	if (!ok)
		FAIL("no mapping at %p", (void *)addr);
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

static uint64_t slot_map(size_t off)
{
	return __atomic_load_n((volatile uint64_t *)(map + off), __ATOMIC_ACQUIRE);
}

static uint64_t slot_fd(size_t off)
{
	uint64_t v;

	if (pread(dfd, &v, sizeof(v), (off_t)off) != sizeof(v))
		FAIL("pread of a counter: %m");
	return v;
}

/* Until the slot holds want through the mapping and through the fd; bounded (about 10 s). */
static void wait_slot(size_t off, uint64_t want, const char *what)
{
	struct timespec ms = { 0, 1000000 };

	for (int i = 0; i < 10000; i++) {
		uint64_t m = slot_map(off);

		if (m == want || (want != DONE && m == DONE)) {
			if (m == want && slot_fd(off) != want)
				FAIL("%s: %llu through the mapping but %llu through the fd", what,
				     (unsigned long long)m, (unsigned long long)slot_fd(off));
			return;
		}
		nanosleep(&ms, NULL);
	}
	FAIL("%s: did not become %llu (mapping %llu, fd %llu)", what, (unsigned long long)want,
	     (unsigned long long)slot_map(off), (unsigned long long)slot_fd(off));
}

static void check_fd(int fd, const char *name, unsigned int seals, off_t size, off_t pos)
{
	char proc[64], link[256], want[128];
	struct stat st;
	ssize_t l;
	int s;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	snprintf(want, sizeof(want), "/memfd:%s (deleted)", name);
	l = readlink(proc, link, sizeof(link) - 1);
	if (l < 0)
		FAIL("readlink %s: %m", proc);
	link[l] = 0;
	if (strcmp(link, want))
		FAIL("fd %d is '%s', not '%s'", fd, link, want);
	s = fcntl(fd, F_GET_SEALS);
	if (s < 0 || (unsigned int)s != seals)
		FAIL("%s: seals %#x (%m), not %#x", name, s, seals);
	if (fstat(fd, &st) || st.st_size != size)
		FAIL("%s: size %lld, not %lld", name, (long long)st.st_size, (long long)size);
	if (lseek(fd, 0, SEEK_CUR) != pos)
		FAIL("%s: offset %lld, not %lld", name, (long long)lseek(fd, 0, SEEK_CUR),
		     (long long)pos);
	if ((fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDWR)
		FAIL("%s: not O_RDWR", name);
}

static void check_all(void)
{
	static uint8_t buf[DATA_LEN];

	check_fd(dfd, "rs-data", 0, DATA_LEN, OFFSET);
	check_fd(sfd, "rs-sealed", SEALS, SEALED_LEN, 0);
	if (pread(dfd, buf, PATTERN_END, 0) != PATTERN_END)
		FAIL("rs-data: pread: %m");
	for (size_t i = 0; i < PATTERN_END; i++)
		if (buf[i] != pattern(i) || map[i] != pattern(i))
			FAIL("rs-data: byte %zu is %#x (fd) %#x (mapping), not %#x", i, buf[i],
			     map[i], pattern(i));
	for (size_t i = SLOT_CHILD + 8; i < DATA_LEN; i++)
		if (map[i] != pattern(i))
			FAIL("rs-data: byte %zu of the mapping is %#x, not %#x", i, map[i],
			     pattern(i));
	if (pread(sfd, buf, SEALED_LEN, 0) != SEALED_LEN)
		FAIL("rs-sealed: pread: %m");
	for (size_t i = 0; i < SEALED_LEN; i++)
		if (buf[i] != (uint8_t)(255 - i))
			FAIL("rs-sealed: byte %zu is %#x", i, buf[i]);
	if (pwrite(sfd, "x", 1, 0) >= 0 || errno != EPERM)
		FAIL("rs-sealed: a write did not fail with EPERM (%m)");
	check_maps_name(map, "/memfd:rs-data");
	check_maps_name(omap, "/memfd:rs-maponly");
}

static uint64_t oslot(int i)
{
	return __atomic_load_n((volatile uint64_t *)omap + i, __ATOMIC_ACQUIRE);
}

int main(int argc, char **argv)
{
	struct timespec pace = { 0, 10000000 };
	uint8_t buf[DATA_LEN];
	long limit, n;
	pid_t child;
	FILE *f;
	int st;

	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);

	dfd = memfd_create("rs-data", MFD_ALLOW_SEALING);
	sfd = memfd_create("rs-sealed", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (dfd < 0 || sfd < 0)
		FAIL("memfd_create: %m");
	for (size_t i = 0; i < DATA_LEN; i++)
		buf[i] = pattern(i);
	if (write(dfd, buf, DATA_LEN) != DATA_LEN || lseek(dfd, OFFSET, SEEK_SET) != OFFSET)
		FAIL("rs-data: write: %m");
	map = mmap(NULL, DATA_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	if (map == MAP_FAILED)
		FAIL("mmap: %m");
	for (size_t i = 0; i < SEALED_LEN; i++)
		buf[i] = (uint8_t)(255 - i);
	if (write(sfd, buf, SEALED_LEN) != SEALED_LEN || lseek(sfd, 0, SEEK_SET) != 0 ||
	    fcntl(sfd, F_ADD_SEALS, SEALS))
		FAIL("rs-sealed: %m");
	{
		int ofd = memfd_create("rs-maponly", 0);

		if (ofd < 0 || ftruncate(ofd, PGSZ))
			FAIL("rs-maponly: %m");
		omap = mmap(NULL, PGSZ, PROT_READ | PROT_WRITE, MAP_SHARED, ofd, 0);
		if (omap == MAP_FAILED)
			FAIL("rs-maponly: mmap: %m");
		close(ofd);
	}
	memset((void *)(map + SLOT_PARENT), 0, SLOT_CHILD + 8 - SLOT_PARENT);
	check_all();

	child = fork();
	if (child < 0)
		FAIL("fork: %m");
	if (child == 0) {
		who = "child";
		for (uint64_t k = 1;; k++) {
			wait_slot(SLOT_PARENT, k, "the parent's counter");
			if (slot_map(SLOT_PARENT) == DONE)
				break;
			check_all();
			if (oslot(0) != k)
				FAIL("rs-maponly: the parent's counter is %llu, not %llu",
				     (unsigned long long)oslot(0), (unsigned long long)k);
			__atomic_store_n((volatile uint64_t *)omap + 1, k, __ATOMIC_RELEASE);
			__atomic_store_n((volatile uint64_t *)(map + SLOT_CHILD), k, __ATOMIC_RELEASE);
		}
		check_all();
		_exit(0);
	}

	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	for (n = 1; n <= limit; n++) {
		__atomic_store_n((volatile uint64_t *)omap, (uint64_t)n, __ATOMIC_RELEASE);
		__atomic_store_n((volatile uint64_t *)(map + SLOT_PARENT), (uint64_t)n,
				 __ATOMIC_RELEASE);
		wait_slot(SLOT_CHILD, (uint64_t)n, "the child's counter");
		if (slot_fd(SLOT_PARENT) != (uint64_t)n)
			FAIL("own counter through the fd is %llu, not %ld",
			     (unsigned long long)slot_fd(SLOT_PARENT), n);
		if (oslot(1) != (uint64_t)n)
			FAIL("rs-maponly: the child's counter is %llu, not %ld",
			     (unsigned long long)oslot(1), n);
		check_all();
		printf("count %ld\n", n);
		nanosleep(&pace, NULL); /* pace the steps: room for three checkpoints */
	}
	__atomic_store_n((volatile uint64_t *)(map + SLOT_PARENT), DONE, __ATOMIC_RELEASE);
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st))
		FAIL("the child failed (status %#x)", st);
	printf("PASS pid %d\n", (int)getpid());
	return 0;
}
