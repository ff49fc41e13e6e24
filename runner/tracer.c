// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "runner/tracer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memleak.skel.h"
#include "runner/cfi.h"
#include "runner/resolve.h"

/*
 * A uprobe event created in tracefs, removed again when the tracer is freed. Its BPF
 * program is attached once: the kernel runs it for every perf event of the same probe, so
 * the per-process events only carry their process filter. The attachment is on a perf
 * event of the anchor, a process of ours that never runs the probed code, so that every
 * traced process's events can be closed when its program no longer needs them.
 */
struct uprobe_event {
	char name[32];
	long id;			/* tracepoint id */
	struct bpf_program *prog;
	int retprobe;
	dev_t dev;			/* the probed file and offset: one event per place */
	ino_t ino;
	uint64_t offset;
	struct bpf_link *link;		/* the program, on the anchor's perf event */
};

/* One process's perf event on one uprobe event. */
struct proc_probe {
	int fd;				/* -1: the probe is not in the process */
	int wanted;			/* its program's allocator needs it */
};

/* The probes in one process, indexed like the tracer's uprobe events. */
struct proc_probes {
	pid_t pid;
	size_t n;
	struct proc_probe *p;
};

struct tracer {
	struct tracer_opts opts;
	struct memleak_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link **links;
	size_t nlinks;
	struct uprobe_event *uevents;
	size_t nuevents;
	struct proc_probes *procs;
	size_t nprocs;
	pid_t anchor;			/* holds the programs' perf events; 0: not started */
	/* Rows used in the unwind rows map, and the files whose rows were read (or tried). */
	size_t unwind_used;
	struct unwind_key *unwind_tried;
	size_t nunwind_tried;
	int unwind_full_said;
	int file_key_said;		/* the file_key iterator failed, said once */
	char tracefs[64];
	char group[32];
};

static int verbosity;

/*
 * What libbpf warns of while the programs load: the program the kernel rejected, the
 * verifier's last word on it, libbpf's last warning. The whole log is printed with -v.
 */
static struct {
	int on;
	char prog[128];
	char cause[512];
	char last[512];
} load_log;

/* The last line of a verifier's log that is not its statistics. */
static void verifier_cause(const char *log, const char *end)
{
	for (const char *p = log; p < end; p += strcspn(p, "\n") + 1) {
		int n = (int)strcspn(p, "\n");

		if (p + n > end)
			n = (int)(end - p);
		if (n && strncmp(p, "processed ", 10) && strncmp(p, "verification time", 17) &&
		    strncmp(p, "stack depth", 11))
			snprintf(load_log.cause, sizeof(load_log.cause), "%.*s", n, p);
	}
}

static void keep_load_warning(const char *fmt, va_list args)
{
	static const char begin[] = "-- BEGIN PROG LOAD LOG --\n", failed[] = "': BPF program load failed";
	char *text = NULL, *at, *end, *prog;
	size_t n;

	if (vasprintf(&text, fmt, args) < 0)
		return;
	/* "libbpf: prog 'NAME': BPF program load failed: ..." */
	prog = strstr(text, "prog '");
	at = prog ? strstr(prog, failed) : NULL;
	if (at && !load_log.prog[0])
		snprintf(load_log.prog, sizeof(load_log.prog), "%.*s", (int)(at - prog - 6), prog + 6);
	at = strstr(text, begin);
	end = at ? strstr(at, "-- END PROG LOAD LOG --") : NULL;
	if (at && end && !load_log.cause[0])
		verifier_cause(at + sizeof(begin) - 1, end);
	n = strlen(text);
	while (n && text[n - 1] == '\n')
		n--;
	if (n)
		snprintf(load_log.last, sizeof(load_log.last), "%.*s", (int)n, text);
	free(text);
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && verbosity < 2)
		return 0;
	if (level == LIBBPF_INFO && verbosity < 1)
		return 0;
	if (load_log.on && level == LIBBPF_WARN) {
		va_list copy;

		va_copy(copy, args);
		keep_load_warning(fmt, copy);
		va_end(copy);
		if (verbosity < 1)
			return 0;
	}
	return vfprintf(stderr, fmt, args);
}

