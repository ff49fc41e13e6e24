// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "runner/reachability.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Bytes read from the process per batch, and ranges per read (the kernel's IOV_MAX). */
#define READ_CHUNK (4u << 20)
#define READ_IOVS 1024
/* Below the stack pointer, code may keep data without moving it (the x86-64 red zone). */
#define RED_ZONE 128
/* glibc's arenas other than the main one live in heaps aligned to this (HEAP_MAX_SIZE). */
#define ARENA_HEAP_ALIGN (64ull << 20)

/* States while classifying; the kinds come from them at the end. */
enum {
	ST_UNREACHED,
	ST_POSSIBLE,	/* reached, but through an interior pointer somewhere on the way */
	ST_REACHABLE,	/* reached by start pointers all the way from a root */
	ST_INDIRECT,	/* unreached, but pointed to by an unreached block */
};

struct reach {
	struct reach_block *b;
	size_t n;
	uint64_t *addrs;	/* b[i].addr, apart: the binary search's only data */
	uint64_t lo, hi;	/* no block outside [lo, hi) */
	struct granule *granules;
	size_t gmask;
	uint8_t *content;	/* every block's content, when read beforehand */
	uint64_t *offsets;	/* where each block's is in it */
	uint8_t *state;
	uint8_t *scanned;	/* the state a block's content was last scanned in, + 1 */
	uint32_t *stack;
	size_t top, cap;
	const struct reach_memory *mem;
	uint8_t *buf;
	struct reach_stats *stats;
	uint32_t clique;	/* leader of the clique being flooded, or UINT32_MAX */
	int oom;
};

static int by_addr(const void *a, const void *b)
{
	const struct reach_block *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * The blocks are found through granules of the address space: a hash table from each
 * granule that some block covers to the first such block. A word is looked up with one
 * probe of the table, and a short search among the blocks of its granule.
 */
#define GRANULE_SHIFT 16

struct granule {
	uint64_t key;		/* granule number + 1; 0: empty slot */
	uint32_t first;		/* first block ending in or after the granule */
	uint32_t last;		/* last block starting in or before it */
};

static size_t granule_slot(uint64_t key, size_t mask)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 29) & mask;
}

static struct granule *granule_find(const struct reach *r, uint64_t key)
{
	size_t s = granule_slot(key, r->gmask);

	while (r->granules[s].key) {
		if (r->granules[s].key == key)
			return &r->granules[s];
		s = (s + 1) & r->gmask;
	}
	return NULL;
}

/* Builds the granule table: every granule each block touches. */
static int granules_build(struct reach *r)
{
	size_t entries = 0, slots = 1024;

	for (size_t i = 0; i < r->n; i++) {
		uint64_t end = r->addrs[i] + (r->b[i].size ? r->b[i].size : 1) - 1;

		entries += (size_t)((end >> GRANULE_SHIFT) - (r->addrs[i] >> GRANULE_SHIFT) + 1);
	}
	while (slots < entries * 2)
		slots *= 2;
	r->granules = calloc(slots, sizeof(*r->granules));
	if (!r->granules)
		return -ENOMEM;
	r->gmask = slots - 1;
	for (size_t i = 0; i < r->n; i++) {
		uint64_t end = r->addrs[i] + (r->b[i].size ? r->b[i].size : 1) - 1;

		for (uint64_t g = r->addrs[i] >> GRANULE_SHIFT; g <= end >> GRANULE_SHIFT; g++) {
			struct granule *e = granule_find(r, g + 1);

			if (!e) {
				size_t s = granule_slot(g + 1, r->gmask);

				while (r->granules[s].key)
					s = (s + 1) & r->gmask;
				e = &r->granules[s];
				*e = (struct granule){ .key = g + 1, .first = (uint32_t)i };
			}
			e->last = (uint32_t)i;
		}
	}
	return 0;
}

