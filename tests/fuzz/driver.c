/*
 * The deterministic fuzz driver of `make fuzz-check`: a fixed-seed mutator that needs no
 * fuzzing engine, linked with one target's LLVMFuzzerTestOneInput() (built with gcc, under
 * ASan/UBSan when the compiler has them).
 *
 *	driver [-n CASES] [-s SEED] [-t SECONDS] [-o DIR] NAME CORPUS_DIR...
 *
 * It reads every file of the corpus directories (sorted by name) as a seed, runs each seed as
 * it is, then CASES mutated cases (default 3000): case k takes seed k mod nseeds and applies
 * one to four mutations drawn from a generator seeded with SEED and k, so the same command
 * always runs the same cases. The mutations know the two binary formats well enough to aim:
 * in an image (docs/image-format.md) and in a protocol stream (docs/protocol.md) they find
 * the length, count, offset and size fields and set them to huge, zero, off-by-one or
 * borrowed values; they also flip bits, set bytes to 0, 0xff or random values, truncate,
 * extend, cut out, duplicate and swap whole sections or messages, and, for text, insert the
 * tokens a /proc parser cares about.
 *
 * Each case is written to DIR/NAME.current (default build/fuzz) before it runs: when a case
 * crashes, aborts (a target's oracle), allocates over 16 MiB at once (ASan builds) or hangs
 * past SECONDS (default 10), that file is the input, and the driver says so. At the end it
 * prints one line and removes the file:
 *	fuzz-check NAME: N cases from S seeds (V valid), A accepted, T s
 * (V: seeds the target accepted as they are; A: cases it accepted, seeds included). Exit status 0, or 2 for bad usage or an unreadable corpus.
 */
#include "tests/fuzz/fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image_fmt.h"
#include "proto.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

/*
 * Under ASan an allocation over 16 MiB is an error: the cases are a few KiB to a few hundred
 * KiB, and the readers must not allocate more than the bytes they are given justify (a
 * length or count field is not a reason). ASAN_OPTIONS overrides it.
 */
#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "max_allocation_size_mb=16";
}
#endif

/* libFuzzer calls it when a target has it; so does the driver. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define MAX_SEED_SIZE (4u << 20)
#define MAX_CASE_SIZE (8u << 20)
#define MAX_FIELDS    4096
#define MAX_MARKS     1024

struct seed {
	char *name;
	uint8_t *data;
	size_t len;
};

static const char *case_path, *target_name;
static unsigned long case_no;
static int case_fd = -1;

/* ---- reporting a case that did not come back ------------------------------------------------- */

static void say(const char *s)
{
	if (write(STDERR_FILENO, s, strlen(s)) < 0) {
		/* nothing left to do */
	}
}

static void report_case(const char *what)
{
	char buf[64];

	say("fuzz-check ");
	say(target_name);
	say(": ");
	say(what);
	snprintf(buf, sizeof(buf), " at case %lu; the input is in ", case_no);
	say(buf);
	say(case_path);
	say("\n");
}

static void on_fatal(int sig)
{
	report_case(sig == SIGALRM ? "hang" : "crash");
	if (sig == SIGALRM)
		_exit(1);
	signal(sig, SIG_DFL);
	raise(sig);
}

#if defined(__SANITIZE_ADDRESS__)
static void on_sanitizer_death(void)
{
	report_case("sanitizer error");
}
#endif

static void save_case(const uint8_t *p, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t w = pwrite(case_fd, p + off, n - off, (off_t)off);

		if (w <= 0) {
			perror(case_path);
			exit(2);
		}
		off += (size_t)w;
	}
	/* Cut after writing: truncating to 0 first makes ext4 flush the file on every case. */
	if (ftruncate(case_fd, (off_t)n) < 0) {
		perror(case_path);
		exit(2);
	}
}

/* ---- the corpus ------------------------------------------------------------------------------ */

static int cmp_seed(const void *a, const void *b)
{
	return strcmp(((const struct seed *)a)->name, ((const struct seed *)b)->name);
}

static int read_file(const char *path, struct seed *s)
{
	struct stat st;
	size_t off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > MAX_SEED_SIZE) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	s->len = (size_t)st.st_size;
	s->data = malloc(s->len ? s->len : 1);
	while (s->data && off < s->len) {
		ssize_t n = read(fd, s->data + off, s->len - off);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	if (!s->data || off != s->len) {
		free(s->data);
		return -1;
	}
	s->name = strdup(path);
	return s->name ? 0 : -1;
}

