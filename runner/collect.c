// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "runner/collect.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Blocks read from the kernel per batch. */
#define BATCH 4096

uint64_t collect_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Sites being built, found by stack hash through an open-addressing index. */
struct site_table {
	struct leak_site *sites;
	uint64_t *hashes;	/* stack hash of each site */
	uint32_t *tgids;	/* process of each site: the same stack in two processes is two sites */
	size_t n, cap;
	size_t *index;	/* slot -> site number + 1, 0 when empty */
	size_t slots;
};

static size_t slot_of(uint64_t hash, uint32_t tgid, uint8_t kind, size_t slots)
{
	return (size_t)((hash ^ (uint64_t)tgid << 32 ^ (uint64_t)kind << 29) * 0x9e3779b97f4a7c15ULL >>
			20) & (slots - 1);
}

static int table_grow_index(struct site_table *st)
{
	size_t slots = st->slots ? st->slots * 2 : 1024;
	size_t *index = calloc(slots, sizeof(*index));

	if (!index)
		return -ENOMEM;
	for (size_t i = 0; i < st->n; i++) {
		size_t s = slot_of(st->hashes[i], st->tgids[i], (uint8_t)st->sites[i].kind, slots);

		while (index[s])
			s = (s + 1) & (slots - 1);
		index[s] = i + 1;
	}
	free(st->index);
	st->index = index;
	st->slots = slots;
	return 0;
}

static struct leak_site *table_get(struct site_table *st, uint64_t hash, uint32_t tgid,
				   enum leak_kind kind)
{
	size_t s, i;

	if ((st->n + 1) * 2 > st->slots && table_grow_index(st))
		return NULL;
	s = slot_of(hash, tgid, (uint8_t)kind, st->slots);
	while ((i = st->index[s])) {
		/* Two kinds of block from one stack are two sites. */
		if (st->hashes[i - 1] == hash && st->tgids[i - 1] == tgid &&
		    st->sites[i - 1].kind == kind)
			return &st->sites[i - 1];
		s = (s + 1) & (st->slots - 1);
	}
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 64;
		struct leak_site *sites = realloc(st->sites, cap * sizeof(*sites));
		uint64_t *hashes;
		uint32_t *tgids;

		if (!sites)
			return NULL;
		st->sites = sites;
		hashes = realloc(st->hashes, cap * sizeof(*hashes));
		if (!hashes)
			return NULL;
		st->hashes = hashes;
		tgids = realloc(st->tgids, cap * sizeof(*tgids));
		if (!tgids)
			return NULL;
		st->tgids = tgids;
		st->cap = cap;
	}
	memset(&st->sites[st->n], 0, sizeof(st->sites[0]));
	st->sites[st->n].kind = kind;
	st->hashes[st->n] = hash;
	st->tgids[st->n] = tgid;
	st->index[s] = ++st->n;
	return &st->sites[st->n - 1];
}

static int add_block(struct leak_site *site, const struct block_key *k, const struct block_info *v,
		     uint64_t now)
{
	if ((site->nblocks & (site->nblocks - 1)) == 0) {
		size_t cap = site->nblocks ? site->nblocks * 2 : 4;
		struct block *b = realloc(site->blocks, cap * sizeof(*b));

		if (!b)
			return -ENOMEM;
		site->blocks = b;
	}
	site->blocks[site->nblocks++] = (struct block){
		.addr = k->addr,
		.size = v->size,
		.age_ns = now > v->ts_ns ? now - v->ts_ns : 0,
	};
	return 0;
}

static int by_bytes_desc(const void *a, const void *b)
{
	const struct leak_site *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->allocs != y->allocs)
		return x->allocs < y->allocs ? 1 : -1;
	return 0;
}

static int by_size(const void *a, const void *b)
{
	const struct block *x = a, *y = b;

	return x->size < y->size ? -1 : x->size > y->size;
}

