// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Allocation tracing: uprobes on a process's allocator, tracepoints on the kernel's.
 *
 * Every allocation still outstanding is a row of `blocks`, keyed by (process, address),
 * pointing at a deduplicated stack in `stacks`. Nothing is dropped silently: every event
 * that cannot be recorded is counted in `counters`.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "memleak.h"

#define EBUSY 16
#define EEXIST 17
#define SIGSTOP 19

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Settings, fixed at load time by user space. */
const volatile __u64 min_size = 0;
const volatile __u64 max_size = ~0ULL;
const volatile __u32 sample_rate = 1;
const volatile bool trace_events = false;	/* -t: every alloc/free to the ring buffer */
const volatile bool combined_only = false;	/* keep per-stack totals in the kernel */
const volatile bool wa_missing_free = false;
const volatile bool follow_children = false;	/* track processes forked by traced ones */
const volatile bool hold_execs = false;		/* hold traced processes after exec, too */
const volatile bool kernel_stacks = false;	/* kernel mode: stacks are kernel stacks */
const volatile __u64 page_size = 4096;
/* Probes fire but record nothing: what tracing costs before any work (diagnostics). */
const volatile bool record_nothing = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct block_key);
	__type(value, struct block_info);
	__uint(max_entries, 1 << 20);
} blocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct stack_trace);
	__uint(max_entries, 1 << 16);
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct combined_info);
	__uint(max_entries, 1 << 16);
} combined SEC(".maps");

/* A traced allocator call between its entry and its return. */
struct pending_call {
	__u64 size;
	__u64 arg;	/* realloc: old pointer; posix_memalign: out-pointer */
	__u64 sp;	/* stack pointer at entry: pairs the return with its entry */
	__u32 fn;
	__u32 record;	/* 0: nested in another allocator call, filtered or not sampled */
};

/*
 * An executable mapping a thread's stacks went through, and the unwind rows of its file:
 * the walk asks the kernel for a mapping (bpf_find_vma) once per thread and file, not once
 * per frame. Valid while `gen` is cache_gen.
 */
struct module_slot {
	__u64 start, end;	/* the mapping */
	__u64 base;		/* the address of its file's offset 0 */
	__u64 ino;
	__u32 dev;
	__u32 first;		/* its rows in unwind_rows; count 0: walk by frame pointer */
	__u32 count;
	__u32 flags;		/* UNWIND_OBJ_* */
	__u64 gen;
};

#define MODULE_SLOTS 4

/*
 * What the walk learnt of one return address: its mapping, and the rule that finds its
 * caller. Stacks repeat their return addresses, so a thread keeps the last ones it saw,
 * by address; valid while `gen` is cache_gen.
 */
struct frame_memo {
	__u64 pc;
	__u64 gen;
	__u64 base;
	__u64 ino;
	__u32 dev;
	__u32 flags;		/* UNWIND_OBJ_* of its object */
	struct unwind_row row;	/* UNWIND_FRAME_POINTER: no rows here */
};

#define FRAME_MEMOS 128	/* a power of 2 */

/* Not a rule of unwind_rows: the caller is found by frame pointer. */
#define UNWIND_FRAME_POINTER 0xff

struct thread_state {
	__u32 depth;
	__u32 next_slot;	/* the module slot to replace next */
	/* The thread's stack mapping, where a walk may read without faulting. */
	__u64 stack_lo;
	__u64 stack_hi;
	struct pending_call calls[MEMLEAK_MAX_NEST];
	struct module_slot mods[MODULE_SLOTS];
	struct frame_memo memos[FRAME_MEMOS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct thread_state);
	__uint(max_entries, 1 << 16);
} threads SEC(".maps");

/* Processes whose exec/exit/fork events user space wants. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 1 << 16);
} traced SEC(".maps");

/* Processes waiting in hold_at_start: lets every other syscall exit return at once. */
__u64 holds_pending = 0;

/*
 * Processes to hold before their first instruction, until their probes are attached: new
 * ones, and with hold_execs ones that have just executed a new program.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 1 << 12);
} hold_at_start SEC(".maps");

/* Processes that stopped in _exit or abort: each stops there once. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 1 << 16);
} ending SEC(".maps");

/* Threads in exit(): the stack pointer at the call (tid -> sp). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1 << 16);
} exit_sps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, CNT__COUNT);
} counters SEC(".maps");

/*
 * Unwind rows of every object user space has read (runner/cfi.c), each object's rows one
 * sorted run, only ever appended to.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct unwind_row);
	__uint(max_entries, MEMLEAK_UNWIND_ROWS);
} unwind_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct unwind_key);
	__type(value, struct unwind_object);
	__uint(max_entries, MEMLEAK_UNWIND_OBJECTS);
} unwind_objects SEC(".maps");

/*
 * Bumped when a thread's module slots may be wrong: user space added unwind rows, or a
 * traced process unloaded a library (its address range can be reused).
 */
__u64 cache_gen = 1;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct stack_trace);
	__uint(max_entries, 1);
} stack_scratch SEC(".maps");

/*
 * A copy of the top of the user stack, read in one go: one read of a few KiB costs about
 * what one read of 8 bytes does (90 ns here), and a walk makes one or two reads a frame.
 * `owner` says whose walk uses this CPU's scratch: a program preempted mid-walk (kernels
 * with full preemption) finds another's there and keeps no stack rather than a mix.
 */
#define STACK_COPY 16384

struct stack_copy {
	__u64 owner;
	__u8 bytes[STACK_COPY];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct stack_copy);
	__uint(max_entries, 1);
} stack_copies SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

static const struct thread_state zero_state;

static __always_inline void count_n(__u32 which, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &which);

	if (v)
		*v += n;
}

static __always_inline void count(__u32 which)
{
	count_n(which, 1);
}

/*
 * Drops the calls on top of a thread's stack that can no longer be in progress: their
 * entry stack pointer is below `sp`, so their frames are gone and their returns were
 * missed. Returns the new depth.
 */