static struct seed *load_corpus(char **dirs, int ndirs, size_t *np)
{
	struct seed *v = NULL;
	size_t n = 0, cap = 0;

	for (int i = 0; i < ndirs; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *e;

		if (!d) {
			if (errno == ENOENT)
				continue; /* a target may have no reproducers yet */
			fprintf(stderr, "driver: %s: %s\n", dirs[i], strerror(errno));
			exit(2);
		}
		while ((e = readdir(d))) {
			char path[4096];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[i], e->d_name);
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				v = realloc(v, cap * sizeof(*v));
				if (!v) {
					fprintf(stderr, "driver: out of memory\n");
					exit(2);
				}
			}
			if (read_file(path, &v[n]) == 0)
				n++;
			else
				fprintf(stderr, "driver: skipping %s (unreadable or over %u bytes)\n",
					path, MAX_SEED_SIZE);
		}
		closedir(d);
	}
	qsort(v, n, sizeof(*v), cmp_seed);
	*np = n;
	return v;
}

/* ---- what the mutations aim at --------------------------------------------------------------- */

struct field {
	size_t off;
	unsigned width; /* 2, 4 or 8 bytes, little-endian */
};

struct shape {
	struct field f[MAX_FIELDS];
	size_t nf;
	size_t mark[MAX_MARKS]; /* starts of sections or messages, and the end */
	size_t nm;
};

static void add_field(struct shape *sh, size_t off, unsigned width, size_t len)
{
	if (sh->nf < MAX_FIELDS && off + width <= len)
		sh->f[sh->nf++] = (struct field){ off, width };
}

static void add_mark(struct shape *sh, size_t off)
{
	if (sh->nm < MAX_MARKS)
		sh->mark[sh->nm++] = off;
}

static void shape_pages(struct shape *sh, const uint8_t *p, size_t base, uint64_t len,
			size_t total)
{
	struct image_pidx t;
	size_t tail = base + len - sizeof(t), runs, chunks;

	if (len < sizeof(t))
		return;
	memcpy(&t, p + tail, sizeof(t));
	for (size_t o = 4; o < 16; o += 4)
		add_field(sh, tail + o, 4, total); /* nruns, nchunks, chunk_size */
	add_field(sh, tail + 16, 8, total);	   /* data_len */
	add_field(sh, tail + 24, 8, total);	   /* raw_len */
	if (t.data_len > len - sizeof(t) ||
	    (uint64_t)t.nruns * 16 + (uint64_t)t.nchunks * 16 > len - sizeof(t) - t.data_len)
		return;
	runs = base + t.data_len;
	chunks = runs + (size_t)t.nruns * 16;
	for (uint32_t i = 0; i < t.nruns && i < 64; i++) {
		add_field(sh, runs + i * 16, 8, total);	    /* vaddr */
		add_field(sh, runs + i * 16 + 8, 8, total); /* npages */
	}
	for (uint32_t i = 0; i < t.nchunks && i < 64; i++) {
		add_field(sh, chunks + i * 16, 4, total);     /* raw_len */
		add_field(sh, chunks + i * 16 + 4, 4, total); /* stored_len */
		add_field(sh, chunks + i * 16 + 8, 4, total); /* comp */
	}
}

static void shape_image(struct shape *sh, const uint8_t *p, size_t len)
{
	struct image_hdr h;
	size_t off = IMAGE_HDR_SIZE;

	memcpy(&h, p, sizeof(h));
	add_field(sh, 8, 4, len);  /* version */
	add_field(sh, 12, 4, len); /* hdr_size */
	add_field(sh, 16, 4, len); /* arch */
	add_field(sh, 24, 4, len); /* page_size */
	add_field(sh, 28, 4, len); /* chunk_size */
	add_field(sh, 40, 8, len); /* file_size */
	add_field(sh, 48, 8, len); /* footer_off */
	add_field(sh, 56, 4, len); /* nsections */
	add_mark(sh, off);
	while (off + sizeof(struct image_sec_hdr) <= len) {
		struct image_sec_hdr s;
		size_t pay = off + sizeof(s);

		memcpy(&s, p + off, sizeof(s));
		if (s.magic != IMAGE_SEC_MAGIC || s.length > len - pay)
			break;
		add_field(sh, off + 4, 4, len);	 /* type */
		add_field(sh, off + 8, 4, len);	 /* kind */
		add_field(sh, off + 12, 4, len); /* index */
		add_field(sh, off + 16, 8, len); /* length */
		if (s.kind == IMAGE_KIND_PAGES)
			shape_pages(sh, p, pay, s.length, len);
		else
			/* Content records start with a count or a version; then anything. */
			for (size_t o = 0; o < s.length && o < 256; o += 4)
				add_field(sh, pay + o, 4, len);
		off = pay + s.length;
		add_mark(sh, off);
	}
	if (h.footer_off < len && (uint64_t)h.nsections * 32 <= len - h.footer_off)
		for (uint32_t i = 0; i < h.nsections && i < 256; i++) {
			size_t e = h.footer_off + (size_t)i * 32;

			add_field(sh, e, 4, len);      /* type */
			add_field(sh, e + 4, 4, len);  /* kind */
			add_field(sh, e + 8, 8, len);  /* offset */
			add_field(sh, e + 16, 8, len); /* length */
		}
	if (len >= 32) {
		add_field(sh, len - 28, 4, len); /* footer nsections */
		add_field(sh, len - 24, 8, len); /* footer_off */
	}
}

