/*
 * The restorer's vdso handling: move the current [vvar]/[vvar_vclock]/[vdso] block, and (proxy
 * path) patch the saved vdso's entry points to jump into the current one.
 *
 * The block's parts are separate mappings that must keep their distances (the vdso code reads
 * the vvar pages at fixed offsets from itself). mremap() moves one vma at a time and refuses a
 * destination that overlaps its source, so every part first goes to a scratch hole inside the
 * restore area and then to its place at dest + offset. The kernel's mremap hook on [vdso]
 * updates the mm's idea of where the vdso is (used for the signal return path of 32-bit tasks
 * and for /proc/PID/maps naming).
 *
 * Patch addresses and targets were computed libc-side (restart/vdso.c, libelf on both images);
 * the blob only writes the jumps.
 */
#include "restorer.h"

#include <linux/mman.h>

#ifndef MREMAP_FIXED
#define MREMAP_FIXED 2
#endif

static void move_parts(struct restore_plan *p, uint64_t to, int from_scratch)
{
	struct rp_vdso *v = &p->vdso;
	long ret;

	for (uint32_t i = 0; i < v->nr_parts; i++) {
		uint64_t src = from_scratch ? v->scratch + v->parts[i].off : v->parts[i].cur_start;
		uint64_t dst = to + v->parts[i].off;

		ret = sys_mremap((void *)src, v->parts[i].len, v->parts[i].len,
				 MREMAP_MAYMOVE | MREMAP_FIXED, (void *)dst);
		if (SYS_ERR(ret))
			restore_fail(p, "mremap vdso block part to", dst, ret);
	}
}

void restore_vdso_move(struct restore_plan *p)
{
	struct rp_vdso *v = &p->vdso;

	if (v->nr_parts == 0 || v->dest == v->parts[0].cur_start - v->parts[0].off)
		return;
	move_parts(p, v->scratch, 0);
	move_parts(p, v->dest, 1);
	restore_log(p, "vdso block now at", v->dest);
}

/*
 * movabs $target, %r11; jmp *%r11 -- 13 bytes. r11 is clobbered by any call (and by the
 * syscall instruction the vdso functions fall back to), so no caller keeps a value in it.
 */
void restore_vdso_patch(struct restore_plan *p)
{
	struct rp_vdso *v = &p->vdso;

	if (v->mode != RP_VDSO_PROXY)
		return;
	for (uint32_t i = 0; i < v->nr_patches; i++) {
		unsigned char *at = (unsigned char *)v->patches[i].at;
		uint64_t target = v->patches[i].target;

		at[0] = 0x49;
		at[1] = 0xbb;
		for (int b = 0; b < 8; b++)
			at[2 + b] = (unsigned char)(target >> (8 * b));
		at[10] = 0x41;
		at[11] = 0xff;
		at[12] = 0xe3;
		restore_log(p, "vdso entry patched at", v->patches[i].at);
	}
}