static __always_inline __u32 drop_stale(struct thread_state *ts, __u64 sp)
{
	__u32 d = ts->depth, i, dropped = 0;

	if (d > MEMLEAK_MAX_NEST)
		d = MEMLEAK_MAX_NEST;
	for (i = 0; i < MEMLEAK_MAX_NEST; i++) {
		__u32 top = d - 1;
		__u64 top_sp;

		if (d == 0 || top >= MEMLEAK_MAX_NEST)
			break;
		top_sp = ts->calls[top & (MEMLEAK_MAX_NEST - 1)].sp;
		if (top_sp >= sp)
			break;
		d--;
		dropped++;
	}
	if (dropped)
		count_n(CNT_UNMATCHED_RETURNS, dropped);
	return d;
}

/*
 * The stack pointer, read straight from the context: the verifier rejects a context
 * access through a pointer the compiler has offset, so the load must not be rewritten.
 */
static __always_inline __u64 read_sp(struct pt_regs *ctx)
{
	return *(volatile unsigned long *)&PT_REGS_SP(ctx);
}

/* An executable mapping, as the kernel has it; all 0 when the address is in none. */
struct found_module {
	__u64 start, end, base, ino;
	__u32 dev;
};

static long module_vma_found(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct found_module *f = data;
	struct file *file = BPF_CORE_READ(vma, vm_file);

	/* A return address must be in executable memory; anything else is a broken walk. */
	if (!(BPF_CORE_READ(vma, vm_flags) & 0x4 /* VM_EXEC */))
		return 0;
	f->start = BPF_CORE_READ(vma, vm_start);
	f->end = BPF_CORE_READ(vma, vm_end);
	f->base = f->start - (BPF_CORE_READ(vma, vm_pgoff) << 12);
	if (file) {
		f->ino = BPF_CORE_READ(file, f_inode, i_ino);
		f->dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
	}
	return 0;
}

struct mapping_loop {
	struct task_struct *task;
	struct stack_trace *st;
};

static long map_one_frame(__u32 i, void *data)
{
	struct mapping_loop *m = data;
	struct found_module f = {};
	long err;
	__u32 k = i & (MEMLEAK_STACK_SLOTS - 1);

	if (k >= MEMLEAK_MAX_STACK_DEPTH)
		return 1;
	err = bpf_find_vma(m->task, m->st->ips[k], module_vma_found, &f, 0);
	m->st->maps[k].base = f.base;
	m->st->maps[k].ino = f.ino;
	m->st->maps[k].dev = f.dev;
	m->st->maps[k].pad = 0;
	/* -EBUSY: another thread holds the address space's lock; not an answer. */
	if (err == -EBUSY)
		m->st->incomplete = 1;
	else if (err)
		count(CNT_VMA_MISSES);
	return 0;
}

/*
 * Records the mapping of each user frame of a new stack (once per stack, not per call).
 * bpf_loop keeps the verifier's work to one pass over the body.
 */
static __always_inline void save_mappings(struct stack_trace *st)
{
	struct mapping_loop m = { .task = bpf_get_current_task_btf(), .st = st };

	bpf_loop(st->nr < MEMLEAK_MAX_STACK_DEPTH ? st->nr : MEMLEAK_MAX_STACK_DEPTH, map_one_frame,
		 &m, 0);
}

struct stack_range {
	__u64 lo, hi;
};

static long stack_vma_found(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct stack_range *r = data;

	r->lo = BPF_CORE_READ(vma, vm_start);
	r->hi = BPF_CORE_READ(vma, vm_end);
	return 0;
}

/*
 * Learns the bounds of the mapping the thread's stack pointer is in, once per thread (and
 * again when it runs on another stack: a signal stack, a coroutine). Returns false when
 * the address space's lock is busy.
 */
static __always_inline bool stack_bounds(struct thread_state *ts, __u64 sp)
{
	if (sp >= ts->stack_lo && sp < ts->stack_hi)
		return true;
	struct stack_range r = {};

	bpf_find_vma(bpf_get_current_task_btf(), sp, stack_vma_found, &r, 0);
	ts->stack_lo = r.lo;
	ts->stack_hi = r.hi;
	return sp >= r.lo && sp < r.hi;
}

/*
 * The executable mapping `pc` is in, from the thread's slots or else the kernel. NULL
 * when it is in none (a walk gone astray), or the address space's lock is busy (*busy).
 */
static __always_inline struct module_slot *module_of(struct thread_state *ts, __u64 pc, bool *busy)
{
	__u64 gen = cache_gen;
	struct found_module f = {};
	struct unwind_object *o;
	struct unwind_key key;
	struct module_slot *m;
	long err;

	for (int i = 0; i < MODULE_SLOTS; i++) {
		m = &ts->mods[i];
		if (m->gen == gen && pc >= m->start && pc < m->end)
			return m;
	}
	err = bpf_find_vma(bpf_get_current_task_btf(), pc, module_vma_found, &f, 0);
	if (err == -EBUSY)
		*busy = true;
	if (err || !f.end)
		return NULL;
	m = &ts->mods[ts->next_slot++ & (MODULE_SLOTS - 1)];
	m->start = f.start;
	m->end = f.end;
	m->base = f.base;
	m->ino = f.ino;
	m->dev = f.dev;
	key.ino = f.ino;
	key.dev = f.dev;
	key.pad = 0;
	o = f.ino ? bpf_map_lookup_elem(&unwind_objects, &key) : NULL;
	m->first = o ? o->first : 0;
	m->count = o ? o->count : 0;
	m->flags = o ? o->flags : 0;
	m->gen = gen;
	return m;
}

/*
 * The index in unwind_rows of the row of an object's run that applies at file offset
 * `off` (the last one at or before it), or ~0 when there is none. A global function: the
 * verifier checks its loop once, not at each place a stack is walked.
 */