/* Reads a site's stack from the kernel and resolves each frame. */
static int resolve_stack(struct tracer *t, uint32_t tgid, uint64_t hash, struct leak_site *site,
			 const struct frame_resolver *r)
{
	struct stack_trace *st;
	size_t cap = 0;
	int err = 0;

	if (!hash)
		return 0;	/* the stack was lost; counted by the tracer */
	st = malloc(sizeof(*st));
	if (!st)
		return -ENOMEM;
	if (bpf_map_lookup_elem(tracer__stacks_fd(t), &hash, st)) {
		free(st);
		return 0;
	}
	for (uint32_t i = 0; i < st->nr && i < MEMLEAK_MAX_STACK_DEPTH; i++) {
		struct raw_frame rf = {
			.ip = st->ips[i],
			.kernel = tgid == 0,
		};
		struct frame *f;
		size_t n = 1;

		if (tgid) {
			rf.base = st->maps[i].base;
			rf.ino = st->maps[i].ino;
			rf.dev = st->maps[i].dev;
			/*
			 * No mapping holds this address: the frame-pointer walk went through code
			 * built without frame pointers and read garbage. The stack ends here,
			 * unless the mappings could not be read at all (incomplete).
			 */
			if (!rf.base && !rf.ino && i > 0 && !st->incomplete)
				break;
		}
		if (site->nframes + COLLECT_MAX_INLINED > cap) {
			cap = cap ? cap * 2 : st->nr + COLLECT_MAX_INLINED;
			f = realloc(site->frames, cap * sizeof(*f));
			if (!f) {
				err = -ENOMEM;
				goto cleanup;
			}
			site->frames = f;
		}
		f = &site->frames[site->nframes];
		memset(f, 0, COLLECT_MAX_INLINED * sizeof(*f));
		f->addr = rf.ip;
		if (r && r->resolve)
			n = r->resolve(r->ctx, tgid, &rf, f, COLLECT_MAX_INLINED);
		site->nframes += n ? n : 1;
	}
	if (!site->frames)
		site->frames = calloc(1, sizeof(*site->frames));
	if (!site->frames)
		err = -ENOMEM;
cleanup:
	free(st);
	return err;
}

static void table_free(struct site_table *st)
{
	free(st->index);
	free(st->hashes);
	free(st->tgids);
	for (size_t i = 0; st->sites && i < st->n; i++) {
		free(st->sites[i].frames);
		free(st->sites[i].blocks);
	}
	free(st->sites);
	memset(st, 0, sizeof(*st));
}

struct site_ref {
	uint32_t tgid;
	struct leak_site *site;
};

static int by_frames(const void *a, const void *b)
{
	const struct site_ref *x = a, *y = b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if (x->site->kind != y->site->kind)
		return x->site->kind < y->site->kind ? -1 : 1;
	if (x->site->nframes != y->site->nframes)
		return x->site->nframes < y->site->nframes ? -1 : 1;
	for (size_t i = 0; i < x->site->nframes; i++)
		if (x->site->frames[i].addr != y->site->frames[i].addr)
			return x->site->frames[i].addr < y->site->frames[i].addr ? -1 : 1;
	return 0;
}

/* Moves `from`'s blocks and totals into `into`, leaving `from` empty. */
static int merge_site(struct leak_site *into, struct leak_site *from)
{
	if (from->nblocks) {
		struct block *b = realloc(into->blocks, (into->nblocks + from->nblocks) * sizeof(*b));

		if (!b)
			return -ENOMEM;
		memcpy(b + into->nblocks, from->blocks, from->nblocks * sizeof(*b));
		into->blocks = b;
		into->nblocks += from->nblocks;
	}
	into->bytes += from->bytes;
	into->allocs += from->allocs;
	into->indirect_bytes += from->indirect_bytes;
	into->indirect_allocs += from->indirect_allocs;
	free(from->frames);
	free(from->blocks);
	memset(from, 0, sizeof(*from));
	return 0;
}

/*
 * Stacks that differ only beyond where their walk was cut (garbage read through code
 * without frame pointers) are one site: they are merged, and the table compacted.
 */
static int merge_same_frames(struct site_table *st)
{
	struct site_ref *refs = calloc(st->n ? st->n : 1, sizeof(*refs));
	size_t kept = 0;
	int err = 0;

	if (!refs)
		return -ENOMEM;
	for (size_t i = 0; i < st->n; i++)
		refs[i] = (struct site_ref){ .tgid = st->tgids[i], .site = &st->sites[i] };
	qsort(refs, st->n, sizeof(*refs), by_frames);
	for (size_t i = 1; i < st->n && !err; i++) {
		size_t first = i - 1;

		/* Stacks that were lost (no frames) stay apart: nothing says they are one. */
		while (i < st->n && refs[i].site->nframes && !by_frames(&refs[first], &refs[i]) && !err)
			err = merge_site(refs[first].site, refs[i++].site);
	}
	free(refs);
	for (size_t i = 0; i < st->n; i++) {
		if (!st->sites[i].allocs && !st->sites[i].nframes)
			continue;	/* merged away */
		st->sites[kept] = st->sites[i];
		st->hashes[kept] = st->hashes[i];
		st->tgids[kept] = st->tgids[i];
		kept++;
	}
	st->n = kept;
	return err;
}