static void shape_proto(struct shape *sh, const uint8_t *p, size_t len)
{
	size_t off = 0;

	while (off + PROTO_HDR_SIZE <= len) {
		uint32_t plen, pos;

		add_mark(sh, off);
		add_field(sh, off + 4, 2, len);	 /* version */
		add_field(sh, off + 6, 2, len);	 /* type */
		add_field(sh, off + 8, 4, len);	 /* payload length */
		add_field(sh, off + 12, 4, len); /* reserved */
		memcpy(&plen, p + off + 8, 4);
		if (plen > len - off - PROTO_HDR_SIZE)
			break;
		for (pos = 0; pos + 8 <= plen;) {
			size_t fo = off + PROTO_HDR_SIZE + pos;
			uint32_t flen;

			add_field(sh, fo, 2, len);     /* tag */
			add_field(sh, fo + 2, 2, len); /* kind */
			add_field(sh, fo + 4, 4, len); /* length */
			memcpy(&flen, p + fo + 4, 4);
			if (flen > plen - pos - 8)
				break;
			pos += 8 + flen;
		}
		off += PROTO_HDR_SIZE + plen;
	}
	add_mark(sh, off);
}

static void find_shape(struct shape *sh, const uint8_t *p, size_t len)
{
	uint32_t magic;

	sh->nf = sh->nm = 0;
	if (len >= IMAGE_HDR_SIZE && !memcmp(p, IMAGE_MAGIC, 8)) {
		shape_image(sh, p, len);
		return;
	}
	if (len >= 4) {
		memcpy(&magic, p, 4);
		if (magic == PROTO_MAGIC)
			shape_proto(sh, p, len);
	}
}

/* ---- mutations ------------------------------------------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t len;
};

static uint64_t rng;

static uint64_t rnd(uint64_t n)
{
	return n ? fuzz_rand(&rng) % n : 0;
}

static uint64_t get_le(const uint8_t *p, unsigned w)
{
	uint64_t v = 0;

	for (unsigned i = w; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static void put_le(uint8_t *p, unsigned w, uint64_t v)
{
	for (unsigned i = 0; i < w; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* A value that breaks sizes and offsets: limits, neighbours, the file's own sizes. */
static uint64_t interesting(const struct buf *b, const struct shape *sh, uint64_t cur,
			    unsigned width)
{
	uint64_t max = width == 8 ? UINT64_MAX : (1ull << (8 * width)) - 1;
	uint64_t other;

	switch (rnd(20)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return max;
	case 3: return max - 1;
	case 4: return max >> 1;
	case 5: return (max >> 1) + 1;
	case 6: return cur + 1;
	case 7: return cur - 1;
	case 8: return cur * 2;
	case 9: return cur / 2;
	case 10: return cur + 16 * (1 + rnd(4));
	case 11: return cur - 16 * (1 + rnd(4));
	case 12: return cur + 4096;
	case 13: return cur ^ (1ull << rnd(8 * width));
	case 14: return b->len;
	case 15: return b->len - 32 * rnd(3);
	case 16: return 1ull << 31;
	case 17: return 1ull << (8 * width - 1 - rnd(8));
	case 18:
		if (!sh->nf)
			return cur;
		/* Another field's value: an offset moved to another structure. */
		other = sh->f[rnd(sh->nf)].off;
		return get_le(b->p + other, 4);
	default: return rnd(256) << (8 * rnd(width));
	}
}

