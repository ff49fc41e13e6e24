/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Unwind rows against binutils' own reading of the same call frame information: every
 * row `readelf --debug-dump=frames-interp` prints for an object (the C library, a static
 * program, the preload library, a program built without frame pointers) must be what
 * cfi__lookup finds at its first and at its last address, and an address no FDE covers
 * must stop the walk.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/cfi.h"
#include "tests/testutil.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

/* What readelf says of one row, in the unwinder's terms. */
struct expected {
	int cfa;		/* enum unwind_cfa */
	int32_t cfa_off;
	int rbp_saved;
	int16_t rbp_off;
};

struct fde {
	uint64_t lo, hi;	/* [lo, hi): its code */
	size_t first, n;	/* its rows in the row list; none: the CIE's initial row */
	unsigned long cie;
};

struct row {
	uint64_t loc;
	struct expected e;
};

struct cie_row {
	unsigned long offset;
	struct expected e;
};

struct readelf {
	struct fde *fdes;
	size_t nfdes;
	struct row *rows;
	size_t nrows;
	struct cie_row *cies;
	size_t ncies;
	/* Executable segments, object address to file offset. */
	uint64_t seg_vaddr[8], seg_off[8], seg_size[8];
	size_t nsegs;
};

static void *grow(void *p, size_t n, size_t size)
{
	p = realloc(p, (n + 1) * size);
	ck_assert_ptr_nonnull(p);
	return p;
}

/* One row's columns: "rsp+8", "c-16", "u", "exp", ... */
static struct expected expected_of(char **cols, size_t ncols, char **vals)
{
	struct expected e = { .cfa = UNWIND_STOP };
	const char *cfa = NULL, *ra = NULL, *rbp = NULL;
	long v;

	for (size_t i = 0; i < ncols; i++) {
		if (!strcmp(cols[i], "CFA"))
			cfa = vals[i];
		else if (!strcmp(cols[i], "ra"))
			ra = vals[i];
		else if (!strcmp(cols[i], "rbp"))
			rbp = vals[i];
	}
	ck_assert_ptr_nonnull(cfa);
	ck_assert_ptr_nonnull(ra);
	if (strncmp(cfa, "rsp+", 4) && strncmp(cfa, "rbp+", 4))
		return e;
	if (!strcmp(ra, "u")) {
		e.cfa = UNWIND_END;
		return e;
	}
	if (strcmp(ra, "c-8"))
		return e;
	if (rbp && rbp[0] == 'c' && (rbp[1] == '-' || rbp[1] == '+')) {
		e.rbp_saved = 1;
		e.rbp_off = (int16_t)strtol(rbp + 1, NULL, 10);
	}
	v = strtol(cfa + 4, NULL, 10);
	e.cfa = cfa[1] == 's' ? UNWIND_CFA_RSP : UNWIND_CFA_RBP;
	e.cfa_off = (int32_t)v;
	return e;
}

/* Splits at blanks; a "(name)" after a register ("r9 (r9)") stays with it. */
static size_t split(char *line, char **out, size_t max)
{
	size_t n = 0;

	for (char *tok = strtok(line, " \t\n"); tok && n < max; tok = strtok(NULL, " \t\n")) {
		if (tok[0] == '(' && n)
			continue;
		out[n++] = tok;
	}
	return n;
}

static void read_segments(struct readelf *r, const char *path)
{
	char cmd[4200], line[1024];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "readelf -lW '%s'", path);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		char *t[16];
		size_t n = split(line, t, 16);

		/* LOAD Offset VirtAddr PhysAddr FileSiz MemSiz Flg... Align */
		if (n < 8 || strcmp(t[0], "LOAD"))
			continue;
		for (size_t i = 6; i + 1 < n; i++) {
			if (strchr(t[i], 'E') && r->nsegs < 8) {
				r->seg_off[r->nsegs] = strtoull(t[1], NULL, 16);
				r->seg_vaddr[r->nsegs] = strtoull(t[2], NULL, 16);
				r->seg_size[r->nsegs] = strtoull(t[4], NULL, 16);
				r->nsegs++;
			}
		}
	}
	pclose(f);
	ck_assert_uint_gt(r->nsegs, 0);
}