/* Why the programs did not load: the rejected program and the verifier's reason. */
static void say_load_failure(int err)
{
	if (load_log.prog[0])
		fprintf(stderr, "memleak: this kernel rejects BPF program %s: %s%s\n", load_log.prog,
			load_log.cause[0] ? load_log.cause : strerror(-err),
			verbosity ? "" : " (-v: the verifier's log)");
	else if (access("/sys/kernel/btf/vmlinux", R_OK))
		fprintf(stderr, "memleak: cannot load the BPF programs: %s (this kernel has no BTF: "
				"/sys/kernel/btf/vmlinux is missing)\n", strerror(-err));
	else
		fprintf(stderr, "memleak: cannot load the BPF programs: %s%s%s\n", strerror(-err),
			load_log.last[0] ? ": " : "", load_log.last);
}

static int add_link(struct tracer *t, struct bpf_link *link)
{
	struct bpf_link **l = realloc(t->links, (t->nlinks + 1) * sizeof(*l));

	if (!l) {
		bpf_link__destroy(link);
		return -ENOMEM;
	}
	t->links = l;
	t->links[t->nlinks++] = link;
	return 0;
}

/* Finds tracefs, mounting it where the system did not (it is not mounted at boot here). */
static int find_tracefs(struct tracer *t)
{
	static const char *const candidates[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[128];

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
			snprintf(path, sizeof(path), "%s/uprobe_events", candidates[i]);
			if (access(path, W_OK) == 0) {
				snprintf(t->tracefs, sizeof(t->tracefs), "%s", candidates[i]);
				return 0;
			}
		}
		if (pass == 0 && mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) && errno != EBUSY) {
			int err = -errno;

			fprintf(stderr, "memleak: cannot mount tracefs on /sys/kernel/tracing: %s\n",
				strerror(-err));
			return err;
		}
	}
	fprintf(stderr, "memleak: no uprobe_events in tracefs: is CONFIG_UPROBE_EVENTS set?\n");
	return -ENOENT;
}

