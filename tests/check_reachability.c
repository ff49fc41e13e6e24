// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * runner/reachability: valgrind's leak kinds over a made-up address space (each rule of
 * the classification on its own), then over a real stopped child process.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner/reachability.h"
#include "tests/testutil.h"

/* A made-up address space: a few 4 KiB pages at chosen addresses. */
#define PAGES 8
#define PAGE 4096

static struct {
	uint64_t base[PAGES];
	uint8_t data[PAGES][PAGE];
	size_t n;
} space;

static uint8_t *page_at(uint64_t addr)
{
	for (size_t i = 0; i < space.n; i++)
		if (addr >= space.base[i] && addr < space.base[i] + PAGE)
			return space.data[i] + (addr - space.base[i]);
	return NULL;
}

static void map_page(uint64_t base)
{
	space.base[space.n] = base;
	memset(space.data[space.n], 0, PAGE);
	space.n++;
}

static void poke(uint64_t addr, uint64_t value)
{
	uint8_t *p = page_at(addr);

	ck_assert_ptr_nonnull(p);
	memcpy(p, &value, sizeof(value));
}

static void fake_readv(void *ctx, const struct iovec *local, const struct iovec *remote, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		uint64_t a = (uint64_t)(uintptr_t)remote[i].iov_base;

		for (size_t k = 0; k < local[i].iov_len; k++) {
			uint8_t *p = page_at(a + k);

			((uint8_t *)local[i].iov_base)[k] = p ? *p : 0;
		}
	}
}

static const struct reach_memory fake = { .readv = fake_readv };

#define HEAP 0x10000
#define DATA 0x40000

static void setup(void)
{
	space.n = 0;
	map_page(HEAP);
	map_page(HEAP + PAGE);
	map_page(DATA);
}

/* Classifies blocks at the given addresses (64 bytes each) with DATA's page as the root. */
static void classify(struct reach_block *b, size_t n, const uint64_t *words, size_t nwords)
{
	struct iovec root = { .iov_base = (void *)(uintptr_t)DATA, .iov_len = PAGE };
	struct reach_roots roots = { .nregions = 1, .regions = &root, .nwords = nwords,
				     .words = (uint64_t *)words };

	ck_assert_int_eq(reach_classify(b, n, &roots, &fake, NULL), 0);
}

static struct reach_block block(uint64_t addr)
{
	return (struct reach_block){ .addr = addr, .size = 64 };
}

START_TEST(test_chain_from_a_root_is_reachable)
{
	struct reach_block b[] = { block(HEAP + 0x200), block(HEAP + 0x100), block(HEAP + 0x300) };

	poke(DATA + 8, HEAP + 0x100);
	poke(HEAP + 0x100 + 16, HEAP + 0x200);
	classify(b, 3, NULL, 0);
	/* Sorted by address on return. */
	ck_assert_uint_eq(b[0].addr, HEAP + 0x100);
	ck_assert_int_eq(b[0].kind, LEAK_REACHABLE);
	ck_assert_int_eq(b[1].kind, LEAK_REACHABLE);
	ck_assert_int_eq(b[2].kind, LEAK_DEFINITE);
	ck_assert_uint_eq(b[2].leader, 2);
}
END_TEST

START_TEST(test_interior_pointer_makes_possible_down_the_chain)
{
	struct reach_block b[] = { block(HEAP + 0x100), block(HEAP + 0x200) };

	poke(DATA, HEAP + 0x100 + 8);
	poke(HEAP + 0x100, HEAP + 0x200);
	classify(b, 2, NULL, 0);
	ck_assert_int_eq(b[0].kind, LEAK_POSSIBLE);
	/* Reached by its start, but from a block only possibly reachable. */
	ck_assert_int_eq(b[1].kind, LEAK_POSSIBLE);
}
END_TEST

START_TEST(test_start_pointer_upgrades_possible)
{
	struct reach_block b[] = { block(HEAP + 0x100), block(HEAP + 0x200) };

	/* The interior pointer comes first in the root, the start pointer after it. */
	poke(DATA, HEAP + 0x100 + 8);
	poke(DATA + 64, HEAP + 0x100);
	poke(HEAP + 0x100, HEAP + 0x200);
	classify(b, 2, NULL, 0);
	ck_assert_int_eq(b[0].kind, LEAK_REACHABLE);
	ck_assert_int_eq(b[1].kind, LEAK_REACHABLE);
}
END_TEST