static int to_offset(const struct readelf *r, uint64_t vaddr, uint64_t *off)
{
	for (size_t i = 0; i < r->nsegs; i++) {
		if (vaddr >= r->seg_vaddr[i] && vaddr - r->seg_vaddr[i] < r->seg_size[i]) {
			*off = vaddr - r->seg_vaddr[i] + r->seg_off[i];
			return 1;
		}
	}
	return 0;
}

static void read_frames(struct readelf *r, const char *path)
{
	char cmd[4200], line[4096], *cols[64], *vals[64], colbuf[4096];
	size_t ncols = 0;
	int in_cie = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "readelf --debug-dump=frames-interp '%s' 2>/dev/null", path);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long off, cie;
		uint64_t lo, hi;
		char *p;

		if ((p = strstr(line, " CIE ")) && sscanf(line, "%lx", &off) == 1) {
			r->cies = grow(r->cies, r->ncies, sizeof(*r->cies));
			r->cies[r->ncies++] = (struct cie_row){ .offset = off, .e = { .cfa = -1 } };
			in_cie = 1;
			ncols = 0;
			continue;
		}
		if ((p = strstr(line, " FDE cie=")) && sscanf(p, " FDE cie=%lx pc=%" SCNx64 "..%" SCNx64,
							      &cie, &lo, &hi) == 3) {
			r->fdes = grow(r->fdes, r->nfdes, sizeof(*r->fdes));
			r->fdes[r->nfdes++] = (struct fde){ .lo = lo, .hi = hi, .first = r->nrows,
							    .cie = cie };
			in_cie = 0;
			ncols = 0;
			continue;
		}
		if (strstr(line, "   LOC ")) {
			snprintf(colbuf, sizeof(colbuf), "%s", line);
			ncols = split(colbuf, cols, 64);
			continue;
		}
		if (ncols && strlen(line) > 17 && line[16] == ' ') {
			char copy[4096];
			size_t n;
			uint64_t loc;

			snprintf(copy, sizeof(copy), "%s", line);
			n = split(copy, vals, 64);
			if (n != ncols || sscanf(vals[0], "%" SCNx64, &loc) != 1)
				continue;
			if (in_cie) {
				if (r->cies[r->ncies - 1].e.cfa < 0)
					r->cies[r->ncies - 1].e = expected_of(cols, ncols, vals);
				continue;
			}
			if (!r->nfdes)
				continue;
			r->rows = grow(r->rows, r->nrows, sizeof(*r->rows));
			r->rows[r->nrows++] = (struct row){ .loc = loc, .e = expected_of(cols, ncols, vals) };
			r->fdes[r->nfdes - 1].n++;
		}
	}
	pclose(f);
	ck_assert_uint_gt(r->nfdes, 0);
}

static const struct expected *cie_initial(const struct readelf *r, unsigned long cie)
{
	for (size_t i = 0; i < r->ncies; i++)
		if (r->cies[i].offset == cie && r->cies[i].e.cfa >= 0)
			return &r->cies[i].e;
	ck_abort_msg("no initial row for CIE %lx", cie);
	return NULL;
}

static void ck_row(const char *path, const struct cfi_table *t, const struct readelf *r,
		   uint64_t vaddr, const struct expected *e)
{
	const struct unwind_row *row;
	uint64_t off;

	if (!to_offset(r, vaddr, &off))
		return;
	row = cfi__lookup(t, off);
	ck_assert_msg(row != NULL, "%s: no row at %#" PRIx64, path, vaddr);
	ck_assert_msg(row->cfa == e->cfa, "%s at %#" PRIx64 ": cfa rule %d, readelf says %d", path,
		      vaddr, row->cfa, e->cfa);
	if (e->cfa != UNWIND_CFA_RSP && e->cfa != UNWIND_CFA_RBP)
		return;
	ck_assert_msg(row->cfa_off == e->cfa_off, "%s at %#" PRIx64 ": cfa offset %d, readelf says %d",
		      path, vaddr, row->cfa_off, e->cfa_off);
	ck_assert_msg(!!(row->flags & UNWIND_RBP_SAVED) == e->rbp_saved,
		      "%s at %#" PRIx64 ": rbp saved %d, readelf says %d", path, vaddr,
		      row->flags & UNWIND_RBP_SAVED, e->rbp_saved);
	if (e->rbp_saved)
		ck_assert_msg(row->rbp_off == e->rbp_off,
			      "%s at %#" PRIx64 ": rbp at cfa%+d, readelf says cfa%+d", path, vaddr,
			      row->rbp_off, e->rbp_off);
}

