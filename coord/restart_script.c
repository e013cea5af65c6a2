/*
 * The restart script written after every successful checkpoint:
 * <ckptdir>/dmtcp_restart_script_<compid>.sh (temp name, chmod 755, rename) and the symlink
 * <ckptdir>/dmtcp_restart_script.sh (symlink under a temp name, rename), so that a reader
 * never sees a half-written script or a missing link. The script is plain bash; see
 * docs/dmtcp_coordinator.1 for its options.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coord.h"
#include "log.h"

/* Write s single-quoted for the shell. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* The part of the script that does not depend on the checkpoint: options and launching. */
static const char script_body[] =
	"usage() {\n"
	"\tcat <<EOF\n"
	"Usage: $0 [options]\n"
	"Restart computation $compid (checkpoint $ckpt_number) from its images.\n"
	"  -h, --coord-host HOST   coordinator host (default: $coord_host)\n"
	"  -p, --coord-port PORT   coordinator port (default: $coord_port)\n"
	"  -d, --restartdir DIR    directory holding the images (default: where they were written)\n"
	"  -i, --interval N        checkpoint interval in seconds after restart\n"
	"      --help              this text\n"
	"Environment: DMTCP_RESTART_CMD, the dmtcp_restart to run.\n"
	"Images by host:\n"
	"EOF\n"
	"\tlist_images\n"
	"}\n"
	"\n"
	"list_images() {\n"
	"\tlocal h i\n"
	"\tfor h in $(printf '%s\\n' \"${image_hosts[@]}\" | sort -u); do\n"
	"\t\techo \"  $h:\"\n"
	"\t\tfor i in \"${!image_paths[@]}\"; do\n"
	"\t\t\t[ \"${image_hosts[$i]}\" = \"$h\" ] && echo \"    $(image_path \"${image_paths[$i]}\")\"\n"
	"\t\tdone\n"
	"\tdone\n"
	"}\n"
	"\n"
	"image_path() {\n"
	"\tif [ -n \"$restart_dir\" ]; then echo \"$restart_dir/${1##*/}\"; else echo \"$1\"; fi\n"
	"}\n"
	"\n"
	"die_usage() { echo \"$0: $1\" >&2; echo \"Try '$0 --help'.\" >&2; exit 1; }\n"
	"need_arg() { [ $# -ge 2 ] || die_usage \"option '$1' needs an argument\"; }\n"
	"\n"
	"while [ $# -gt 0 ]; do\n"
	"\tcase $1 in\n"
	"\t-h|--coord-host) need_arg \"$@\"; coord_host=$2; shift 2 ;;\n"
	"\t--coord-host=*) coord_host=${1#*=}; shift ;;\n"
	"\t-p|--coord-port) need_arg \"$@\"; coord_port=$2; shift 2 ;;\n"
	"\t--coord-port=*) coord_port=${1#*=}; shift ;;\n"
	"\t-d|--restartdir) need_arg \"$@\"; restart_dir=$2; shift 2 ;;\n"
	"\t--restartdir=*) restart_dir=${1#*=}; shift ;;\n"
	"\t-i|--interval) need_arg \"$@\"; interval=$2; shift 2 ;;\n"
	"\t--interval=*) interval=${1#*=}; shift ;;\n"
	"\t--help) usage; exit 0 ;;\n"
	"\t*) die_usage \"unknown option '$1'\" ;;\n"
	"\tesac\n"
	"done\n"
	"[ -n \"$coord_host\" ] || die_usage \"empty coordinator host\"\n"
	"[[ $coord_port =~ ^[0-9]+$ ]] && [ \"$coord_port\" -le 65535 ] ||\n"
	"\tdie_usage \"coordinator port '$coord_port' is not a number 0..65535\"\n"
	"[ -z \"$interval\" ] || [[ $interval =~ ^[0-9]+$ ]] ||\n"
	"\tdie_usage \"interval '$interval' is not a number of seconds\"\n"
	"if [ -n \"$restart_dir\" ] && [ ! -d \"$restart_dir\" ]; then\n"
	"\tdie_usage \"restart directory '$restart_dir' does not exist\"\n"
	"fi\n"
	"\n"
	"[ ${#image_paths[@]} -gt 0 ] || { echo \"$0: this checkpoint has no images\" >&2; exit 1; }\n"
	"\n"
	"if [ -n \"${DMTCP_RESTART_CMD:-}\" ]; then\n"
	"\trestart_cmd=$DMTCP_RESTART_CMD\n"
	"elif [ -x \"$dmtcp_bin_dir/dmtcp_restart\" ]; then\n"
	"\trestart_cmd=$dmtcp_bin_dir/dmtcp_restart\n"
	"else\n"
	"\trestart_cmd=dmtcp_restart\n"
	"fi\n"
	"\n"
	"local_host=$(uname -n)\n"
	"hosts=$(printf '%s\\n' \"${image_hosts[@]}\" | sort -u)\n"
	"local_images=()\n"
	"remote_pids=()\n"
	"for h in $hosts; do\n"
	"\timgs=()\n"
	"\tfor i in \"${!image_paths[@]}\"; do\n"
	"\t\t[ \"${image_hosts[$i]}\" = \"$h\" ] && imgs+=(\"$(image_path \"${image_paths[$i]}\")\")\n"
	"\tdone\n"
	"\tif [ \"$h\" = \"$local_host\" ]; then\n"
	"\t\tlocal_images=(\"${imgs[@]}\")\n"
	"\t\tcontinue\n"
	"\tfi\n"
	"\t# A loopback coordinator address means nothing on another host: use our name.\n"
	"\tch=$coord_host\n"
	"\tcase $ch in 127.*|localhost|::1) ch=$local_host ;; esac\n"
	"\targs=(--coord-host \"$ch\" --coord-port \"$coord_port\")\n"
	"\t[ -n \"$interval\" ] && args+=(--interval \"$interval\")\n"
	"\techo \"$0: restarting ${#imgs[@]} image(s) on $h\" >&2\n"
	"\tssh \"$h\" \"$(printf '%q ' \"$restart_cmd\" \"${args[@]}\" \"${imgs[@]}\")\" &\n"
	"\tremote_pids+=($!)\n"
	"done\n"
	"\n"
	"rc=0\n"
	"if [ ${#local_images[@]} -gt 0 ]; then\n"
	"\targs=(--coord-host \"$coord_host\" --coord-port \"$coord_port\")\n"
	"\t[ -n \"$interval\" ] && args+=(--interval \"$interval\")\n"
	"\techo \"$0: restarting ${#local_images[@]} image(s) on $local_host\" >&2\n"
	"\t\"$restart_cmd\" \"${args[@]}\" \"${local_images[@]}\"\n"
	"\trc=$?\n"
	"fi\n"
	"for p in \"${remote_pids[@]}\"; do\n"
	"\twait \"$p\" || { r=$?; [ $rc -eq 0 ] && rc=$r; }\n"
	"done\n"
	"exit $rc\n";