/* Resolves the stacks, sorts, and hands the sites over to a collection. */
static struct collection *finish(struct tracer *t, struct site_table *st,
				 const struct frame_resolver *r)
{
	struct collection *c = calloc(1, sizeof(*c));
	int err = 0;

	if (!c) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < st->n && !err; i++)
		err = resolve_stack(t, st->tgids[i], st->hashes[i], &st->sites[i], r);
	if (!err)
		err = merge_same_frames(st);
	for (size_t i = 0; i < st->n && !err; i++) {
		if (st->sites[i].nblocks > 1)
			qsort(st->sites[i].blocks, st->sites[i].nblocks, sizeof(struct block), by_size);
		c->total_bytes += st->sites[i].bytes;
		c->total_allocs += st->sites[i].allocs;
	}
	qsort(st->sites, st->n, sizeof(*st->sites), by_bytes_desc);
	c->sites = st->sites;
	c->nsites = st->n;
	st->sites = NULL;
	st->n = 0;
cleanup:
	table_free(st);
	if (err) {
		collection__free(c);
		errno = -err;
		return NULL;
	}
	return c;
}

/* The next batch of the blocks map into keys and vals: *done after the last. 0 or -errno. */
static int next_batch(int fd, int *first, uint64_t *batch, struct block_key *keys,
		      struct block_info *vals, __u32 *count, int *done)
{
	int err = 0;

	if (bpf_map_lookup_batch(fd, *first ? NULL : batch, batch, keys, vals, count, NULL)) {
		if (errno != ENOENT)
			err = -errno;
		*done = 1;
	}
	*first = 0;
	return err;
}