static int write_uprobe_events(struct tracer *t, const char *line)
{
	char path[128];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/uprobe_events", t->tracefs);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, line, strlen(line)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Removes the probe events that tracers which died without cleaning up left behind. */
static void remove_stale_groups(struct tracer *t)
{
	char path[128];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/events", t->tracefs);
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		char sub[512], line[640];
		struct dirent *ev;
		DIR *gdir;
		int pid;

		if (sscanf(de->d_name, "memleak_%d", &pid) != 1 || (kill(pid, 0) && errno == ESRCH) == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		gdir = opendir(sub);
		if (!gdir)
			continue;
		while ((ev = readdir(gdir))) {
			if (ev->d_type != DT_DIR || ev->d_name[0] == '.')
				continue;
			snprintf(line, sizeof(line), "-:%s/%s\n", de->d_name, ev->d_name);
			write_uprobe_events(t, line);
		}
		closedir(gdir);
	}
	closedir(dir);
}

static int read_event_id(struct tracer *t, const char *name, long *id)
{
	char path[256];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/events/%s/%s/id", t->tracefs, t->group, name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ok = fscanf(f, "%ld", id) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

/*
 * The anchor: a child that waits, doing nothing, until the tracer kills it (or its parent
 * dies). It keeps no descriptor of ours, so it holds no pipe open, and is in a session of
 * its own, out of reach of the terminal's signals.
 */
static int start_anchor(struct tracer *t)
{
	pid_t parent = getpid(), pid;
	int devnull;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		t->anchor = pid;
		return 0;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	setsid();
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
	}
	close_range(3, ~0U, 0);
	for (;;)
		pause();
}

static void stop_anchor(struct tracer *t)
{
	if (t->anchor <= 0)
		return;
	kill(t->anchor, SIGKILL);
	while (waitpid(t->anchor, NULL, 0) < 0 && errno == EINTR)
		;
	t->anchor = 0;
}

/* A perf event that enables uprobe event `ue` in process `pid`: a descriptor, or -errno. */
static int open_perf_event(const struct uprobe_event *ue, pid_t pid)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(attr),
		.sample_period = 1,
		.wakeup_events = 1,
		.config = (uint64_t)ue->id,
	};
	int fd = (int)syscall(__NR_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Attaches a new uprobe event's program, on a perf event of the anchor. */
static int attach_event_program(struct tracer *t, struct uprobe_event *ue)
{
	int pfd, err = 0;

	if (!t->anchor)
		err = start_anchor(t);
	if (err) {
		fprintf(stderr, "memleak: cannot start a process to hold the probes: %s\n",
			strerror(-err));
		return err;
	}
	pfd = open_perf_event(ue, t->anchor);
	if (pfd < 0) {
		fprintf(stderr, "memleak: cannot open probe %s: %s\n", ue->name, strerror(-pfd));
		return pfd;
	}
	ue->link = bpf_program__attach_perf_event(ue->prog, pfd);
	if (!ue->link) {
		err = -errno;
		close(pfd);
		fprintf(stderr, "memleak: cannot attach %s: %s\n", bpf_program__name(ue->prog),
			strerror(-err));
	}
	return err;
}

/*
 * The uprobe or uretprobe event at one place of one file, running `prog`: an index into
 * t->uevents, created in tracefs the first time. Places are compared by inode, so two
 * paths to one library (a symbolic link, /proc/PID/root) share their events and a call
 * is never counted twice.
 */
static int find_uprobe_event(struct tracer *t, struct bpf_program *prog, int retprobe,
			     const char *path, uint64_t offset, size_t *index)
{
	struct uprobe_event *ue;
	char line[4352];
	struct stat st;
	int err;

	if (stat(path, &st)) {
		err = -errno;
		fprintf(stderr, "memleak: cannot probe %s: %s\n", path, strerror(-err));
		return err;
	}
	for (size_t i = 0; i < t->nuevents; i++) {
		ue = &t->uevents[i];
		if (ue->dev == st.st_dev && ue->ino == st.st_ino && ue->offset == offset &&
		    ue->retprobe == retprobe && ue->prog == prog) {
			*index = i;
			return 0;
		}
	}
	if (strpbrk(path, " \t\n")) {
		fprintf(stderr, "memleak: cannot probe %s: white space in the path\n", path);
		return -EINVAL;
	}
	ue = realloc(t->uevents, (t->nuevents + 1) * sizeof(*ue));
	if (!ue)
		return -ENOMEM;
	t->uevents = ue;
	ue = &t->uevents[t->nuevents];
	memset(ue, 0, sizeof(*ue));
	snprintf(ue->name, sizeof(ue->name), "%c%zu", retprobe ? 'r' : 'p', t->nuevents);
	ue->prog = prog;
	ue->retprobe = retprobe;
	ue->dev = st.st_dev;
	ue->ino = st.st_ino;
	ue->offset = offset;
	snprintf(line, sizeof(line), "%c:%s/%s %s:0x%llx\n", retprobe ? 'r' : 'p', t->group, ue->name,
		 path, (unsigned long long)offset);
	err = write_uprobe_events(t, line);
	if (err) {
		fprintf(stderr, "memleak: cannot create probe %s:0x%llx: %s\n", path,
			(unsigned long long)offset, strerror(-err));
		return err;
	}
	t->nuevents++;
	*index = t->nuevents - 1;
	err = read_event_id(t, ue->name, &ue->id);
	if (!err)
		err = attach_event_program(t, ue);
	return err;
}

static struct proc_probes *find_proc_probes(struct tracer *t, pid_t pid)
{
	for (size_t i = 0; i < t->nprocs; i++)
		if (t->procs[i].pid == pid)
			return &t->procs[i];
	return NULL;
}

/* A process's probe table, with a slot for every uprobe event. */
static struct proc_probes *get_proc_probes(struct tracer *t, pid_t pid)
{
	struct proc_probes *pp = find_proc_probes(t, pid);
	struct proc_probe *p;

	if (!pp) {
		pp = realloc(t->procs, (t->nprocs + 1) * sizeof(*pp));
		if (!pp)
			return NULL;
		t->procs = pp;
		pp = &t->procs[t->nprocs++];
		memset(pp, 0, sizeof(*pp));
		pp->pid = pid;
	}
	if (pp->n < t->nuevents) {
		p = realloc(pp->p, t->nuevents * sizeof(*p));
		if (!p)
			return NULL;
		for (size_t i = pp->n; i < t->nuevents; i++)
			p[i] = (struct proc_probe){ .fd = -1 };
		pp->p = p;
		pp->n = t->nuevents;
	}
	return pp;
}

/*
 * One probe for one process, through a per-task perf event on its tracefs event. The
 * perf event carries the process filter: the breakpoint is only installed in that
 * process's memory (all its threads share it), so other processes that map the same
 * file pay nothing.
 */
static int open_probe(struct tracer *t, pid_t pid, size_t i, struct proc_probe *p)
{
	int pfd = open_perf_event(&t->uevents[i], pid);

	/* A process killed while it was held is not worth a message. */
	if (pfd < 0 && pfd != -ESRCH)
		fprintf(stderr, "memleak: cannot open probe %s for pid %d: %s\n", t->uevents[i].name,
			pid, strerror(-pfd));
	if (pfd < 0)
		return pfd;
	p->fd = pfd;
	return 0;
}

static void close_probe(struct proc_probe *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

/*
 * Gives a process exactly the probes marked wanted in its table: opens the missing ones,
 * return probes first (an entry without its return would leave state behind), and closes
 * the ones its program no longer needs.
 */
static int apply_probes(struct tracer *t, struct proc_probes *pp)
{
	int err = 0;

	for (int ret = 1; ret >= 0 && !err; ret--) {
		for (size_t i = 0; i < pp->n && !err; i++) {
			if (t->uevents[i].retprobe == ret && pp->p[i].wanted && pp->p[i].fd < 0)
				err = open_probe(t, pp->pid, i, &pp->p[i]);
		}
	}
	for (size_t i = 0; i < pp->n; i++)
		if (!pp->p[i].wanted)
			close_probe(&pp->p[i]);
	return err;
}

static void close_proc_probes(struct proc_probes *pp)
{
	for (size_t i = 0; i < pp->n; i++)
		close_probe(&pp->p[i]);
	free(pp->p);
	pp->p = NULL;
	pp->n = 0;
}

static int event_cb(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;

	if (size < sizeof(struct memleak_event) || !t->opts.on_event)
		return 0;
	return t->opts.on_event(t->opts.event_ctx, data);
}

/* Only the programs a run needs are loaded: the verifier's time is start-up time. */
static void select_programs(struct tracer *t)
{
	struct memleak_bpf *s = t->skel;
	int k = t->opts.kernel;
	struct bpf_program *user[] = {
		s->progs.malloc_enter, s->progs.calloc_enter, s->progs.realloc_enter,
		s->progs.reallocarray_enter, s->progs.posix_memalign_enter,
		s->progs.aligned_alloc_enter, s->progs.memalign_enter, s->progs.valloc_enter,
		s->progs.pvalloc_enter, s->progs.mmap_enter, s->progs.mremap_enter,
		s->progs.alloc_return, s->progs.free_enter, s->progs.munmap_enter,
		s->progs.dlopen_return, s->progs.dlclose_enter, s->progs.new_enter,
		s->progs.delete_enter, s->progs.site_alloc, s->progs.site_free,
		s->progs.site_realloc, s->progs.on_fork,
		s->progs.on_exec, s->progs.on_exit,
	};
	struct bpf_program *kmem[] = {
		s->progs.on_kmalloc, s->progs.on_kfree, s->progs.on_kmem_cache_alloc,
		s->progs.on_kmem_cache_free, s->progs.on_page_alloc, s->progs.on_page_free,
	};
	struct bpf_program *percpu[] = { s->progs.on_percpu_alloc, s->progs.on_percpu_free };

	for (size_t i = 0; i < sizeof(user) / sizeof(user[0]); i++)
		bpf_program__set_autoload(user[i], !k);
	for (size_t i = 0; i < sizeof(kmem) / sizeof(kmem[0]); i++)
		bpf_program__set_autoload(kmem[i], k && !t->opts.percpu);
	for (size_t i = 0; i < sizeof(percpu) / sizeof(percpu[0]); i++)
		bpf_program__set_autoload(percpu[i], k && t->opts.percpu);
	bpf_program__set_autoload(s->progs.exit_enter, !k && t->opts.hold_exits);
	bpf_program__set_autoload(s->progs.exit_called, !k && t->opts.hold_exits);
	bpf_program__set_autoload(s->progs.on_sys_exit,
				  !k && (t->opts.follow_children || t->opts.hold_execs));
}

/*
 * The walk's key of this process's mapping at `addr`: the file_key iterator over this
 * process's mappings (every process's before 6.1, which has no task filter).
 */
static int tracer_mapping_key(void *ctx, uintptr_t addr, uint32_t *dev, uint64_t *ino)
{
	struct tracer *t = ctx;
	union bpf_iter_link_info info = { .task = { .pid = (__u32)getpid() } };
	LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &info, .link_info_len = sizeof(info));
	struct unwind_key key;
	struct bpf_link *link;
	size_t got = 0;
	ssize_t n;
	int fd;

	t->skel->bss->key_tgid = (__u32)getpid();
	t->skel->bss->key_addr = addr;
	link = bpf_program__attach_iter(t->skel->progs.file_key, &opts);
	if (!link)
		link = bpf_program__attach_iter(t->skel->progs.file_key, NULL);
	if (!link) {
		int err = -errno;

		if (!t->file_key_said++)
			fprintf(stderr, "memleak: cannot ask the kernel which file a mapping holds (%s): "
					"programs on overlayfs may lose their symbols\n", strerror(-err));
		return err;
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	while (fd >= 0 && got < sizeof(key) &&
	       (n = read(fd, (char *)&key + got, sizeof(key) - got)) > 0)
		got += (size_t)n;
	if (fd >= 0)
		close(fd);
	bpf_link__destroy(link);
	if (got != sizeof(key))
		return -ENOENT;
	*dev = key.dev;
	*ino = key.ino;
	return 0;
}

struct tracer *tracer__new(const struct tracer_opts *opts)
{
	struct tracer *t = calloc(1, sizeof(*t));
	long page = sysconf(_SC_PAGESIZE);
	int err = 0;

	if (!t)
		return NULL;
	t->opts = *opts;
	verbosity = opts->verbose;
	libbpf_set_print(print_libbpf);
	snprintf(t->group, sizeof(t->group), "memleak_%d", (int)getpid());

	t->skel = memleak_bpf__open();
	if (!t->skel) {
		err = -errno;
		fprintf(stderr, "memleak: cannot open the BPF object: %s\n", strerror(-err));
		goto cleanup;
	}
	t->skel->rodata->min_size = opts->min_size;
	t->skel->rodata->max_size = opts->max_size ? opts->max_size : ~0ULL;
	t->skel->rodata->sample_rate = opts->sample_rate ? opts->sample_rate : 1;
	t->skel->rodata->trace_events = opts->trace_events;
	t->skel->rodata->combined_only = opts->combined_only;
	t->skel->rodata->wa_missing_free = opts->wa_missing_free;
	t->skel->rodata->follow_children = opts->follow_children;
	t->skel->rodata->hold_execs = opts->hold_execs;
	t->skel->rodata->kernel_stacks = opts->kernel;
	t->skel->rodata->record_nothing = opts->probe_only;
	t->skel->rodata->page_size = page > 0 ? (uint64_t)page : 4096;
	if (opts->max_blocks)
		bpf_map__set_max_entries(t->skel->maps.blocks, opts->max_blocks);
	if (opts->max_stacks) {
		bpf_map__set_max_entries(t->skel->maps.stacks, opts->max_stacks);
		bpf_map__set_max_entries(t->skel->maps.combined, opts->max_stacks);
	}
	select_programs(t);

	memset(&load_log, 0, sizeof(load_log));
	load_log.on = 1;
	err = memleak_bpf__load(t->skel);
	load_log.on = 0;
	if (err) {
		if ((err == -EPERM || err == -EACCES) && geteuid() != 0)
			fprintf(stderr, "memleak: not allowed to load BPF programs: run as root "
					"(or with CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE)\n");
		else
			say_load_failure(err);
		goto cleanup;
	}
	resolve_set_mapping_key(tracer_mapping_key, t);
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), event_cb, t, NULL);
	if (!t->rb) {
		err = -errno;
		fprintf(stderr, "memleak: cannot open the event ring buffer: %s\n", strerror(-err));
		goto cleanup;
	}
cleanup:
	if (err) {
		tracer__free(t);
		errno = -err;
		return NULL;
	}
	return t;
}