__noinline __u32 find_row(__u32 first, __u32 count, __u64 off)
{
	__u32 lo = 0, hi = count, k;

	for (int i = 0; i < 24 && lo < hi; i++) {
		__u32 mid = lo + (hi - lo) / 2;
		struct unwind_row *r;

		k = first + mid;
		r = bpf_map_lookup_elem(&unwind_rows, &k);
		if (!r)
			return ~0U;
		if (r->offset <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || lo < hi)
		return ~0U;
	return first + lo - 1;
}

/* A walk between two frames: scalars only, so the verifier need not follow their values. */
struct walk_state {
	__u64 pc, sp, bp;	/* the registers of the frame being walked */
	__u64 hi;		/* end of the stack mapping */
	__u64 ra_slot;		/* where the return address that is pc was read */
	__u64 from, copied;	/* the stack copy: from this address, this many bytes */
	__u32 nr;		/* frames recorded */
	__u8 skip;		/* the frame is not recorded: a probe site */
	__u8 exact;		/* pc is where the thread is, not a return address */
	__u8 busy;		/* a mapping could not be read: the lock was busy */
	__u8 pad;
};

/*
 * This CPU's walk: on the BPF stack it would count against the 512 bytes that a program
 * and the walk's nested calls share, each frame rounded up to 32 by 6.1's verifier.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk_state);
} walks SEC(".maps");

struct unwind {
	struct thread_state *ts;
	struct stack_trace *st;		/* where the frames go */
	struct stack_copy *copy;	/* NULL: no copy of the stack */
	struct walk_state *w;
};

static __always_inline bool on_stack(const struct walk_state *w, __u64 addr, __u64 len)
{
	return addr >= w->sp && addr + len <= w->hi && !(addr & 7);
}

/*
 * The 8 bytes of the stack at `addr`: from `copy` (the stack from `from`, `copied` bytes)
 * where it has them. 0 or -errno.
 */
static __always_inline long stack_value(struct stack_copy *copy, __u64 from, __u64 copied, __u64 addr,
			    __u64 *val)
{
	__u64 off = addr - from;

	if (!val)
		return -1;
	if (copy && addr >= from && off + 8 <= copied && off <= STACK_COPY - 8) {
		*val = *(__u64 *)&copy->bytes[off];
		return 0;
	}
	return bpf_probe_read_user(val, sizeof(*val), (void *)addr);
}

static __always_inline long stack_read(struct stack_copy *copy, const struct walk_state *w,
				       __u64 addr, __u64 *val)
{
	return stack_value(copy, w->from, w->copied, addr, val);
}

/*
 * A function with a return probe returns through the uprobe trampoline: the kernel put
 * the trampoline's address in its return address's place, and keeps the real one for the
 * thread, with the stack address it replaced. Returns the real one, 0 if none is known.
 */
__noinline __u64 real_return_address(__u64 slot)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct return_instance *ri = BPF_CORE_READ(task, utask, return_instances);

	for (int i = 0; i < 16 && ri; i++) {
		if (BPF_CORE_READ(ri, stack) == slot)
			return BPF_CORE_READ(ri, orig_ret_vaddr);
		ri = BPF_CORE_READ(ri, next);
	}
	return 0;
}

/* The address of the uprobe return trampoline of the thread's process (0: none yet). */
static __always_inline __u64 trampoline(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return BPF_CORE_READ(task, mm, uprobes_state.xol_area, vaddr);
}

/*
 * The mapping of `pc` and the rule to its caller: from the thread's memos, or else from
 * its mapping's unwind rows (their last one at or before the pc; before a return address,
 * the call that pushed it). The memo's index, -1 when the pc is in no mapping, -2 when
 * the address space's lock was busy.
 */
static __always_inline int frame_memo(struct thread_state *ts, __u64 pc, int exact)
{
	__u64 gen = cache_gen;
	/* A probe site's own address is a key apart: it is where the thread is, not a return. */
	__u64 key = exact ? pc | 1ULL << 63 : pc;
	__u32 h = key ^ (key >> 9) ^ (key >> 21) ^ (key >> 63);
	struct unwind_row *row;
	struct frame_memo *f;
	struct module_slot *m;
	bool busy = false;
	__u32 k;

	if (!ts)
		return -1;
	/* Masked last, after a barrier: clang would mask before the last xor, losing 6.1 the bound. */
	barrier_var(h);
	h &= FRAME_MEMOS - 1;
	f = &ts->memos[h];
	if (f->pc == key && f->gen == gen)
		return h;
	m = module_of(ts, pc, &busy);
	if (!m)
		return busy ? -2 : -1;
	f->pc = key;
	f->gen = gen;
	f->base = m->base;
	f->ino = m->ino;
	f->dev = m->dev;
	f->flags = m->flags;
	f->row.cfa = UNWIND_FRAME_POINTER;
	if (m->count) {
		k = find_row(m->first, m->count, pc - m->base - (exact ? 0 : 1));
		row = bpf_map_lookup_elem(&unwind_rows, &k);
		/* A place no description covers: the frame pointer may still lead on. */
		if (row && row->cfa != UNWIND_STOP)
			f->row = *row;
	}
	return h;
}

/* The memo of the walk's pc; NULL when the pc is in no mapping. */
static __always_inline struct frame_memo *frame_of(struct thread_state *ts, struct walk_state *w)
{
	int h = frame_memo(ts, w->pc, w->exact);

	if (h == -2)
		w->busy = 1;
	if (h < 0)
		return NULL;
	return &ts->memos[h & (FRAME_MEMOS - 1)];
}

/*
 * One frame: records its pc and mapping (unless its object is hidden: the preload
 * library), then finds its caller's registers, by the object's unwind rows, or by frame
 * pointer where it has none. Returns 1 to end the walk. A global function: the verifier
 * checks it once, not once for each frame the loop could reach.
 */
__noinline int unwind_step(struct thread_state *ts, struct stack_trace *st,
			   struct stack_copy *copy, struct walk_state *w)
{
	struct frame_memo *f;
	__u64 cfa, ra, at, bp;
	__u32 k;
	__u8 rule;