/* The block holding address w, or -1. A block of size 0 holds only its own address. */
static ssize_t lookup(const struct reach *r, uint64_t w)
{
	const struct granule *g;
	size_t lo, hi, i;

	if (w < r->lo || w >= r->hi)
		return -1;
	g = granule_find(r, (w >> GRANULE_SHIFT) + 1);
	if (!g)
		return -1;
	/* The last block of the granule's run that starts at or below w. */
	lo = g->first;
	hi = (size_t)g->last + 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->addrs[mid] <= w)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == g->first)
		return -1;
	i = lo - 1;
	if (w - r->addrs[i] < r->b[i].size || w == r->addrs[i])
		return (ssize_t)i;
	return -1;
}

/* The first block whose address is at or above `addr`. */
static size_t first_at_or_above(const struct reach *r, uint64_t addr)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->addrs[mid] < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void push(struct reach *r, size_t i)
{
	if (r->top == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		uint32_t *s = realloc(r->stack, cap * sizeof(*s));

		if (!s) {
			r->oom = 1;
			return;
		}
		r->stack = s;
		r->cap = cap;
	}
	r->stack[r->top++] = (uint32_t)i;
}

/*
 * The C library's allocator puts the header of the next chunk 16 bytes before the end of
 * a chunk: inside the block, when the block uses the last bytes its chunk has. The
 * allocator's own pointers to that chunk (the arena's top chunk, its bins' heads, in the
 * library's data) are not the program's, and do not make the block possibly lost.
 */
static int is_next_chunk(uint64_t w, uint64_t addr, uint64_t size)
{
	uint64_t chunk = (size + 8 + 15) & ~15ull;

	if (chunk < 32)
		chunk = 32;
	return w == addr - 16 + chunk;
}

/*
 * A word that may point into block t, found in memory reached in state `from` (a root
 * is ST_REACHABLE). Valgrind's rules: a start pointer from a reachable place makes the
 * block reachable, anything else at most possibly lost; while flooding from a lost block,
 * an unreached block joins that block's clique.
 */
static void reach_word(struct reach *r, uint64_t w, int from)
{
	ssize_t t = lookup(r, w);
	int to;

	if (t < 0)
		return;
	if (r->clique != UINT32_MAX) {
		if (r->state[t] != ST_UNREACHED || (uint32_t)t == r->clique)
			return;
		r->state[t] = ST_INDIRECT;
		r->b[t].leader = r->clique;
		push(r, (size_t)t);
		return;
	}
	if (w != r->addrs[t] && is_next_chunk(w, r->addrs[t], r->b[t].size))
		return;
	to = from == ST_REACHABLE && w == r->addrs[t] ? ST_REACHABLE : ST_POSSIBLE;
	if (to > r->state[t]) {
		r->state[t] = (uint8_t)to;
		push(r, (size_t)t);
	}
}

/* Every pointer-aligned word of memory read from `addr`. */
static void scan_words(struct reach *r, const uint8_t *p, size_t len, uint64_t addr, int from)
{
	size_t skip = (size_t)(-addr & 7);
	uint64_t lo = r->lo, hi = r->hi;

	if (skip >= len)
		return;
	p += skip;
	len -= skip;
	for (size_t k = 0; k + 8 <= len; k += 8) {
		uint64_t w;

		memcpy(&w, p + k, 8);
		if (w >= lo && w < hi)
			reach_word(r, w, from);
	}
}

/* Reads and scans a range of the process's memory in chunks. */
static void scan_range(struct reach *r, uint64_t start, uint64_t end, int from, uint64_t *counter)
{
	while (start < end) {
		size_t len = end - start > READ_CHUNK ? READ_CHUNK : (size_t)(end - start);
		struct iovec local = { .iov_base = r->buf, .iov_len = len };
		struct iovec remote = { .iov_base = (void *)(uintptr_t)start, .iov_len = len };

		r->mem->readv(r->mem->ctx, &local, &remote, 1);
		scan_words(r, r->buf, len, start, from);
		*counter += len;
		start += len;
	}
}