static const struct reach_block *find_block(const struct block_kinds *k, uint64_t addr)
{
	size_t lo = 0, hi = k->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->blocks[mid].addr == addr)
			return &k->blocks[mid];
		if (k->blocks[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int collect__block_list(struct tracer *t, uint32_t tgid, uint64_t not_before_ns,
			struct reach_block **out, size_t *nout)
{
	struct block_key *keys = calloc(BATCH, sizeof(*keys));
	struct block_info *vals = calloc(BATCH, sizeof(*vals));
	struct reach_block *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t batch = 0;
	int fd = tracer__blocks_fd(t), first = 1, err = 0, done = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto cleanup;
	}
	while (!done) {
		__u32 count = BATCH;

		err = next_batch(fd, &first, &batch, keys, vals, &count, &done);
		if (err)
			goto cleanup;
		for (__u32 i = 0; i < count; i++) {
			if (keys[i].tgid != tgid || vals[i].ts_ns < not_before_ns)
				continue;
			if (n == cap) {
				struct reach_block *g = realloc(v, (cap = cap ? cap * 2 : 1024) * sizeof(*v));

				if (!g) {
					err = -ENOMEM;
					goto cleanup;
				}
				v = g;
			}
			v[n++] = (struct reach_block){ .addr = keys[i].addr, .size = vals[i].size };
		}
	}
cleanup:
	free(keys);
	free(vals);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	*nout = n;
	return 0;
}

struct block_kinds *block_kinds__new(struct reach_block *blocks, size_t n)
{
	struct block_kinds *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->indirect_bytes = calloc(n ? n : 1, sizeof(*k->indirect_bytes));
	k->indirect_allocs = calloc(n ? n : 1, sizeof(*k->indirect_allocs));
	if (!k->indirect_bytes || !k->indirect_allocs) {
		free(k->indirect_bytes);
		free(k->indirect_allocs);
		free(k);
		return NULL;
	}
	k->blocks = blocks;
	k->n = n;
	for (size_t i = 0; i < n; i++) {
		if (blocks[i].kind != LEAK_INDIRECT)
			continue;
		k->indirect_bytes[blocks[i].leader] += blocks[i].size;
		k->indirect_allocs[blocks[i].leader]++;
	}
	return k;
}

struct block_kinds *collect__kinds(struct tracer *t, pid_t pid, uint64_t not_before_ns,
				   struct reach_hold *h, pid_t tid, uint64_t sp,
				   struct reach_stats *stats, uint64_t *listed_ns)
{
	struct reach_block *blocks = NULL;
	struct reach_hold *own = NULL;
	struct block_kinds *k = NULL;
	size_t n = 0;
	int err;

	err = collect__block_list(t, (uint32_t)pid, not_before_ns, &blocks, &n);
	if (listed_ns)
		*listed_ns = collect_now_ns();
	if (!err && n && !h) {
		own = h = reach_hold__new(pid);
		if (!h)
			err = -errno;
	}
	if (!err && n)
		err = reach_hold__classify(h, tid, sp, blocks, n, stats);
	reach_hold__free(own);
	if (!err) {
		k = block_kinds__new(blocks, n);
		if (k)
			blocks = NULL;
		else
			err = -ENOMEM;
	}
	free(blocks);
	if (err)
		errno = -err;
	return k;
}

void block_kinds__free(struct block_kinds *k)
{
	if (!k)
		return;
	free(k->blocks);
	free(k->indirect_bytes);
	free(k->indirect_allocs);
	free(k);
}

struct collection *collect__blocks(struct tracer *t, const struct collect_filter *f,
				   const struct frame_resolver *r)
{
	struct block_key *keys = calloc(BATCH, sizeof(*keys)), *taken = calloc(BATCH, sizeof(*keys));
	struct block_info *vals = calloc(BATCH, sizeof(*vals));
	struct site_table st = { 0 };
	uint64_t now = collect_now_ns(), batch = 0, unclassified = 0;
	int fd = tracer__blocks_fd(t), first = 1, err = 0, done = 0;
	struct collection *c = NULL;

	if (!keys || !vals || !taken) {
		err = -ENOMEM;
		goto cleanup;
	}
	while (!done) {
		__u32 count = BATCH, ntaken = 0;

		err = next_batch(fd, &first, &batch, keys, vals, &count, &done);
		if (err)
			goto cleanup;
		for (__u32 i = 0; i < count; i++) {
			uint64_t age = now > vals[i].ts_ns ? now - vals[i].ts_ns : 0;
			const struct reach_block *b;
			struct leak_site *site;
			enum leak_kind kind;

			if (!f->all && keys[i].tgid != f->tgid)
				continue;
			if (f->take)
				taken[ntaken++] = keys[i];
			if (age < f->min_age_ns || vals[i].ts_ns < f->not_before_ns)
				continue;
			kind = LEAK_DEFINITE;
			b = f->kinds ? find_block(f->kinds, keys[i].addr) : NULL;
			if (b)
				kind = b->kind;
			else if (f->kinds)
				unclassified++;
			if (f->kinds && f->only_kinds && (!b || !(f->only_kinds & (1u << kind))))
				continue;
			site = table_get(&st, vals[i].stack_hash, keys[i].tgid, kind);
			if (!site) {
				err = -ENOMEM;
				goto cleanup;
			}
			site->bytes += vals[i].size;
			site->allocs++;
			if (b && kind == LEAK_DEFINITE) {
				size_t k = (size_t)(b - f->kinds->blocks);

				site->indirect_bytes += f->kinds->indirect_bytes[k];
				site->indirect_allocs += f->kinds->indirect_allocs[k];
			}
			if (f->want_blocks && add_block(site, &keys[i], &vals[i], now)) {
				err = -ENOMEM;
				goto cleanup;
			}
		}
		/*
		 * The batch cursor walks hash buckets in order: deleting what it already
		 * passed leaves the rest of the walk as it was.
		 */
		if (ntaken && bpf_map_delete_batch(fd, taken, &ntaken, NULL) && errno != ENOENT) {
			err = -errno;
			goto cleanup;
		}
	}
	c = finish(t, &st, r);
	if (!c)
		err = -errno;
	else
		c->unclassified = unclassified;
cleanup:
	table_free(&st);
	free(keys);
	free(taken);
	free(vals);
	if (err) {
		errno = -err;
		return NULL;
	}
	return c;
}

struct collection *collect__combined(struct tracer *t, uint32_t tgid, const struct frame_resolver *r)
{
	struct site_table st = { 0 };
	uint64_t key, next;
	int fd = tracer__combined_fd(t), err = 0;
	uint64_t *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct combined_info ci;
		struct leak_site *site;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &ci) || ci.allocs == 0)
			continue;
		site = table_get(&st, key, tgid, LEAK_DEFINITE);
		if (!site) {
			err = -ENOMEM;
			break;
		}
		site->bytes = ci.bytes;
		site->allocs = ci.allocs;
	}
	if (err) {
		table_free(&st);
		errno = -err;
		return NULL;
	}
	return finish(t, &st, r);
}

void collection__free(struct collection *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nsites; i++) {
		free(c->sites[i].frames);
		free(c->sites[i].blocks);
	}
	free(c->sites);
	free(c);
}