static void destroy_all_links(struct tracer *t)
{
	for (size_t i = 0; i < t->nprocs; i++)
		close_proc_probes(&t->procs[i]);
	for (size_t i = 0; i < t->nuevents; i++)
		bpf_link__destroy(t->uevents[i].link);
	for (size_t i = 0; i < t->nlinks; i++)
		bpf_link__destroy(t->links[i]);
}

static void remove_uprobe_events(struct tracer *t)
{
	char line[128];

	for (size_t i = 0; i < t->nuevents; i++) {
		snprintf(line, sizeof(line), "-:%s/%s\n", t->group, t->uevents[i].name);
		write_uprobe_events(t, line);
	}
}

/*
 * Detaching a uprobe waits for RCU grace periods, one probe after the other: about a
 * second for a full set here. Nobody needs to wait for it, so a child process that shares
 * the probes' descriptors does it while this process exits at once (its own closes then
 * only drop references). The child holds no output descriptor: whoever reads this
 * process's output sees the end right away.
 */
static int hand_off_teardown(struct tracer *t)
{
	int devnull;
	pid_t pid;

	if (!t->nlinks && !t->nuevents)
		return 0;
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid > 0)
		return 1;
	setsid();
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
	}
	destroy_all_links(t);
	remove_uprobe_events(t);
	_exit(0);
}