static int by_lo(const void *a, const void *b)
{
	const struct fde *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Every row readelf prints for `path`, at both ends of its range; returns the rows checked. */
static size_t ck_object(const char *path)
{
	struct readelf r = { 0 };
	struct cfi_table t;
	size_t checked = 0;
	int err;

	read_segments(&r, path);
	read_frames(&r, path);
	err = cfi__build(path, &t);
	ck_assert_msg(err == 0, "cfi__build(%s): %s", path, strerror(-err));
	ck_assert_uint_gt(t.n, 0);
	for (size_t i = 1; i < t.n; i++)
		ck_assert_msg(t.rows[i].offset > t.rows[i - 1].offset, "%s: rows out of order", path);
	qsort(r.fdes, r.nfdes, sizeof(*r.fdes), by_lo);
	for (size_t i = 0; i < r.nfdes; i++) {
		const struct fde *fd = &r.fdes[i];
		uint64_t next_lo = i + 1 < r.nfdes ? r.fdes[i + 1].lo : UINT64_MAX;

		if (fd->hi <= fd->lo || (i + 1 < r.nfdes && next_lo < fd->hi))
			continue;	/* empty or overlapping: nothing definite to compare */
		if (!fd->n) {
			ck_row(path, &t, &r, fd->lo, cie_initial(&r, fd->cie));
			ck_row(path, &t, &r, fd->hi - 1, cie_initial(&r, fd->cie));
			checked++;
		}
		for (size_t k = 0; k < fd->n; k++) {
			const struct row *row = &r.rows[fd->first + k];
			uint64_t end = k + 1 < fd->n ? r.rows[fd->first + k + 1].loc : fd->hi;

			ck_row(path, &t, &r, row->loc, &row->e);
			ck_row(path, &t, &r, end - 1, &row->e);
			checked++;
		}
		/* Past the code it describes, where no other description begins, the walk stops. */
		if (next_lo > fd->hi) {
			static const struct expected stop = { .cfa = UNWIND_STOP };

			ck_row(path, &t, &r, fd->hi, &stop);
		}
	}
	cfi__free(&t);
	free(r.fdes);
	free(r.rows);
	free(r.cies);
	return checked;
}

START_TEST(test_c_library)
{
	ck_assert_uint_gt(ck_object(LIBC), 10000);
}
END_TEST

START_TEST(test_static_program)
{
	/* No .eh_frame_hdr: the section is read entry by entry. */
	ck_assert_uint_gt(ck_object(test_path("tests/fixtures/static_leaky")), 1000);
}
END_TEST

START_TEST(test_preload_library)
{
	ck_assert_uint_gt(ck_object(test_path("libmemleak-preload.so")), 10);
}
END_TEST

START_TEST(test_program_without_frame_pointers)
{
	const struct unwind_row *row;
	struct cfi_table t;

	ck_assert_uint_gt(ck_object(test_path("tests/fixtures/nofp_leaky")), 5);
	/* Its code keeps the CFA on rsp: no frame pointer to follow. */
	ck_assert_int_eq(cfi__build(test_path("tests/fixtures/nofp_leaky"), &t), 0);
	row = &t.rows[0];
	ck_assert(row->cfa == UNWIND_CFA_RSP || row->cfa == UNWIND_STOP);
	for (size_t i = 0; i < t.n; i++)
		ck_assert_int_ne(t.rows[i].cfa, UNWIND_CFA_RBP);
	cfi__free(&t);
}
END_TEST

START_TEST(test_not_an_object)
{
	struct cfi_table t;

	ck_assert_int_eq(cfi__build("/nonexistent/object", &t), -ENOENT);
	ck_assert_int_eq(cfi__build("/etc/passwd", &t), -ENOEXEC);
	ck_assert_ptr_null(t.rows);
	ck_assert_ptr_null(cfi__lookup(&t, 0));
	cfi__free(&t);
	cfi__free(NULL);
}
END_TEST

static Suite *cfi_suite(void)
{
	Suite *s = suite_create("cfi");
	TCase *tc = tcase_create("cfi");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_c_library);
	tcase_add_test(tc, test_static_program);
	tcase_add_test(tc, test_preload_library);
	tcase_add_test(tc, test_program_without_frame_pointers);
	tcase_add_test(tc, test_not_an_object);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(cfi_suite());
}