/* A root region, less the blocks inside it: they are scanned only if reached. */
static void scan_root(struct reach *r, uint64_t start, uint64_t end)
{
	size_t i = first_at_or_above(r, start);

	/* A block that starts below the region may still cover its beginning. */
	if (i > 0 && r->addrs[i - 1] + r->b[i - 1].size > start)
		start = r->addrs[i - 1] + r->b[i - 1].size;
	for (; i < r->n && r->addrs[i] < end && start < end; i++) {
		if (r->addrs[i] > start)
			scan_range(r, start, r->addrs[i], ST_REACHABLE, &r->stats->root_bytes);
		if (r->addrs[i] + r->b[i].size > start)
			start = r->addrs[i] + r->b[i].size;
	}
	if (start < end)
		scan_range(r, start, end, ST_REACHABLE, &r->stats->root_bytes);
}

/*
 * Scans the blocks on the stack until it is empty, reading many at once: the contents of
 * up to READ_IOVS blocks, or READ_CHUNK bytes, in one read. A block larger than a chunk
 * is read in chunks by itself.
 */
static void flood(struct reach *r)
{
	struct iovec local[READ_IOVS], remote[READ_IOVS];
	uint32_t batch[READ_IOVS];

	/* Contents read beforehand: nothing to read here. */
	while (r->content && r->top) {
		uint32_t i = r->stack[--r->top];
		int st = r->state[i];

		if (r->scanned[i] >= st + 1)
			continue;
		r->scanned[i] = (uint8_t)(st + 1);
		scan_words(r, r->content + r->offsets[i], r->b[i].size, r->addrs[i], st);
	}
	while (r->top && !r->oom) {
		size_t nb = 0, bytes = 0;

		while (r->top && nb < READ_IOVS) {
			uint32_t i = r->stack[r->top - 1];
			uint64_t size = r->b[i].size;
			int st = r->state[i];

			/* Already scanned in this state (or better): nothing new to learn. */
			if (r->scanned[i] >= st + 1) {
				r->top--;
				continue;
			}
			if (size > READ_CHUNK) {
				if (nb)
					break;
				r->top--;
				r->scanned[i] = (uint8_t)(st + 1);
				scan_range(r, r->addrs[i], r->addrs[i] + size,
					   st == ST_INDIRECT ? ST_UNREACHED : st, &r->stats->block_bytes);
				continue;
			}
			if (bytes + size > READ_CHUNK)
				break;
			r->top--;
			r->scanned[i] = (uint8_t)(st + 1);
			local[nb] = (struct iovec){ .iov_base = r->buf + bytes, .iov_len = size };
			remote[nb] = (struct iovec){ .iov_base = (void *)(uintptr_t)r->addrs[i],
						     .iov_len = size };
			batch[nb++] = i;
			bytes += size;
		}
		if (!nb)
			continue;
		r->mem->readv(r->mem->ctx, local, remote, nb);
		r->stats->block_bytes += bytes;
		for (size_t k = 0; k < nb; k++) {
			uint32_t i = batch[k];

			scan_words(r, local[k].iov_base, local[k].iov_len, r->addrs[i],
				   r->scanned[i] - 1);
		}
	}
}

/* The definitely lost block at the head of a chain of absorbed cliques. */
static uint32_t clique_root(struct reach_block *b, uint32_t i)
{
	uint32_t root = i, next;

	while (b[root].leader != root)
		root = b[root].leader;
	while (b[i].leader != root) {
		next = b[i].leader;
		b[i].leader = root;
		i = next;
	}
	return root;
}

/*
 * Many small blocks cost a range each per read. When the blocks' contents fit in
 * PRELOAD_MAX, they are read once, in address order, neighbours (less than PRELOAD_GAP
 * apart: the allocator's headers between them) in one range. Nothing done when they do
 * not fit, or memory is short: the flood reads as it goes.
 */
#define PRELOAD_MAX (256ull << 20)
#define PRELOAD_GAP 64
#define PRELOAD_SPAN (1u << 20)