void tracer__free(struct tracer *t)
{
	if (!t)
		return;
	resolve_set_mapping_key(NULL, NULL);
	ring_buffer__free(t->rb);
	/* After a hand-off, these destroys only drop references. */
	if (hand_off_teardown(t)) {
		destroy_all_links(t);
	} else {
		destroy_all_links(t);
		remove_uprobe_events(t);
	}
	stop_anchor(t);
	free(t->unwind_tried);
	free(t->procs);
	free(t->links);
	free(t->uevents);
	memleak_bpf__destroy(t->skel);
	free(t);
}

static struct bpf_program *entry_prog(struct memleak_bpf *s, const struct probe_site *site)
{
	switch (site->kind) {
	case PROBE_SITE_ALLOC: return s->progs.site_alloc;
	case PROBE_SITE_FREE: return s->progs.site_free;
	case PROBE_SITE_REALLOC: return s->progs.site_realloc;
	case PROBE_FUNCTION: break;
	}
	switch (site->fn) {
	case FN_MALLOC: return s->progs.malloc_enter;
	case FN_CALLOC: return s->progs.calloc_enter;
	case FN_REALLOC: return s->progs.realloc_enter;
	case FN_REALLOCARRAY: return s->progs.reallocarray_enter;
	case FN_POSIX_MEMALIGN: return s->progs.posix_memalign_enter;
	case FN_ALIGNED_ALLOC: return s->progs.aligned_alloc_enter;
	case FN_MEMALIGN: return s->progs.memalign_enter;
	case FN_VALLOC: return s->progs.valloc_enter;
	case FN_PVALLOC: return s->progs.pvalloc_enter;
	case FN_FREE: return s->progs.free_enter;
	case FN_MMAP: return s->progs.mmap_enter;
	case FN_MUNMAP: return s->progs.munmap_enter;
	case FN_MREMAP: return s->progs.mremap_enter;
	case FN_DLCLOSE: return s->progs.dlclose_enter;
	case FN_NEW: return s->progs.new_enter;
	case FN_DELETE: return s->progs.delete_enter;
	case FN_EXIT:
	case FN_ABORT: return s->progs.exit_enter;
	case FN_EXIT_CALL: return s->progs.exit_called;
	default: return NULL;
	}
}