START_TEST(test_lost_list_is_one_definite_and_indirect)
{
	struct reach_block b[] = { block(HEAP + 0x100), block(HEAP + 0x200), block(HEAP + 0x300) };

	/* The head is the highest address: the blocks before it were leaders first. */
	poke(HEAP + 0x300, HEAP + 0x200);
	poke(HEAP + 0x200, HEAP + 0x100);
	classify(b, 3, NULL, 0);
	ck_assert_int_eq(b[2].kind, LEAK_DEFINITE);
	ck_assert_int_eq(b[0].kind, LEAK_INDIRECT);
	ck_assert_int_eq(b[1].kind, LEAK_INDIRECT);
	ck_assert_uint_eq(b[0].leader, 2);
	ck_assert_uint_eq(b[1].leader, 2);
}
END_TEST

START_TEST(test_cycle_has_one_leader)
{
	struct reach_block b[] = { block(HEAP + 0x100), block(HEAP + 0x200) };

	poke(HEAP + 0x100, HEAP + 0x200);
	poke(HEAP + 0x200, HEAP + 0x100 + 32);	/* an interior pointer serves a clique too */
	classify(b, 2, NULL, 0);
	ck_assert_int_eq(b[0].kind, LEAK_DEFINITE);
	ck_assert_int_eq(b[1].kind, LEAK_INDIRECT);
	ck_assert_uint_eq(b[1].leader, 0);
}
END_TEST

START_TEST(test_registers_are_roots)
{
	struct reach_block b[] = { block(HEAP + 0x100), block(HEAP + 0x200) };
	uint64_t regs[] = { 0, HEAP + 0x200, 12345 };

	classify(b, 2, regs, 3);
	ck_assert_int_eq(b[0].kind, LEAK_DEFINITE);
	ck_assert_int_eq(b[1].kind, LEAK_REACHABLE);
}
END_TEST

START_TEST(test_blocks_inside_a_root_are_not_roots)
{
	struct reach_block b[] = { block(DATA + 0x100), block(HEAP + 0x200) };

	/* A block placed inside the root region points to another: neither is reached. */
	poke(DATA + 0x100, HEAP + 0x200);
	classify(b, 2, NULL, 0);
	ck_assert_int_eq(b[0].kind, LEAK_INDIRECT);
	ck_assert_int_eq(b[1].kind, LEAK_DEFINITE);
}
END_TEST

START_TEST(test_allocator_header_of_next_chunk_is_not_a_pointer)
{
	/* 1012 bytes: its chunk is 1024, the next chunk's header 1008 bytes into the block. */
	struct reach_block b[] = { { .addr = HEAP + 0x10, .size = 1012 } };

	poke(DATA, HEAP + 0x10 + 1008);
	classify(b, 1, NULL, 0);
	ck_assert_int_eq(b[0].kind, LEAK_DEFINITE);
	/* Any other place inside it is a pointer into its middle. */
	poke(DATA, HEAP + 0x10 + 1000);
	classify(b, 1, NULL, 0);
	ck_assert_int_eq(b[0].kind, LEAK_POSSIBLE);
}
END_TEST

START_TEST(test_empty_block_reached_by_its_address)
{
	struct reach_block b[] = { { .addr = HEAP + 0x100, .size = 0 }, block(HEAP + 0x200) };

	poke(DATA, HEAP + 0x100);
	classify(b, 2, NULL, 0);
	ck_assert_int_eq(b[0].kind, LEAK_REACHABLE);
	ck_assert_int_eq(b[1].kind, LEAK_DEFINITE);
}
END_TEST

START_TEST(test_many_blocks)
{
	enum { N = 100000 };
	struct reach_block *b = calloc(N, sizeof(*b));

	/* Blocks outside the fake memory read as zeros: all of them lost, none indirectly. */
	for (size_t i = 0; i < N; i++)
		b[i] = (struct reach_block){ .addr = 0x1000000 + (N - i) * 32, .size = 24 };
	classify(b, N, NULL, 0);
	for (size_t i = 0; i < N; i++) {
		ck_assert_int_eq(b[i].kind, LEAK_DEFINITE);
		ck_assert_uint_eq(b[i].leader, i);
	}
	free(b);
}
END_TEST

/*
 * A real process: a child keeps one block behind a global, one in its stack, loses a
 * list, tells its parent the addresses and stops itself.
 */