	if (!ts || !st || !w)
		return 1;
	bp = w->bp;
	k = w->nr;

	f = frame_of(ts, w);
	/* Code in no file may be the uprobe trampoline, standing for a real return address. */
	if (f && !f->ino && !w->exact && w->pc == trampoline()) {
		w->pc = real_return_address(w->ra_slot);
		f = w->pc ? frame_of(ts, w) : NULL;
	}
	if (!f) {
		if (!w->busy)
			count(CNT_VMA_MISSES);
		return 1;
	}
	if (!(f->flags & UNWIND_OBJ_HIDDEN) && !w->skip) {
		struct frame_mapping *fm;

		if (k >= MEMLEAK_MAX_STACK_DEPTH)
			return 1;
		st->ips[k & (MEMLEAK_STACK_SLOTS - 1)] = w->pc;
		fm = &st->maps[k & (MEMLEAK_STACK_SLOTS - 1)];
		fm->base = f->base;
		fm->ino = f->ino;
		fm->dev = f->dev;
		fm->pad = 0;
		w->nr = k + 1;
	}
	rule = f->row.cfa;
	if (rule == UNWIND_END)
		return 1;
	if (rule == UNWIND_CFA_RSP || rule == UNWIND_CFA_RBP) {
		cfa = (rule == UNWIND_CFA_RSP ? w->sp : w->bp) + (__s64)f->row.cfa_off;
		at = cfa - 8;
		if (cfa <= w->sp || !on_stack(w, at, 8))
			return 1;
		if (stack_read(copy, w, at, &ra))
			return 1;
		if (f->row.flags & UNWIND_RBP_SAVED) {
			__u64 saved = cfa + (__s64)f->row.rbp_off;

			if (!on_stack(w, saved, 8) || stack_read(copy, w, saved, &bp))
				return 1;
		}
	} else {
		/*
		 * No rows for this place: the frame pointer's. It must lie on the stack, above
		 * the stack pointer: code without frame pointers leaves any value in the
		 * register, and reading an unmapped address costs a page fault, the dearest
		 * thing a probe can do here.
		 */
		at = w->bp + 8;
		if (!on_stack(w, w->bp, 16) || stack_read(copy, w, w->bp, &bp) || stack_read(copy, w, at, &ra))
			return 1;
		cfa = w->bp + 16;
	}
	if (!ra)
		return 1;
	w->ra_slot = at;
	w->pc = ra;
	w->sp = cfa;
	w->bp = bp;
	w->exact = 0;
	w->skip = 0;
	return 0;
}

static long unwind_one(__u32 i, void *data)
{
	struct unwind *u = data;

	return unwind_step(u->ts, u->st, u->copy, u->w) ? 1 : 0;
}

/*
 * The user stack, never reading outside the thread's stack mapping: by each object's
 * call frame information (bpf/memleak.h, runner/cfi.c), so code built without frame
 * pointers (the C library, most programs at -O2) is walked through, and by frame pointer
 * where an object has none. At a probe site of the preload library (`at_site`) the
 * walk starts at the site itself, which is not recorded, nor are the library's frames
 * (or, without its rows, its frame pointer leads past them): the first frame is the
 * program's call. At a return probe, it starts at the return address. The frames go to
 * this CPU's stack_scratch. Returns their number, 0 when the stack's bounds are not known
 * yet. A global function: the verifier checks it once, apart from its callers.
 */
__noinline __u32 walk_user_stack(struct pt_regs *regs, struct thread_state *ts, int at_site)
{
	__u32 zero = 0;
	struct stack_trace *st = bpf_map_lookup_elem(&stack_scratch, &zero);
	struct stack_copy *copy = bpf_map_lookup_elem(&stack_copies, &zero);
	struct walk_state *w = bpf_map_lookup_elem(&walks, &zero);
	struct unwind u = { .st = st, .ts = ts, .w = w };
	__u64 len;

	if (!ts || !st || !copy || !w)
		return 0;
	w->pc = PT_REGS_IP(regs);
	w->sp = read_sp(regs);
	w->bp = PT_REGS_FP(regs);
	w->ra_slot = 0;
	w->from = 0;
	w->copied = 0;
	w->nr = 0;
	w->skip = at_site;
	w->exact = at_site;
	w->busy = 0;
	if (!stack_bounds(ts, w->sp))
		return 0;
	w->hi = ts->stack_hi;
	len = w->hi - w->sp;
	if (len > STACK_COPY)
		len = STACK_COPY;
	/* Pages of the stack not present make the read fail: the walk reads frame by frame. */
	if (len >= 8 && !bpf_probe_read_user(copy->bytes, len, (void *)w->sp)) {
		u.copy = copy;
		w->from = w->sp;
		w->copied = len;
	}
	bpf_loop(MEMLEAK_MAX_STACK_DEPTH + 2, unwind_one, &u, 0);
	st->incomplete = w->busy;
	return w->nr;
}

/*
 * Captures the current stack and stores it once, keyed by a hash of its frames. Hashing
 * the frames ourselves avoids the bucket collisions of a stack-trace map, which would
 * silently lose stacks. `ts` is the thread's state for user stacks, NULL for kernel
 * stacks. Returns 0 when no stack could be kept.
 */