static struct bpf_program *return_prog(struct memleak_bpf *s, const struct probe_site *site)
{
	if (site->kind != PROBE_FUNCTION)
		return NULL;
	switch (site->fn) {
	case FN_FREE:
	case FN_MUNMAP:
	case FN_DLCLOSE:
	case FN_DELETE:
	case FN_EXIT:
	case FN_ABORT:
	case FN_EXIT_CALL:
		return NULL;
	case FN_DLOPEN:
		return s->progs.dlopen_return;
	default:
		return s->progs.alloc_return;
	}
}

static int attach_lifecycle(struct tracer *t)
{
	struct bpf_program *progs[] = { t->skel->progs.on_fork, t->skel->progs.on_exec,
					t->skel->progs.on_exit, t->skel->progs.on_sys_exit };

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct bpf_link *link;
		int err;

		if (!bpf_program__autoload(progs[i]))
			continue;
		link = bpf_program__attach(progs[i]);
		if (!link) {
			err = -errno;
			fprintf(stderr, "memleak: cannot attach %s: %s\n", bpf_program__name(progs[i]),
				strerror(-err));
			return err;
		}
		err = add_link(t, link);
		if (err)
			return err;
	}
	return 0;
}

int tracer__attach_process(struct tracer *t, pid_t pid, const struct allocator *alloc)
{
	int err;

	if (!t->tracefs[0]) {
		err = find_tracefs(t);
		if (err)
			return err;
		remove_stale_groups(t);
	}
	if (t->nlinks == 0) {
		err = attach_lifecycle(t);
		if (err)
			return err;
	}
	err = tracer__attach_image(t, pid, alloc);
	if (err)
		return err;
	return tracer__add_process(t, pid);
}