static void *volatile kept;

/* The lost list is made in a frame of its own; only its addresses leave it. */
__attribute__((noinline)) static void lose_list(uint64_t out[2])
{
	void **head = malloc(32), **next = malloc(40);

	*head = next;
	out[0] = (uint64_t)(uintptr_t)head;
	out[1] = (uint64_t)(uintptr_t)next;
	__asm__ volatile("" : : "r"(head) : "memory");
}

/* Overwrites the stack the calls before used: no stale copy of a lost pointer stays. */
__attribute__((noinline)) static void scrub(void)
{
	char area[32 * 1024];

	memset(area, 0, sizeof(area));
	__asm__ volatile("" : : "r"(area) : "memory");
}

__attribute__((noinline, noreturn)) static void child(int fd)
{
	void *volatile on_stack;
	uint64_t addrs[4];

	/*
	 * Functions called after the list is lost are bound first: the dynamic linker's
	 * lazy binding saves every register, vector registers with stale copies included, on
	 * the stack.
	 */
	explicit_bzero(addrs, sizeof(addrs));
	raise(0);
	on_stack = malloc(48);
	kept = malloc(56);
	addrs[0] = (uint64_t)(uintptr_t)kept;
	addrs[1] = (uint64_t)(uintptr_t)on_stack;
	lose_list(addrs + 2);
	if (write(fd, addrs, sizeof(addrs)) != sizeof(addrs))
		_exit(1);
	explicit_bzero(addrs, sizeof(addrs));
	scrub();
	raise(SIGSTOP);
	_exit(on_stack ? 0 : 1);
}

START_TEST(test_stopped_process)
{
	uint64_t addrs[4];
	struct reach_block b[4];
	struct reach_stats st = { 0 };
	struct reach_hold *h;
	int pfd[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char fd[16];

		/* A fresh image: no stale pointer of this test runner's to a recycled address. */
		close(pfd[0]);
		snprintf(fd, sizeof(fd), "%d", pfd[1]);
		execl("/proc/self/exe", "check_reachability", "--child", fd, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], addrs, sizeof(addrs)), sizeof(addrs));
	close(pfd[0]);
	ck_assert_int_eq(reach_wait_stopped(pid, 5000), 0);
	b[0] = (struct reach_block){ .addr = addrs[0], .size = 56 };
	b[1] = (struct reach_block){ .addr = addrs[1], .size = 48 };
	b[2] = (struct reach_block){ .addr = addrs[2], .size = 32 };
	b[3] = (struct reach_block){ .addr = addrs[3], .size = 40 };
	h = reach_hold__new(pid);
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(reach_hold__classify(h, 0, 0, b, 4, &st), 0);
	reach_hold__free(h);
	for (size_t i = 0; i < 4; i++) {
		enum leak_kind want = b[i].addr == addrs[2] ? LEAK_DEFINITE :
				      b[i].addr == addrs[3] ? LEAK_INDIRECT : LEAK_REACHABLE;

		ck_assert_msg(b[i].kind == want, "block %#llx: %s, expected %s",
			      (unsigned long long)b[i].addr, leak_kind_words(b[i].kind),
			      leak_kind_words(want));
	}
	ck_assert_uint_eq(st.threads, 1);
	ck_assert_uint_gt(st.root_bytes, 0);
	/* Still stopped after the scan, and goes on when continued. */
	ck_assert_int_eq(reach_wait_stopped(pid, 1000), 0);
	kill(pid, SIGCONT);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("reachability");
	TCase *tc = tcase_create("classify");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_chain_from_a_root_is_reachable);
	tcase_add_test(tc, test_interior_pointer_makes_possible_down_the_chain);
	tcase_add_test(tc, test_start_pointer_upgrades_possible);
	tcase_add_test(tc, test_lost_list_is_one_definite_and_indirect);
	tcase_add_test(tc, test_cycle_has_one_leader);
	tcase_add_test(tc, test_registers_are_roots);
	tcase_add_test(tc, test_blocks_inside_a_root_are_not_roots);
	tcase_add_test(tc, test_allocator_header_of_next_chunk_is_not_a_pointer);
	tcase_add_test(tc, test_empty_block_reached_by_its_address);
	tcase_add_test(tc, test_many_blocks);
	tcase_add_test(tc, test_stopped_process);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--child"))
		child(atoi(argv[2]));
	return test_run_suite(suite());
}