static void preload_contents(struct reach *r)
{
	struct iovec local[READ_IOVS], remote[READ_IOVS];
	uint64_t total = 0;
	size_t nspans = 0, i = 0;

	for (size_t k = 0; k < r->n; k++) {
		uint64_t gap = k ? r->addrs[k] - (r->addrs[k - 1] + r->b[k - 1].size) : 0;

		total += r->b[k].size + (k && gap < PRELOAD_GAP ? gap : 0);
		if (total > PRELOAD_MAX || r->addrs[k] < (k ? r->addrs[k - 1] + r->b[k - 1].size : 0))
			return;	/* too large, or blocks overlap: read as the flood goes */
	}
	r->content = malloc(total ? total : 1);
	r->offsets = malloc((r->n ? r->n : 1) * sizeof(*r->offsets));
	if (!r->content || !r->offsets) {
		free(r->content);
		free(r->offsets);
		r->content = NULL;
		r->offsets = NULL;
		return;
	}
	total = 0;
	while (i < r->n) {
		uint64_t start = r->addrs[i], end = start + r->b[i].size;

		/* One span: this block and its close neighbours. */
		r->offsets[i] = total;
		for (i++; i < r->n && r->addrs[i] - end < PRELOAD_GAP &&
			  r->addrs[i] + r->b[i].size - start <= PRELOAD_SPAN; i++) {
			r->offsets[i] = total + (r->addrs[i] - start);
			end = r->addrs[i] + r->b[i].size;
		}
		local[nspans] = (struct iovec){ .iov_base = r->content + total, .iov_len = end - start };
		remote[nspans] = (struct iovec){ .iov_base = (void *)(uintptr_t)start,
						 .iov_len = end - start };
		total += end - start;
		if (++nspans == READ_IOVS || i == r->n) {
			r->mem->readv(r->mem->ctx, local, remote, nspans);
			nspans = 0;
		}
	}
	r->stats->block_bytes += total;
}