int tracer__attach_image(struct tracer *t, pid_t pid, const struct allocator *alloc)
{
	struct proc_probes *pp;
	size_t *wanted = calloc(alloc->nsites * 2 + 1, sizeof(*wanted)), nwanted = 0;
	int err = 0;

	if (!wanted)
		return -ENOMEM;
	for (int ret = 1; ret >= 0 && !err; ret--) {
		for (size_t i = 0; i < alloc->nsites && !err; i++) {
			const struct probe_site *s = &alloc->sites[i];
			struct bpf_program *prog = ret ? return_prog(t->skel, s) : entry_prog(t->skel, s);
			size_t before = t->nuevents;

			if (!prog)
				continue;
			err = find_uprobe_event(t, prog, ret, s->path, s->offset, &wanted[nwanted]);
			if (err)
				break;
			nwanted++;
			if (t->opts.verbose && t->nuevents > before)
				fprintf(stderr, "memleak: %s probe on %s (%s:0x%llx)\n",
					ret ? "return" : s->kind == PROBE_FUNCTION ? "entry" : "site",
					allocator_site_name(s), s->path, (unsigned long long)s->offset);
		}
	}
	pp = err ? NULL : get_proc_probes(t, pid);
	if (!err && !pp)
		err = -ENOMEM;
	if (!err) {
		for (size_t i = 0; i < pp->n; i++)
			pp->p[i].wanted = 0;
		for (size_t i = 0; i < nwanted; i++)
			pp->p[wanted[i]].wanted = 1;
		err = apply_probes(t, pp);
	}
	free(wanted);
	return err;
}

int tracer__attach_child(struct tracer *t, pid_t pid, pid_t parent)
{
	struct proc_probes *from = find_proc_probes(t, parent), *pp;

	if (!from)
		return -ESRCH;
	pp = get_proc_probes(t, pid);
	/* The table may have moved: look the parent up again. */
	from = find_proc_probes(t, parent);
	if (!pp || !from)
		return -ENOMEM;
	for (size_t i = 0; i < pp->n; i++)
		pp->p[i].wanted = i < from->n && from->p[i].wanted;
	return apply_probes(t, pp);
}

void tracer__detach_process(struct tracer *t, pid_t pid)
{
	struct proc_probes *pp = find_proc_probes(t, pid);

	/*
	 * The process is gone: these closes drop its filters, no grace periods. The perf
	 * events that hold the programs stay until the end.
	 */
	if (!pp)
		return;
	close_proc_probes(pp);
	*pp = t->procs[--t->nprocs];
}

/* Copies rows into the unwind rows map after those already there, in one call. */
static int write_rows(struct tracer *t, const struct cfi_table *table)
{
	uint32_t *keys = malloc((table->n ? table->n : 1) * sizeof(*keys));
	uint32_t count = (uint32_t)table->n;
	int err = 0;

	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < table->n; i++)
		keys[i] = (uint32_t)(t->unwind_used + i);
	if (count && bpf_map_update_batch(bpf_map__fd(t->skel->maps.unwind_rows), keys, table->rows,
					  &count, NULL))
		err = -errno;
	free(keys);
	return err;
}

int tracer__add_unwind(struct tracer *t, const char *path, int hidden)
{
	struct unwind_object obj = { .flags = hidden ? UNWIND_OBJ_HIDDEN : 0 };
	struct cfi_table table;
	struct unwind_key key = { 0 }, *tried;
	uint64_t ino;
	uint32_t dev;
	int err;

	if (t->opts.kernel)
		return -EINVAL;
	/* The BPF side finds rows by the mapped file's numbers, not the path's (overlayfs). */
	err = resolve_file_key(path, &dev, &ino);
	if (err)
		return err;
	key.ino = ino;
	key.dev = dev;
	for (size_t i = 0; i < t->nunwind_tried; i++)
		if (t->unwind_tried[i].ino == key.ino && t->unwind_tried[i].dev == key.dev)
			return 0;
	tried = realloc(t->unwind_tried, (t->nunwind_tried + 1) * sizeof(*tried));
	if (!tried)
		return -ENOMEM;
	t->unwind_tried = tried;
	t->unwind_tried[t->nunwind_tried++] = key;
	/* Without rows (no call frame information), its frames are walked by frame pointer. */
	err = cfi__build(path, &table);
	if (err) {
		if (t->opts.verbose)
			fprintf(stderr, "memleak: no unwind rows for %s: %s\n", path, strerror(-err));
		return err == -ENOMEM ? err : 0;
	}
	if (table.n > MEMLEAK_UNWIND_ROWS - t->unwind_used) {
		if (!t->unwind_full_said)
			fprintf(stderr, "memleak: the unwind table is full: stacks through %s and "
					"later objects are walked by frame pointer\n", path);
		t->unwind_full_said = 1;
		cfi__free(&table);
		return -ENOSPC;
	}
	obj.first = (uint32_t)t->unwind_used;
	obj.count = (uint32_t)table.n;
	/* The rows are in place before the object that names them is. */
	err = write_rows(t, &table);
	if (!err && bpf_map_update_elem(bpf_map__fd(t->skel->maps.unwind_objects), &key, &obj, BPF_ANY))
		err = -errno;
	if (err) {
		fprintf(stderr, "memleak: cannot store the unwind rows of %s: %s\n", path,
			strerror(-err));
		cfi__free(&table);
		return err;
	}
	t->unwind_used += table.n;
	/* Threads look their mappings up again: this object may be one they walked without. */
	__sync_fetch_and_add(&t->skel->data->cache_gen, 1);
	if (t->opts.verbose)
		fprintf(stderr, "memleak: %zu unwind rows for %s%s\n", table.n, path,
			hidden ? " (frames hidden)" : "");
	cfi__free(&table);
	return 0;
}

