/*
 * Restart test program: huge reservations, mostly untouched, as allocators, JITs and Go's
 * runtime make them. Its own oracle.
 *
 *   rs_noreserve READYFILE LIMIT
 *
 * Maps three regions:
 *   big   2 TiB  read+write, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE
 *   mid  64 GiB  read+write, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE
 *   res   1 TiB  PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS (a Go-style reservation), one page in
 *                its middle made read+write and written
 * and writes distinct contents into the first page, a page in the middle and the last page
 * of big and mid. Then, like rs_counter, it prints "count N" every 20 ms, and at every step
 * checks: the written pages hold their contents, untouched pages next to them and elsewhere
 * read as zero, /proc/self/smaps shows each region at its full length with its permissions
 * and its "nr" (VM_NORESERVE) flag, each region's Rss is a few pages (not its length), and the
 * process's VmRSS stays small. A restart that staged or populated the whole reservation, lost
 * a page, or split or shrank a region prints FAIL and exits 1. After LIMIT steps it prints
 * PASS with its pid and exits 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PG 4096UL

struct region {
	const char *name;
	uint8_t *p;
	size_t len;
	const char *perms; /* as /proc/self/maps shows them */
	int noreserve;
};

/* Contents of a written page: a pattern naming the region and the page's place. */
static uint8_t pat(int region, size_t page, size_t i)
{
	return (uint8_t)(region * 37 + page * 11 + i * 7 + (i >> 8) + 1);
}

static void fill(uint8_t *p, int region, size_t page)
{
	for (size_t i = 0; i < PG; i++)
		p[i] = pat(region, page, i);
}

static int check_page(const uint8_t *p, int region, size_t page, const char *what, long n)
{
	for (size_t i = 0; i < PG; i++)
		if (p[i] != pat(region, page, i)) {
			printf("FAIL count %ld: %s page %zu byte %zu is %#x, expected %#x\n", n, what,
			       page, i, p[i], pat(region, page, i));
			return -1;
		}
	return 0;
}

static int check_zero(const uint8_t *p, const char *what, size_t page, long n)
{
	for (size_t i = 0; i < PG; i++)
		if (p[i]) {
			printf("FAIL count %ld: %s untouched page %zu byte %zu is %#x, not 0\n", n,
			       what, page, i, p[i]);
			return -1;
		}
	return 0;
}

/*
 * One smaps entry: the mapping [s, e) with perms, its Rss in kB and whether VmFlags has "nr".
 * 0 when found, -1 when no entry starts at s.
 */
static int smaps_entry(uintptr_t s, uintptr_t *e, char perms[5], long *rss_kb, int *nr)
{
	char line[512];
	FILE *f = fopen("/proc/self/smaps", "r");
	int in = 0, found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		char pm[5];

		/* a mapping's first line; its "Key: value" lines never parse as a range */
		if (sscanf(line, "%lx-%lx %4s", &a, &b, pm) == 3) {
			in = a == s;
			if (in) {
				*e = b;
				memcpy(perms, pm, 5);
				found = 0;
			}
			continue;
		}
		if (!in)
			continue;
		if (!strncmp(line, "Rss:", 4))
			*rss_kb = atol(line + 4);
		if (!strncmp(line, "VmFlags:", 8))
			*nr = strstr(line, " nr") != NULL;
	}
	fclose(f);
	return found;
}

/* [s, s + len) is one mapping with these perms, Rss at most max_kb, "nr" as expected. */
static int check_map(const char *what, const void *s, size_t len, const char *perms, int nr,
		     long max_kb, long n)
{
	uintptr_t e = 0;
	char pm[5] = "";
	long rss = -1;
	int got_nr = -1;

	if (smaps_entry((uintptr_t)s, &e, pm, &rss, &got_nr)) {
		printf("FAIL count %ld: %s: no mapping starts at %p\n", n, what, s);
		return -1;
	}
	if (e != (uintptr_t)s + len || strcmp(pm, perms) || got_nr != nr || rss < 0 ||
	    rss > max_kb) {
		printf("FAIL count %ld: %s: mapping %p-%#lx %s nr=%d Rss %ld kB; expected "
		       "%p-%#lx %s nr=%d Rss <= %ld kB\n", n, what, s, (unsigned long)e, pm,
		       got_nr, rss, s, (unsigned long)((uintptr_t)s + len), perms, nr, max_kb);
		return -1;
	}
	return 0;
}