int reach_classify(struct reach_block *blocks, size_t n, const struct reach_roots *roots,
		   const struct reach_memory *mem, struct reach_stats *stats)
{
	struct reach_stats unused = { 0 };
	struct reach r = {
		.b = blocks,
		.n = n,
		.mem = mem,
		.stats = stats ? stats : &unused,
		.clique = UINT32_MAX,
	};
	int err = 0;

	qsort(blocks, n, sizeof(*blocks), by_addr);
	for (size_t i = 0; i < n; i++)
		blocks[i].leader = (uint32_t)i;
	r.addrs = malloc((n ? n : 1) * sizeof(*r.addrs));
	r.state = calloc(n ? n : 1, 1);
	r.scanned = calloc(n ? n : 1, 1);
	r.buf = malloc(READ_CHUNK);
	if (!r.addrs || !r.state || !r.scanned || !r.buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	r.lo = UINT64_MAX;
	for (size_t i = 0; i < n; i++) {
		uint64_t end = blocks[i].addr + (blocks[i].size ? blocks[i].size : 1);

		r.addrs[i] = blocks[i].addr;
		if (blocks[i].addr < r.lo)
			r.lo = blocks[i].addr;
		if (end > r.hi)
			r.hi = end;
	}
	err = granules_build(&r);
	if (err)
		goto cleanup;
	preload_contents(&r);
	/* Roots first, then everything they reach. */
	for (size_t k = 0; roots && k < roots->nwords; k++)
		if (roots->words[k] >= r.lo && roots->words[k] < r.hi)
			reach_word(&r, roots->words[k], ST_REACHABLE);
	for (size_t k = 0; roots && k < roots->nregions; k++) {
		uint64_t start = (uint64_t)(uintptr_t)roots->regions[k].iov_base;

		scan_root(&r, start, start + roots->regions[k].iov_len);
	}
	flood(&r);
	/*
	 * What is left is lost. In address order, each block still unreached leads a clique:
	 * the unreached blocks it reaches are indirectly lost through it, a leader met on the
	 * way included (its clique joins this one).
	 */
	for (size_t i = 0; i < n && !r.oom; i++) {
		if (r.state[i] != ST_UNREACHED || r.scanned[i])
			continue;
		r.clique = (uint32_t)i;
		push(&r, i);
		flood(&r);
	}
	if (r.oom) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		switch (r.state[i]) {
		case ST_REACHABLE:
			blocks[i].kind = LEAK_REACHABLE;
			break;
		case ST_POSSIBLE:
			blocks[i].kind = LEAK_POSSIBLE;
			break;
		case ST_INDIRECT:
			blocks[i].kind = LEAK_INDIRECT;
			break;
		default:
			blocks[i].kind = LEAK_DEFINITE;
			break;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (blocks[i].kind == LEAK_INDIRECT)
			blocks[i].leader = clique_root(blocks, (uint32_t)i);
	/* A leader absorbed by a later clique is indirectly lost; its own leader is itself no more. */
	for (size_t i = 0; i < n; i++)
		if (blocks[i].kind != LEAK_INDIRECT)
			blocks[i].leader = (uint32_t)i;
cleanup:
	free(r.content);
	free(r.offsets);
	free(r.granules);
	free(r.addrs);
	free(r.state);
	free(r.scanned);
	free(r.stack);
	free(r.buf);
	return err;
}

/* --- a process's memory ----------------------------------------------------------------- */

/* Reads one range page by page, zero-filling what cannot be read. */
static void read_pages(pid_t pid, uint8_t *dst, uint64_t addr, size_t len)
{
	while (len) {
		size_t n = 4096 - (size_t)(addr & 4095);
		struct iovec l, rm;

		if (n > len)
			n = len;
		l = (struct iovec){ .iov_base = dst, .iov_len = n };
		rm = (struct iovec){ .iov_base = (void *)(uintptr_t)addr, .iov_len = n };
		if (process_vm_readv(pid, &l, 1, &rm, 1, 0) != (ssize_t)n)
			memset(dst, 0, n);
		dst += n;
		addr += n;
		len -= n;
	}
}

static void process_readv(void *ctx, const struct iovec *local, const struct iovec *remote,
			  size_t n)
{
	pid_t pid = (pid_t)(intptr_t)ctx;
	size_t k = 0;

	while (k < n) {
		ssize_t got = process_vm_readv(pid, local + k, n - k, remote + k, n - k, 0);

		if (got < 0)
			got = 0;
		/* Whole ranges read. */
		while (k < n && (size_t)got >= remote[k].iov_len) {
			got -= remote[k].iov_len;
			k++;
		}
		if (k == n)
			break;
		/* The read stopped inside this range: finish it page by page, then go on. */
		read_pages(pid, (uint8_t *)local[k].iov_base + got,
			   (uint64_t)(uintptr_t)remote[k].iov_base + got, remote[k].iov_len - got);
		k++;
	}
}

struct mapping {
	uint64_t start, end;
	char perms[5];
	char path[256];
};

/* A glibc arena's heap: 64 MiB aligned, its first word the arena it belongs to, just after. */
static int is_arena_heap(pid_t pid, const struct mapping *m)
{
	uint64_t ar_ptr = 0;

	if (m->path[0] || m->start % ARENA_HEAP_ALIGN)
		return 0;
	read_pages(pid, (uint8_t *)&ar_ptr, m->start, sizeof(ar_ptr));
	return ar_ptr > m->start && ar_ptr < m->start + 4096;
}

/* Whether a mapping is memory the program keeps data in, rather than a device or the kernel's. */
static int is_data(const struct mapping *m)
{
	if (m->perms[0] != 'r' || m->perms[1] != 'w')
		return 0;
	if (!strcmp(m->path, "[vvar]") || !strcmp(m->path, "[vvar_vclock]") ||
	    !strcmp(m->path, "[vsyscall]") || !strcmp(m->path, "[heap]"))
		return 0;
	if (!strncmp(m->path, "/dev/", 5) && strncmp(m->path, "/dev/zero", 9) &&
	    strncmp(m->path, "/dev/shm/", 9))
		return 0;
	return 1;
}

static int read_maps(pid_t pid, struct mapping **out, size_t *nout)
{
	char path[64], line[4400];
	struct mapping *v = NULL;
	size_t n = 0, cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct mapping m = { 0 };
		int off = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %*s %*s %*s %n", &m.start, &m.end, m.perms,
			   &off) < 3)
			continue;
		if (off > 0) {
			char *p = line + off;

			p[strcspn(p, "\n")] = '\0';
			snprintf(m.path, sizeof(m.path), "%s", p);
		}
		if (n == cap) {
			struct mapping *g = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));

			if (!g) {
				free(v);
				fclose(f);
				return -ENOMEM;
			}
			v = g;
		}
		v[n++] = m;
	}
	fclose(f);
	*out = v;
	*nout = n;
	return 0;
}