static int write_script(struct coord *co, FILE *f)
{
	time_t now = time(NULL);
	char when[64];
	int nimg = 0;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", localtime(&now));
	fprintf(f, "#!/bin/bash\n");
	fprintf(f, "# Restart script for computation %s, checkpoint %llu, written by\n",
		co->compid, (unsigned long long)co->ckpt_count);
	fprintf(f, "# dmtcp_coordinator (pid %d) on %s at %s.\n", (int)getpid(), co->host, when);
	fprintf(f, "# Run it to restart the computation; '--help' lists its options.\n");
	fprintf(f, "set -u\n\n");
	fprintf(f, "compid=");
	put_quoted(f, co->compid);
	fprintf(f, "\nckpt_number=%llu\n", (unsigned long long)co->ckpt_count);
	fprintf(f, "coord_host=");
	put_quoted(f, co->host);
	fprintf(f, "\ncoord_port=%d\n", co->port);
	fprintf(f, "interval=\n");
	fprintf(f, "restart_dir=\n");
	fprintf(f, "# The dmtcp_restart next to the coordinator that wrote this, if it is there.\n");
	fprintf(f, "dmtcp_bin_dir=");
	put_quoted(f, co->self_dir);
	fprintf(f, "\n\n# One entry per process image: the host it ran on, and the image.\n");
	fprintf(f, "image_hosts=(\n");
	for (struct conn *c = co->conns; c; c = c->next) {
		if (c->role != ROLE_PEER || c->dead || !c->in_run || !c->image)
			continue;
		fprintf(f, "\t");
		put_quoted(f, c->host);
		fprintf(f, "\n");
		nimg++;
	}
	fprintf(f, ")\nimage_paths=(\n");
	for (struct conn *c = co->conns; c; c = c->next) {
		if (c->role != ROLE_PEER || c->dead || !c->in_run || !c->image)
			continue;
		fprintf(f, "\t");
		put_quoted(f, c->image);
		fprintf(f, "\n");
	}
	fprintf(f, ")\n\n");
	fputs(script_body, f);
	return nimg;
}

int coord_write_restart_script(struct coord *co)
{
	char path[PATH_MAX], tmp[PATH_MAX], link[PATH_MAX], ltmp[PATH_MAX], name[128];
	int fd, nimg, ret = 0;
	FILE *f;

	snprintf(name, sizeof(name), "dmtcp_restart_script_%s.sh", co->compid);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", co->o.ckptdir, name) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.%d", co->o.ckptdir, name,
			     (int)getpid()) >= sizeof(tmp) ||
	    (size_t)snprintf(link, sizeof(link), "%s/dmtcp_restart_script.sh", co->o.ckptdir) >=
		    sizeof(link) ||
	    (size_t)snprintf(ltmp, sizeof(ltmp), "%s/.dmtcp_restart_script.sh.tmp.%d",
			     co->o.ckptdir, (int)getpid()) >= sizeof(ltmp)) {
		pr_err("checkpoint directory name too long for the restart script: %s",
		       co->o.ckptdir);
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (fd < 0) {
		ret = -errno;
		pr_err("cannot create restart script %s: %s", tmp, strerror(errno));
		return ret;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		unlink(tmp);
		pr_err("cannot write restart script %s: %s", tmp, strerror(-ret));
		return ret;
	}
	errno = 0;
	nimg = write_script(co, f);
	/*
	 * A write that failed inside fprintf() (its full buffer flushed on the way: a full
	 * disk) leaves only the stream's error flag, and fflush() may find nothing left to
	 * write and succeed: without ferror() an empty script replaced the previous one. The
	 * umask may have taken bits off the mode given to open().
	 */
	if (fflush(f) || ferror(f) || fchmod(fd, 0755) || fsync(fd))
		ret = errno ? -errno : -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		pr_err("cannot write restart script %s: %s", path, strerror(-ret));
		unlink(tmp);
		return ret;
	}
	unlink(ltmp);
	if (symlink(name, ltmp) || rename(ltmp, link)) {
		ret = -errno;
		pr_err("cannot update the symlink %s: %s", link, strerror(-ret));
		unlink(ltmp);
		return ret;
	}
	snprintf(co->last_script, sizeof(co->last_script), "%s", path);
	pr_info("restart script %s written (%d images)", path, nimg);
	return 0;
}