static long vm_rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	struct region rg[2] = {
		{ "big", NULL, 2UL << 40, "rw-p", 1 },
		{ "mid", NULL, 64UL << 30, "rw-p", 1 },
	};
	uint8_t *res, *res_mid;
	size_t res_len = 1UL << 40;
	pid_t pid = getpid();
	long limit, n;
	FILE *f;

	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int r = 0; r < 2; r++) {
		size_t np = rg[r].len / PG;

		/* a page of hole either side, so that the kernel merges no two regions */
		rg[r].p = mmap(NULL, rg[r].len + 2 * PG, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (rg[r].p == MAP_FAILED) {
			printf("FAIL cannot map %s (%zu bytes)\n", rg[r].name, rg[r].len);
			return 1;
		}
		munmap(rg[r].p, PG);
		rg[r].p += PG;
		munmap(rg[r].p + rg[r].len, PG);
		fill(rg[r].p, r, 0);
		fill(rg[r].p + np / 2 * PG, r, np / 2);
		fill(rg[r].p + (np - 1) * PG, r, np - 1);
	}
	res = mmap(NULL, res_len + 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED) {
		printf("FAIL cannot reserve %zu bytes\n", res_len);
		return 1;
	}
	munmap(res, PG);
	res += PG;
	munmap(res + res_len, PG);
	res_mid = res + res_len / 2;
	if (mprotect(res_mid, PG, PROT_READ | PROT_WRITE)) {
		printf("FAIL mprotect of the reservation's middle page\n");
		return 1;
	}
	fill(res_mid, 2, 0);
	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n", (int)pid);
	fclose(f);
	for (n = 1; n <= limit; n++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		long rss;

		for (int r = 0; r < 2; r++) {
			size_t np = rg[r].len / PG;
			uint8_t *p = rg[r].p;

			if (check_page(p, r, 0, rg[r].name, n) ||
			    check_page(p + np / 2 * PG, r, np / 2, rg[r].name, n) ||
			    check_page(p + (np - 1) * PG, r, np - 1, rg[r].name, n) ||
			    check_zero(p + PG, rg[r].name, 1, n) ||
			    check_zero(p + (np / 2 - 1) * PG, rg[r].name, np / 2 - 1, n) ||
			    check_zero(p + (np / 2 + 1) * PG, rg[r].name, np / 2 + 1, n) ||
			    check_zero(p + (np / 4) * PG, rg[r].name, np / 4, n) ||
			    check_zero(p + (np - 2) * PG, rg[r].name, np - 2, n))
				return 1;
			/* 3 written pages; the zero page that untouched reads map is not Rss */
			if (check_map(rg[r].name, p, rg[r].len, rg[r].perms, rg[r].noreserve, 64, n))
				return 1;
		}
		if (check_page(res_mid, 2, 0, "reservation", n) ||
		    check_map("reservation below", res, res_len / 2, "---p", 0, 0, n) ||
		    check_map("reservation page", res_mid, PG, "rw-p", 0, 4, n) ||
		    check_map("reservation above", res_mid + PG, res_len / 2 - PG, "---p", 0, 0, n))
			return 1;
		rss = vm_rss_kb();
		if (rss < 0 || rss > 64 * 1024) {
			printf("FAIL count %ld: VmRSS %ld kB\n", n, rss);
			return 1;
		}
		if (getpid() != pid) {
			printf("FAIL pid %d, was %d\n", (int)getpid(), (int)pid);
			return 1;
		}
		printf("count %ld\n", n);
		nanosleep(&ts, NULL);
	}
	printf("PASS pid %d\n", (int)pid);
	return 0;
}