int tracer__attach_kernel(struct tracer *t)
{
	struct bpf_program *prog;
	int err;

	err = find_tracefs(t);
	if (err)
		return err;
	bpf_object__for_each_program(prog, t->skel->obj) {
		struct bpf_link *link;

		if (!bpf_program__autoload(prog))
			continue;
		link = bpf_program__attach(prog);
		if (!link) {
			err = -errno;
			fprintf(stderr, "memleak: cannot attach %s: %s\n", bpf_program__name(prog),
				strerror(-err));
			return err;
		}
		err = add_link(t, link);
		if (err)
			return err;
	}
	return 0;
}

int tracer__add_process(struct tracer *t, pid_t pid)
{
	uint32_t key = (uint32_t)pid;
	uint8_t one = 1;

	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.traced), &key, &one, BPF_ANY))
		return -errno;
	return 0;
}

int tracer__remove_process(struct tracer *t, pid_t pid)
{
	uint32_t key = (uint32_t)pid;

	if (bpf_map_delete_elem(bpf_map__fd(t->skel->maps.traced), &key) && errno != ENOENT)
		return -errno;
	return 0;
}

int tracer__poll(struct tracer *t, int timeout_ms)
{
	int n = ring_buffer__poll(t->rb, timeout_ms);

	return n == -EINTR ? 0 : n;
}

int tracer__event_fd(struct tracer *t)
{
	return ring_buffer__epoll_fd(t->rb);
}

int tracer__lost(struct tracer *t, struct lost_counts *out)
{
	int ncpus = libbpf_num_possible_cpus(), fd = bpf_map__fd(t->skel->maps.counters);
	uint64_t sums[CNT__COUNT] = { 0 };
	struct bpf_program *prog;
	uint64_t *vals;

	if (ncpus <= 0)
		return ncpus;
	vals = calloc(ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t c = 0; c < CNT__COUNT; c++) {
		if (bpf_map_lookup_elem(fd, &c, vals))
			continue;
		for (int i = 0; i < ncpus; i++)
			sums[c] += vals[i];
	}
	free(vals);
	memset(out, 0, sizeof(*out));
	out->map_full = sums[CNT_MAP_FULL];
	/*
	 * A frame outside every mapping (CNT_VMA_MISSES) is the end of a frame-pointer walk
	 * through code without frame pointers, not lost data: the stack is cut there.
	 */
	out->stack_errors = sums[CNT_STACK_ERRORS];
	out->nest_overflow = sums[CNT_NEST_OVERFLOW] + sums[CNT_SCRATCH_FULL];
	out->unmatched_returns = sums[CNT_UNMATCHED_RETURNS];
	out->missed_frees = sums[CNT_MISSED_FREES];
	if (t->opts.verbose)
		fprintf(stderr, "memleak: nested calls %llu, frames outside mappings %llu\n",
			(unsigned long long)sums[CNT_NESTED], (unsigned long long)sums[CNT_VMA_MISSES]);
	out->ringbuf_drops = sums[CNT_RINGBUF_DROPS] + sums[CNT_COMBINED_FULL];
	bpf_object__for_each_program(prog, t->skel->obj) {
		struct bpf_prog_info info = { 0 };
		uint32_t len = sizeof(info);

		if (bpf_program__fd(prog) < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len)) {
			out->recursion_misses += info.recursion_misses;
			if (t->opts.verbose > 2)
				fprintf(stderr, "memleak: %s ran %llu times\n", bpf_program__name(prog),
					(unsigned long long)info.run_cnt);
		}
	}
	return 0;
}

static uint64_t fd_memlock(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

uint64_t tracer__map_memory(const struct tracer *t)
{
	return fd_memlock(bpf_map__fd(t->skel->maps.blocks)) +
	       fd_memlock(bpf_map__fd(t->skel->maps.stacks));
}

int tracer__blocks_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.blocks);
}

int tracer__stacks_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.stacks);
}

int tracer__combined_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.combined);
}