/* A thread of the process: held by ptrace while its registers are roots. */
struct thread {
	pid_t tid;
	int seized;
	uint64_t sp;		/* 0 when unknown */
};

/* The stack pointer of a thread that is not running, from /proc ("NR args... SP PC"). */
static uint64_t sp_from_proc(pid_t pid, pid_t tid)
{
	char path[96], line[512], *last, *prev;
	uint64_t sp = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		last = strrchr(line, ' ');
		if (last) {
			*last = '\0';
			prev = strrchr(line, ' ');
			if (prev)
				sp = strtoull(prev + 1, NULL, 16);
		}
	}
	fclose(f);
	return sp;
}

static int wait_trap(pid_t tid)
{
	for (int i = 0; i < 2000; i++) {
		siginfo_t si = { 0 };

		if (waitid(P_PID, (id_t)tid, &si, WSTOPPED | WNOHANG | __WALL) < 0)
			return -errno;
		if (si.si_pid == tid)
			return 0;
		usleep(500);
	}
	return -ETIMEDOUT;
}

/*
 * Holds a thread with ptrace and reads its registers into words. A thread that cannot
 * be held (traced by someone else) still gives its stack pointer through /proc.
 */
static void hold_thread(pid_t pid, struct thread *t, uint64_t **words, size_t *nwords,
			struct reach_stats *stats)
{
	struct user_regs_struct regs;
	uint64_t *w;

	stats->threads++;
	if (ptrace(PTRACE_SEIZE, t->tid, 0, 0))
		goto no_registers;
	t->seized = 1;
	if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) || wait_trap(t->tid) ||
	    ptrace(PTRACE_GETREGS, t->tid, 0, &regs))
		goto no_registers;
	w = realloc(*words, (*nwords + sizeof(regs) / 8) * sizeof(*w));
	if (!w)
		goto no_registers;
	memcpy(w + *nwords, &regs, sizeof(regs));
	*words = w;
	*nwords += sizeof(regs) / 8;
	t->sp = regs.rsp;
	return;
no_registers:
	stats->threads_without_registers++;
	t->sp = sp_from_proc(pid, t->tid);
}

/* Every thread of the process, held; new ones are looked for until none appears. */
static int hold_threads(pid_t pid, struct thread **out, size_t *nout, uint64_t **words,
			size_t *nwords, struct reach_stats *stats)
{
	struct thread *v = NULL;
	size_t n = 0, cap = 0;
	int added = 1;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	while (added) {
		DIR *d = opendir(path);
		struct dirent *de;

		if (!d) {
			free(v);
			return -errno;
		}
		added = 0;
		while ((de = readdir(d))) {
			pid_t tid = (pid_t)atoi(de->d_name);
			size_t k;

			if (tid <= 0)
				continue;
			for (k = 0; k < n && v[k].tid != tid; k++)
				;
			if (k < n)
				continue;
			if (n == cap) {
				struct thread *g = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

				if (!g) {
					closedir(d);
					free(v);
					return -ENOMEM;
				}
				v = g;
			}
			v[n] = (struct thread){ .tid = tid };
			hold_thread(pid, &v[n++], words, nwords, stats);
			added = 1;
		}
		closedir(d);
	}
	*out = v;
	*nout = n;
	return 0;
}