static __always_inline __u64 save_stack(void *ctx, struct thread_state *ts, bool at_site)
{
	__u32 zero = 0;
	struct stack_trace *st = bpf_map_lookup_elem(&stack_scratch, &zero), *stored;
	struct stack_copy *copy = bpf_map_lookup_elem(&stack_copies, &zero);
	__u64 hash = 0xcbf29ce484222325ULL, me = bpf_get_current_pid_tgid();
	bool walked;
	long len = 0;
	__u32 nr, i;

	if (!st || !copy)
		return 0;
	copy->owner = me;
	st->incomplete = 0;
	if (ts)
		len = walk_user_stack(ctx, ts, at_site) * sizeof(__u64);
	walked = len > 0;
	/* Kernel stacks, and a user stack whose bounds the busy lock kept from us. */
	if (len <= 0)
		len = bpf_get_stack(ctx, st->ips, sizeof(st->ips),
				    ts ? BPF_F_USER_STACK | (at_site ? 1 : 0) : 0);
	if (len <= 0) {
		count(CNT_STACK_ERRORS);
		return 0;
	}
	if (copy->owner != me) {
		count(CNT_STACK_ERRORS);
		return 0;
	}
	nr = len / sizeof(__u64);
	st->nr = nr;
	for (i = 0; i < MEMLEAK_MAX_STACK_DEPTH; i++) {
		if (i >= nr)
			break;
		hash ^= st->ips[i];
		hash *= 0x100000001b3ULL;
		hash ^= hash >> 29;
	}
	hash ^= nr;
	if (!hash)
		hash = 1;
	stored = bpf_map_lookup_elem(&stacks, &hash);
	if (stored) {
		/* Seen before; its mappings may still be missing where a lock was busy. */
		if (stored->incomplete && !kernel_stacks) {
			stored->incomplete = 0;
			save_mappings(stored);
		}
		return hash;
	}
	/* The walk recorded each frame's mapping; bpf_get_stack's frames need theirs read. */
	if (!kernel_stacks && !walked)
		save_mappings(st);
	if (bpf_map_update_elem(&stacks, &hash, st, BPF_NOEXIST) && !bpf_map_lookup_elem(&stacks, &hash)) {
		count(CNT_STACK_ERRORS);
		return 0;
	}
	return hash;
}

static __always_inline void emit(__u32 type, __u32 tgid, __u32 tid, __u32 fn, __u64 addr,
				 __u64 size, __u64 stack_hash)
{
	struct memleak_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(CNT_RINGBUF_DROPS);
		return;
	}
	e->type = type;
	e->tgid = tgid;
	e->tid = tid;
	e->fn = fn;
	e->ts_ns = bpf_ktime_get_ns();
	e->addr = addr;
	e->size = size;
	e->stack_hash = stack_hash;
	e->ppid = 0;
	e->exit_code = 0;
	e->path[0] = '\0';
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void combined_add(__u64 stack_hash, __u64 size)
{
	struct combined_info *c, zero = {};

	c = bpf_map_lookup_elem(&combined, &stack_hash);
	if (!c) {
		bpf_map_update_elem(&combined, &stack_hash, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&combined, &stack_hash);
		if (!c) {
			count(CNT_COMBINED_FULL);
			return;
		}
	}
	__sync_fetch_and_add(&c->bytes, size);
	__sync_fetch_and_add(&c->allocs, 1);
}

static __always_inline void combined_sub(__u64 stack_hash, __u64 size)
{
	struct combined_info *c = bpf_map_lookup_elem(&combined, &stack_hash);

	if (!c)
		return;
	__sync_fetch_and_sub(&c->bytes, size);
	__sync_fetch_and_sub(&c->allocs, 1);
}

/* Forgets a tracked block. Returns 1 when the block was tracked. */
static __always_inline int block_free(__u32 tgid, __u32 tid, __u64 addr, __u32 fn)
{
	struct block_key key = { .tgid = tgid, .addr = addr };
	struct block_info *info;
	__u64 size, stack_hash;

	/* Nothing else to do with the block: the delete is the lookup. */
	if (!combined_only && !trace_events)
		return bpf_map_delete_elem(&blocks, &key) == 0;
	info = bpf_map_lookup_elem(&blocks, &key);
	if (!info)
		return 0;
	size = info->size;
	stack_hash = info->stack_hash;
	if (bpf_map_delete_elem(&blocks, &key))
		return 0;	/* freed concurrently by another thread */
	if (combined_only)
		combined_sub(stack_hash, size);
	if (trace_events)
		emit(EV_FREE, tgid, tid, fn, addr, size, stack_hash);
	return 1;
}

static __always_inline void block_alloc(void *ctx, struct thread_state *ts, __u32 tgid, __u32 tid,
					__u64 addr, __u64 size, __u32 fn, bool at_site)
{
	struct block_key key = { .tgid = tgid, .addr = addr };
	struct block_info info = {
		.size = size,
		.ts_ns = bpf_ktime_get_ns(),
		.tid = tid,
		.fn = fn,
	};

	long err;

	info.stack_hash = save_stack(ctx, ts, at_site);
	err = bpf_map_update_elem(&blocks, &key, &info, BPF_NOEXIST);
	/*
	 * An address handed out again while still tracked means its free was missed: retire
	 * the old record (and its stack's totals) before storing the new one.
	 */
	if (err == -EEXIST) {
		if (!wa_missing_free)
			count(CNT_MISSED_FREES);
		block_free(tgid, tid, addr, fn);
		err = bpf_map_update_elem(&blocks, &key, &info, BPF_ANY);
	}
	if (err) {
		count(CNT_MAP_FULL);
		return;
	}
	if (combined_only && info.stack_hash)
		combined_add(info.stack_hash, size);
	if (trace_events)
		emit(EV_ALLOC, tgid, tid, fn, addr, size, info.stack_hash);
}