static void set_field(struct buf *b, const struct shape *sh)
{
	size_t off;
	unsigned width;

	if (sh->nf && rnd(4)) {
		const struct field *f = &sh->f[rnd(sh->nf)];

		off = f->off;
		width = f->width;
	} else {
		width = rnd(2) ? 4 : 8;
		if (b->len < width)
			return;
		off = rnd(b->len - width + 1) & ~(size_t)(width - 1);
	}
	put_le(b->p + off, width,
	       interesting(b, sh, get_le(b->p + off, width), width));
}

/* [*from, *to): a whole section or message when the input has them, else a random slice. */
static void pick_span(const struct buf *b, const struct shape *sh, size_t *from, size_t *to)
{
	if (sh->nm >= 2 && rnd(2)) {
		size_t i = rnd(sh->nm - 1), j = i + 1 + rnd(sh->nm - 1 - i);

		*from = sh->mark[i];
		*to = sh->mark[j];
		if (*to > b->len)
			*to = b->len;
		if (*from > *to)
			*from = *to;
		return;
	}
	*from = rnd(b->len + 1);
	*to = *from + rnd(b->len - *from < 512 ? b->len - *from + 1 : 513);
}

static int resize(struct buf *b, size_t len)
{
	uint8_t *p;

	if (len > MAX_CASE_SIZE)
		return -1;
	p = realloc(b->p, len ? len : 1);
	if (!p) {
		fprintf(stderr, "driver: out of memory\n");
		exit(2);
	}
	if (len > b->len)
		memset(p + b->len, 0, len - b->len);
	b->p = p;
	b->len = len;
	return 0;
}

/* Inserts n bytes at off (zeros; the caller fills them). */
static int insert_gap(struct buf *b, size_t off, size_t n)
{
	size_t old = b->len;

	if (resize(b, old + n))
		return -1;
	memmove(b->p + off + n, b->p + off, old - off);
	return 0;
}

static void insert_token(struct buf *b)
{
	static const char *const tok[] = {
		" ", ")", "(", ") ", "\n", "-", ":", "\t", "0", "9", "-1", "4294967296",
		"18446744073709551616", "ffffffffffffffffff", "00400000-00401000 r-xp ",
		" 08:01 1234 ", "Tgid:", "SigBlk:\t", "NSpid:\t1 2 3", "(deleted)", "\\012",
		"x) S ", "%s%n",
	};
	const char *t = tok[rnd(sizeof(tok) / sizeof(tok[0]))];
	size_t n = strlen(t), off = rnd(b->len + 1);

	if (!insert_gap(b, off, n))
		memcpy(b->p + off, t, n);
}

static void mutate_once(struct buf *b, int text)
{
	struct shape *sh = malloc(sizeof(*sh));
	size_t from, to, n;

	if (!sh) {
		fprintf(stderr, "driver: out of memory\n");
		exit(2);
	}
	find_shape(sh, b->p, b->len);
	switch (text ? rnd(10) : rnd(11)) {
	case 0: /* flip a bit */
		if (b->len)
			b->p[rnd(b->len)] ^= (uint8_t)(1u << rnd(8));
		break;
	case 1: /* a byte to 0, 0xff or anything */
		if (b->len) {
			uint64_t r = rnd(3);

			b->p[rnd(b->len)] = r == 0 ? 0 : r == 1 ? 0xff : (uint8_t)rnd(256);
		}
		break;
	case 2: /* truncate: anywhere, or at the start or end of a structure */
		if (sh->nm && rnd(2))
			n = sh->mark[rnd(sh->nm)] + rnd(3) - 1;
		else
			n = rnd(b->len + 1);
		if (n <= b->len)
			resize(b, n);
		break;
	case 3: /* extend with zeros, random bytes or a copy of the start */
		n = 1 + rnd(rnd(2) ? 64 : 4096);
		from = b->len;
		if (!resize(b, b->len + n)) {
			uint64_t how = rnd(3);

			for (size_t i = 0; i < n; i++)
				b->p[from + i] = how == 0 ? 0 : how == 1 ? (uint8_t)rnd(256) :
					from ? b->p[i % from] : 0;
		}
		break;
	case 4: /* cut out a section, a message or a slice */
		pick_span(b, sh, &from, &to);
		memmove(b->p + from, b->p + to, b->len - to);
		resize(b, b->len - (to - from));
		break;
	case 5: /* duplicate one */
		pick_span(b, sh, &from, &to);
		n = to - from;
		if (n && !insert_gap(b, to, n))
			memcpy(b->p + to, b->p + from, n);
		break;
	case 6: /* swap two slices of the same length: structures moved */
		if (b->len >= 2) {
			n = 1 + rnd(b->len / 2 < 256 ? b->len / 2 : 256);
			from = rnd(b->len - n + 1);
			to = rnd(b->len - n + 1);
			if (from + n > to && to + n > from)
				break; /* they overlap */
			for (size_t i = 0; i < n; i++) {
				uint8_t t = b->p[from + i];

				b->p[from + i] = b->p[to + i];
				b->p[to + i] = t;
			}
		}
		break;
	case 7: /* insert random bytes */
		n = 1 + rnd(16);
		from = rnd(b->len + 1);
		if (!insert_gap(b, from, n))
			for (size_t i = 0; i < n; i++)
				b->p[from + i] = (uint8_t)rnd(256);
		break;
	case 8:
	case 9:
		if (text)
			insert_token(b);
		else
			set_field(b, sh);
		break;
	default: /* a length, count or offset field: the likeliest, so twice the weight */
		set_field(b, sh);
		break;
	}
	free(sh);
}