static void release_threads(struct thread *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].seized)
			ptrace(PTRACE_DETACH, v[i].tid, 0, 0);
	free(v);
}

/*
 * The roots: each writable data mapping, a thread's stack from below its stack pointer
 * (by the red zone) up, and none of the heap's own mappings: their free chunks still
 * hold the pointers they had.
 */
static int process_regions(pid_t pid, const struct mapping *maps, size_t nmaps,
			   const struct thread *threads, size_t nthreads, struct iovec **out,
			   size_t *nout)
{
	struct iovec *v = calloc(nmaps ? nmaps : 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < nmaps; i++) {
		const struct mapping *m = &maps[i];
		uint64_t start = m->start;

		if (!is_data(m) || is_arena_heap(pid, m))
			continue;
		for (size_t t = 0; t < nthreads; t++) {
			uint64_t sp = threads[t].sp;

			if (sp >= m->start && sp < m->end) {
				sp = (sp - RED_ZONE) & ~7ull;
				if (sp > start)
					start = sp;
			}
		}
		v[n++] = (struct iovec){ .iov_base = (void *)(uintptr_t)start,
					 .iov_len = m->end - start };
	}
	*out = v;
	*nout = n;
	return 0;
}

struct reach_hold {
	pid_t pid;
	struct thread *threads;
	size_t nthreads;
	struct reach_roots roots;	/* the registers, until the regions are read */
	struct reach_stats stats;
};

struct reach_hold *reach_hold__new(pid_t pid)
{
	struct reach_hold *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return NULL;
	h->pid = pid;
	err = hold_threads(pid, &h->threads, &h->nthreads, &h->roots.words, &h->roots.nwords,
			   &h->stats);
	if (err) {
		reach_hold__free(h);
		errno = -err;
		return NULL;
	}
	return h;
}

int reach_hold__classify(struct reach_hold *h, pid_t tid, uint64_t sp, struct reach_block *blocks,
			 size_t n, struct reach_stats *stats)
{
	struct reach_memory mem = { .readv = process_readv, .ctx = (void *)(intptr_t)h->pid };
	struct reach_roots roots = h->roots;
	struct mapping *maps = NULL;
	size_t nmaps = 0;
	int err;

	for (size_t i = 0; i < h->nthreads; i++)
		if (tid && h->threads[i].tid == tid && sp)
			h->threads[i].sp = sp + RED_ZONE;
	if (stats)
		*stats = h->stats;
	err = read_maps(h->pid, &maps, &nmaps);
	if (!err)
		err = process_regions(h->pid, maps, nmaps, h->threads, h->nthreads, &roots.regions,
				      &roots.nregions);
	if (!err)
		err = reach_classify(blocks, n, &roots, &mem, stats);
	free(maps);
	free(roots.regions);
	return err;
}

void reach_hold__free(struct reach_hold *h)
{
	if (!h)
		return;
	release_threads(h->threads, h->nthreads);
	free(h->roots.words);
	free(h);
}

/* A thread's state letter, from /proc/PID/task/TID/stat. */
static char thread_state(pid_t pid, const char *tid)
{
	char path[320], buf[512], *p;
	FILE *f;
	char st = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] == ' ')
		st = p[2];
	fclose(f);
	return st;
}

int reach_wait_stopped(pid_t pid, int timeout_ms)
{
	char path[64];
	struct timespec start, now;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		DIR *d = opendir(path);
		struct dirent *de;
		int running = 0, any = 0;

		if (!d)
			return -ESRCH;
		while ((de = readdir(d))) {
			char st;

			if (de->d_name[0] == '.')
				continue;
			st = thread_state(pid, de->d_name);
			any = 1;
			/* Stopped, traced, or already on its way out. */
			if (st && st != 'T' && st != 't' && st != 'Z' && st != 'X')
				running = 1;
		}
		closedir(d);
		if (!any)
			return -ESRCH;
		if (!running)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >
		    timeout_ms)
			return -ETIMEDOUT;
		usleep(200);
	}
}