static __always_inline struct thread_state *thread_state(__u32 tid)
{
	struct thread_state *ts = bpf_map_lookup_elem(&threads, &tid);

	if (ts)
		return ts;
	if (bpf_map_update_elem(&threads, &tid, &zero_state, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&threads, &tid)) {
		count(CNT_SCRATCH_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(&threads, &tid);
}

static __always_inline bool size_wanted(__u64 size)
{
	if (size < min_size || size > max_size)
		return false;
	if (sample_rate > 1 && bpf_get_prandom_u32() % sample_rate)
		return false;
	return true;
}

/*
 * Records an allocator entry. Calls whose entry was seen but whose return was not (their
 * stack frame is gone: the recorded sp is below the current one) are discarded first.
 * A call made while another allocator call is in progress on this thread is the
 * allocator's own business (reallocarray calling realloc): only the outermost counts.
 */

static __always_inline int enter(struct pt_regs *ctx, __u32 fn, __u64 size, __u64 arg)
{
	__u64 sp = read_sp(ctx);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct thread_state *ts;
	struct pending_call *c;
	__u32 d;

	if (record_nothing)
		return 0;
	ts = thread_state(tid);
	if (!ts)
		return 0;
	/*
	 * An entry at the same stack pointer as the call on top is a tail call from inside
	 * that allocator (reallocarray jumping to realloc): nested, not stale.
	 */
	d = drop_stale(ts, sp);
	if (d >= MEMLEAK_MAX_NEST) {
		count(CNT_NEST_OVERFLOW);
		ts->depth = d;
		return 0;
	}
	/*
	 * The mask only restates the bound for the verifier (MEMLEAK_MAX_NEST is a power of 2);
	 * the barrier keeps clang from dropping it, which 6.1's verifier cannot follow.
	 */
	barrier_var(d);
	c = &ts->calls[d & (MEMLEAK_MAX_NEST - 1)];
	c->size = size;
	c->arg = arg;
	c->sp = sp;
	c->fn = fn;
	if (d > 0)
		count(CNT_NESTED);
	c->record = d == 0 && (fn == FN_REALLOC || fn == FN_REALLOCARRAY || fn == FN_MREMAP ||
			       size_wanted(size));
	ts->depth = d + 1;
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(malloc_enter, size_t size)
{
	return enter(ctx, FN_MALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(new_enter, size_t size)
{
	return enter(ctx, FN_NEW, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(valloc_enter, size_t size)
{
	return enter(ctx, FN_VALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(pvalloc_enter, size_t size)
{
	/* pvalloc rounds the size up to whole pages. */
	return enter(ctx, FN_PVALLOC, size ? (size + page_size - 1) & ~(page_size - 1) : page_size, 0);
}

SEC("uprobe")
int BPF_KPROBE(calloc_enter, size_t nmemb, size_t size)
{
	return enter(ctx, FN_CALLOC, nmemb * size, 0);
}

SEC("uprobe")
int BPF_KPROBE(realloc_enter, void *ptr, size_t size)
{
	return enter(ctx, FN_REALLOC, size, (__u64)ptr);
}

SEC("uprobe")
int BPF_KPROBE(reallocarray_enter, void *ptr, size_t nmemb, size_t size)
{
	return enter(ctx, FN_REALLOCARRAY, nmemb * size, (__u64)ptr);
}

SEC("uprobe")
int BPF_KPROBE(posix_memalign_enter, void **memptr, size_t alignment, size_t size)
{
	return enter(ctx, FN_POSIX_MEMALIGN, size, (__u64)memptr);
}

SEC("uprobe")
int BPF_KPROBE(aligned_alloc_enter, size_t alignment, size_t size)
{
	return enter(ctx, FN_ALIGNED_ALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(memalign_enter, size_t alignment, size_t size)
{
	return enter(ctx, FN_MEMALIGN, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(mmap_enter, void *addr, size_t length)
{
	return enter(ctx, FN_MMAP, length, 0);
}

SEC("uprobe")
int BPF_KPROBE(mremap_enter, void *old_address, size_t old_size, size_t new_size)
{
	return enter(ctx, FN_MREMAP, new_size, (__u64)old_address);
}

/*
 * realloc(NULL, n) is malloc(n). On success the old block is gone (moved or resized in
 * place); realloc(p, 0) frees p and returns NULL. A failure leaves the old block as it was.
 * Returns whether the new block is to be recorded.
 */
static __always_inline bool realloc_done(__u32 tgid, __u32 tid, __u64 old, __u64 addr, __u64 size,
					 __u32 fn)
{
	if (old && (addr || size == 0))
		block_free(tgid, tid, old, fn);
	return addr && size_wanted(size);
}

/* One return program serves every allocator: the entry says which one returned. */
SEC("uretprobe")
int BPF_KRETPROBE(alloc_return, void *ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid, tgid = pid_tgid >> 32;
	/* The return popped the return address the entry saw at sp. */
	__u64 entry_sp = read_sp(ctx) - 8;
	struct thread_state *ts = bpf_map_lookup_elem(&threads, &tid);
	/*
	 * The entry's slot, not a copy: nothing reuses it before this program ends, and 6.1's
	 * verifier counts a copy against the stack the walk's calls share (512 bytes).
	 */
	const struct pending_call *c;
	__u64 addr = (__u64)ret;
	__u32 d;

	if (record_nothing)
		return 0;
	if (!ts) {
		count(CNT_UNMATCHED_RETURNS);
		return 0;
	}
	d = drop_stale(ts, entry_sp);
	if (d == 0 || d > MEMLEAK_MAX_NEST || ts->calls[(d - 1) & (MEMLEAK_MAX_NEST - 1)].sp != entry_sp) {
		ts->depth = d;
		count(CNT_UNMATCHED_RETURNS);
		return 0;
	}
	c = &ts->calls[(d - 1) & (MEMLEAK_MAX_NEST - 1)];
	ts->depth = d - 1;

	switch (c->fn) {
	case FN_POSIX_MEMALIGN:
		/* Returns 0 on success, the block is written through the out-pointer. */
		if (addr != 0 || !c->record)
			return 0;
		if (bpf_probe_read_user(&addr, sizeof(addr), (void *)c->arg) || !addr)
			return 0;
		break;
	case FN_REALLOC:
	case FN_REALLOCARRAY:
		if (realloc_done(tgid, tid, c->arg, addr, c->size, c->fn) && c->record)
			break;
		return 0;
	case FN_MMAP:
		if (addr == ~0ULL || !c->record)
			return 0;
		break;
	case FN_MREMAP:
		if (addr == ~0ULL)
			return 0;
		block_free(tgid, tid, c->arg, c->fn);
		if (!c->record || !size_wanted(c->size))
			return 0;
		break;
	default:
		if (!addr || !c->record)
			return 0;
	}
	block_alloc(ctx, ts, tgid, tid, addr, c->size, c->fn, false);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(free_enter, void *ptr)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (ptr && !record_nothing)
		block_free(pid_tgid >> 32, (__u32)pid_tgid, (__u64)ptr, FN_FREE);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(delete_enter, void *ptr)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (ptr && !record_nothing)
		block_free(pid_tgid >> 32, (__u32)pid_tgid, (__u64)ptr, FN_DELETE);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(munmap_enter, void *addr)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (!record_nothing)
		block_free(pid_tgid >> 32, (__u32)pid_tgid, (__u64)addr, FN_MUNMAP);
	return 0;
}

/*
 * The probe sites of the preload library (runner/preload): each is called after the C
 * library's allocator returned (before it frees), with the block and the function the
 * program called. One site per call, on a nop the kernel turns into a call, and no state
 * between entry and return.
 */
static __always_inline void site_alloc_common(struct pt_regs *ctx, __u64 old, __u64 addr, __u64 size,
					      __u32 fn, bool is_realloc)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid, tgid = pid_tgid >> 32;
	struct thread_state *ts;

	if (record_nothing)
		return;
	if (is_realloc ? !realloc_done(tgid, tid, old, addr, size, fn) : !addr || !size_wanted(size))
		return;
	ts = thread_state(tid);
	if (ts)
		block_alloc(ctx, ts, tgid, tid, addr, size, fn, true);
}

SEC("uprobe")
int BPF_KPROBE(site_alloc, void *ptr, size_t size, __u32 fn)
{
	site_alloc_common(ctx, 0, (__u64)ptr, size, fn, false);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(site_realloc, void *old, void *ptr, size_t size, __u32 fn)
{
	site_alloc_common(ctx, (__u64)old, (__u64)ptr, size, fn, true);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(site_free, void *ptr, __u32 fn)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (ptr && !record_nothing)
		block_free(pid_tgid >> 32, (__u32)pid_tgid, (__u64)ptr, fn);
	return 0;
}

/*
 * dlopen/dlclose: a library's path and load bias, read from its link_map (l_addr, l_name:
 * the first two members, fixed by <link.h>), so its frames can be symbolized even after
 * it was unloaded.
 */
static __always_inline void emit_module(__u32 type, __u64 handle)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct memleak_event *e;
	__u64 name = 0;

	if (!handle)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(CNT_RINGBUF_DROPS);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->tgid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->ts_ns = bpf_ktime_get_ns();
	bpf_probe_read_user(&e->addr, sizeof(e->addr), (void *)handle);
	bpf_probe_read_user(&name, sizeof(name), (void *)(handle + 8));
	if (name)
		bpf_probe_read_user_str(e->path, sizeof(e->path), (void *)name);
	bpf_ringbuf_submit(e, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(dlopen_return, void *handle)
{
	emit_module(EV_MODULE_LOAD, (__u64)handle);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(dlclose_enter, void *handle)
{
	/* The library's addresses may soon hold another: every thread's slots are stale. */
	__sync_fetch_and_add(&cache_gen, 1);
	emit_module(EV_MODULE_UNLOAD, (__u64)handle);
	return 0;
}

/* --- process lifecycle ------------------------------------------------------------------ */

static __always_inline bool is_traced(__u32 tgid)
{
	return bpf_map_lookup_elem(&traced, &tgid) != NULL;
}

static __always_inline void hold(__u32 tgid)
{
	__u8 one = 1;

	if (!bpf_map_update_elem(&hold_at_start, &tgid, &one, BPF_NOEXIST))
		__sync_fetch_and_add(&holds_pending, 1);
}

/* A lifecycle event, zeroed and stamped, or NULL (counted) when the ring buffer is full. */
static __always_inline struct memleak_event *new_event(__u32 type, __u32 tgid, __u32 tid)
{
	struct memleak_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(CNT_RINGBUF_DROPS);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->tgid = tgid;
	e->tid = tid;
	e->ts_ns = bpf_ktime_get_ns();
	return e;
}

static __always_inline void emit_proc(__u32 type, __u32 tgid, __u32 ppid, __s32 exit_code)
{
	struct memleak_event *e = new_event(type, tgid, tgid);

	if (!e)
		return;
	e->ppid = ppid;
	e->exit_code = exit_code;
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	/* Threads share their process's tgid: only new processes matter. */
	if (ptgid == ctgid || !is_traced(ptgid))
		return 0;
	if (follow_children) {
		bpf_map_update_elem(&traced, &ctgid, &one, BPF_ANY);
		hold(ctgid);
	}
	emit_proc(EV_FORK, ctgid, ptgid, 0);
	return 0;
}

/*
 * A new process returns from fork through the syscall exit path, in its own context,
 * before its first user instruction; so does a process from execve, in its new program.
 * A process held there stops itself until user space has put its probes in place and
 * continues it. Probes are per process:
 * inheriting them would also give each thread an event, whose teardown at thread exit
 * can take the process's probes with it.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	__u64 pid_tgid;
	__u32 tid, tgid;

	if (!holds_pending)
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	tid = (__u32)pid_tgid;
	tgid = pid_tgid >> 32;
	if (tid != tgid || bpf_map_delete_elem(&hold_at_start, &tgid))
		return 0;
	__sync_fetch_and_add(&holds_pending, -1);
	bpf_send_signal(SIGSTOP);
	emit_proc(EV_HELD, tgid, 0, 0);
	return 0;
}

/*
 * exit() runs the program's exit handlers and then _exit: what its frames leave on the
 * stack below the caller of exit is not the program's. The stack pointer at the call is
 * kept for the thread, and the stack is read from there at _exit.
 */
SEC("uprobe")
int BPF_KPROBE(exit_called)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), sp = read_sp(ctx);
	__u32 tid = (__u32)pid_tgid;

	if (is_traced(pid_tgid >> 32))
		bpf_map_update_elem(&exit_sps, &tid, &sp, BPF_NOEXIST);
	return 0;
}

/*
 * A traced process calls _exit (every exit, return from main, and exit_group from any
 * thread goes through it) or abort: the last moment its memory is whole. It stops itself,
 * once, so that user space can read which of its blocks are still pointed to, and
 * continues it. The event names the thread and where its stack is to be read from.
 */
SEC("uprobe")
int BPF_KPROBE(exit_enter)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid;
	__u64 sp = read_sp(ctx), *called;
	struct memleak_event *e;
	__u8 one = 1;

	if (!is_traced(tgid) || bpf_map_update_elem(&ending, &tgid, &one, BPF_NOEXIST))
		return 0;
	called = bpf_map_lookup_elem(&exit_sps, &tid);
	if (called)
		sp = *called;
	bpf_send_signal(SIGSTOP);
	e = new_event(EV_ENDING, tgid, tid);
	if (!e)
		return 0;
	e->addr = sp;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct memleak_event *e;

	if (!is_traced(tgid))
		return 0;
	/* Calls in progress and mappings belonged to the old program. */
	bpf_map_delete_elem(&threads, &tgid);
	bpf_map_delete_elem(&ending, &tgid);
	/* The new program may need other probes than the old one: a static one has its own. */
	if (hold_execs)
		hold(tgid);
	e = new_event(EV_EXEC, tgid, tgid);
	if (!e)
		return 0;
	/* The program as execve named it: user space finds its file even after it exited. */
	bpf_probe_read_kernel_str(e->path, sizeof(e->path), BPF_CORE_READ(bprm, filename));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid, tgid = pid_tgid >> 32;

	bpf_map_delete_elem(&threads, &tid);
	bpf_map_delete_elem(&exit_sps, &tid);
	if (tid != tgid || !is_traced(tgid))
		return 0;
	bpf_map_delete_elem(&ending, &tgid);
	emit_proc(EV_EXIT, tgid, 0, BPF_CORE_READ(p, exit_code));
	return 0;
}

/* --- kernel allocations ----------------------------------------------------------------- */

static __always_inline int kernel_alloc(void *ctx, __u64 addr, __u64 size, __u32 kfn)
{
	if (!addr || !size_wanted(size))
		return 0;
	block_alloc(ctx, NULL, 0, (__u32)bpf_get_current_pid_tgid(), addr, size, kfn, false);
	return 0;
}

static __always_inline int kernel_free(__u64 addr, __u32 kfn)
{
	if (addr)
		block_free(0, (__u32)bpf_get_current_pid_tgid(), addr, kfn);
	return 0;
}

SEC("tracepoint/kmem/kmalloc")
int on_kmalloc(struct trace_event_raw_kmalloc *ctx)
{
	return kernel_alloc(ctx, (__u64)BPF_CORE_READ(ctx, ptr), BPF_CORE_READ(ctx, bytes_alloc),
			    KFN_KMALLOC);
}

SEC("tracepoint/kmem/kfree")
int on_kfree(struct trace_event_raw_kfree *ctx)
{
	return kernel_free((__u64)BPF_CORE_READ(ctx, ptr), KFN_KMALLOC);
}

SEC("tracepoint/kmem/kmem_cache_alloc")
int on_kmem_cache_alloc(struct trace_event_raw_kmem_cache_alloc *ctx)
{
	return kernel_alloc(ctx, (__u64)BPF_CORE_READ(ctx, ptr), BPF_CORE_READ(ctx, bytes_alloc),
			    KFN_KMEM_CACHE);
}

SEC("tracepoint/kmem/kmem_cache_free")
int on_kmem_cache_free(struct trace_event_raw_kmem_cache_free *ctx)
{
	return kernel_free((__u64)BPF_CORE_READ(ctx, ptr), KFN_KMEM_CACHE);
}

SEC("tracepoint/kmem/mm_page_alloc")
int on_page_alloc(struct trace_event_raw_mm_page_alloc *ctx)
{
	return kernel_alloc(ctx, BPF_CORE_READ(ctx, pfn), page_size << BPF_CORE_READ(ctx, order),
			    KFN_PAGE);
}

SEC("tracepoint/kmem/mm_page_free")
int on_page_free(struct trace_event_raw_mm_page_free *ctx)
{
	return kernel_free(BPF_CORE_READ(ctx, pfn), KFN_PAGE);
}

SEC("tracepoint/percpu/percpu_alloc_percpu")
int on_percpu_alloc(struct trace_event_raw_percpu_alloc_percpu *ctx)
{
	return kernel_alloc(ctx, (__u64)BPF_CORE_READ(ctx, ptr), BPF_CORE_READ(ctx, bytes_alloc),
			    KFN_PERCPU);
}

SEC("tracepoint/percpu/percpu_free_percpu")
int on_percpu_free(struct trace_event_raw_percpu_free_percpu *ctx)
{
	return kernel_free((__u64)BPF_CORE_READ(ctx, ptr), KFN_PERCPU);
}

/*
 * The device and inode the walk records for a file, as the kernel has it: user space maps
 * the file, sets these, and reads this iterator over its own mappings. stat() and
 * /proc/PID/maps name a file on overlayfs by the overlay's numbers, while the mapping
 * holds the layer's file, which the walk sees.
 */
__u32 key_tgid;
__u64 key_addr;

SEC("iter/task_vma")
int file_key(struct bpf_iter__task_vma *ctx)
{
	struct vm_area_struct *vma = ctx->vma;
	struct task_struct *task = ctx->task;
	struct unwind_key key = {};
	struct file *file;

	if (!vma || !task || task->tgid != key_tgid || vma->vm_start != key_addr)
		return 0;
	file = vma->vm_file;
	if (!file)
		return 0;
	key.ino = BPF_CORE_READ(file, f_inode, i_ino);
	key.dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
	bpf_seq_write(ctx->meta->seq, &key, sizeof(key));
	return 0;
}