static int is_text(const struct seed *s)
{
	size_t n = s->len < 256 ? s->len : 256;

	for (size_t i = 0; i < n; i++)
		if (s->data[i] == 0 || (s->data[i] < 0x20 && s->data[i] != '\n' && s->data[i] != '\t'))
			return 0;
	return 1;
}

/* ---- main ------------------------------------------------------------------------------------ */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run_case(const uint8_t *p, size_t n, unsigned timeout)
{
	save_case(p, n);
	alarm(timeout);
	LLVMFuzzerTestOneInput(p, n);
	alarm(0);
	case_no++;
}

static void usage(void)
{
	fprintf(stderr, "usage: driver [-n CASES] [-s SEED] [-t SECONDS] [-o DIR] NAME "
			"CORPUS_DIR...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long ncases = 3000, valid = 0;
	unsigned long long seed = 0x5eed;
	unsigned timeout = 10;
	const char *outdir = "build/fuzz";
	struct seed *seeds;
	size_t nseeds;
	char path[4096];
	double t0;
	int c;

	while ((c = getopt(argc, argv, "n:s:t:o:")) != -1) {
		switch (c) {
		case 'n': ncases = strtoul(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 't': timeout = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'o': outdir = optarg; break;
		default: usage();
		}
	}
	if (argc - optind < 2)
		usage();
	target_name = argv[optind];
	seeds = load_corpus(argv + optind + 1, argc - optind - 1, &nseeds);
	if (!nseeds) {
		fprintf(stderr, "driver: %s: no seed in the corpus directories\n", target_name);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/%s.current", outdir, target_name);
	case_path = path;
	case_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (case_fd < 0) {
		perror(path);
		return 2;
	}
	signal(SIGALRM, on_fatal);
	signal(SIGABRT, on_fatal);
#if defined(__SANITIZE_ADDRESS__)
	/* ASan reports faults itself (with the stack), then calls this. */
	__sanitizer_set_death_callback(on_sanitizer_death);
#else
	signal(SIGSEGV, on_fatal);
	signal(SIGBUS, on_fatal);
	signal(SIGFPE, on_fatal);
	signal(SIGILL, on_fatal);
#endif
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);

	t0 = now();
	for (size_t i = 0; i < nseeds; i++) {
		unsigned long before = fuzz_accepted;

		run_case(seeds[i].data, seeds[i].len, timeout);
		valid += fuzz_accepted != before;
	}
	for (unsigned long k = 0; k < ncases; k++) {
		const struct seed *s = &seeds[k % nseeds];
		struct buf b = { NULL, 0 };
		int text = is_text(s);
		unsigned nmut;

		rng = fuzz_hash((const uint8_t *)&seed, sizeof(seed)) ^
		      (0x9e3779b97f4a7c15ull * (k + 1));
		fuzz_rand(&rng);
		resize(&b, s->len);
		memcpy(b.p, s->data, s->len);
		nmut = 1 + (rnd(3) ? 0 : (unsigned)rnd(4));
		for (unsigned m = 0; m < nmut; m++)
			mutate_once(&b, text);
		run_case(b.p, b.len, timeout);
		free(b.p);
	}
	printf("fuzz-check %s: %lu cases from %zu seeds (%lu valid), %lu accepted, %.1f s\n",
	       target_name, case_no, nseeds, valid, fuzz_accepted, now() - t0);
	fflush(stdout);
	close(case_fd);
	unlink(path);
	for (size_t i = 0; i < nseeds; i++) {
		free(seeds[i].name);
		free(seeds[i].data);
	}
	free(seeds);
	return 0;
}
