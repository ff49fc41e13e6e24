// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "runner/cfi.h"

#include <dwarf.h>
#include <elf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* DWARF register numbers on x86-64. */
#define DWARF_RBP 6
#define DWARF_RSP 7
#define DWARF_RA 16

/* The executable PT_LOAD segments: object addresses to file offsets. */
struct segment {
	uint64_t vaddr, offset, size;
};

struct builder {
	struct segment segs[8];
	size_t nsegs;
	struct unwind_row *rows;
	size_t n, cap;
};

/*
 * A pointer encoded as a CIE's 'R' augmentation says (DW_EH_PE_*), at `*p`, whose own
 * address in the object is `field_vaddr` (for pc-relative ones). Advances *p.
 */
static int read_encoded(const uint8_t **p, const uint8_t *end, uint8_t enc, uint64_t field_vaddr,
			uint64_t *out)
{
	const uint8_t *q = *p;
	uint64_t v = 0;
	size_t len;

	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		len = 8;
		break;
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4:
		len = 4;
		break;
	case DW_EH_PE_udata2:
	case DW_EH_PE_sdata2:
		len = 2;
		break;
	default:
		return -ENOTSUP;
	}
	if ((size_t)(end - q) < len)
		return -EINVAL;
	if (len == 8) {
		memcpy(&v, q, 8);
	} else if (len == 4) {
		uint32_t u;

		memcpy(&u, q, 4);
		v = (enc & 0x0f) == DW_EH_PE_sdata4 ? (uint64_t)(int64_t)(int32_t)u : u;
	} else {
		uint16_t u;

		memcpy(&u, q, 2);
		v = (enc & 0x0f) == DW_EH_PE_sdata2 ? (uint64_t)(int64_t)(int16_t)u : u;
	}
	switch (enc & 0x70) {
	case DW_EH_PE_absptr:
		break;
	case DW_EH_PE_pcrel:
		v += field_vaddr;
		break;
	default:
		return -ENOTSUP;
	}
	*p = q + len;
	*out = v;
	return 0;
}

/* The encoding of a CIE's FDE addresses: its 'R' augmentation, absolute without one. */
static int fde_encoding(const Dwarf_CIE *cie, uint8_t *enc)
{
	const uint8_t *data = cie->augmentation_data, *end = data + cie->augmentation_data_size;
	const char *aug = cie->augmentation;

	*enc = DW_EH_PE_absptr;
	if (aug[0] != 'z')
		return aug[0] ? -ENOTSUP : 0;
	for (const char *c = aug + 1; *c; c++) {
		switch (*c) {
		case 'R':
			if (data >= end)
				return -EINVAL;
			*enc = *data++;
			return 0;
		case 'L':
			data++;
			break;
		case 'P':
			/* One byte of encoding, then the personality routine's address in it. */
			if (data >= end)
				return -EINVAL;
			switch (*data & 0x0f) {
			case DW_EH_PE_udata2:
			case DW_EH_PE_sdata2:
				data += 3;
				break;
			case DW_EH_PE_udata4:
			case DW_EH_PE_sdata4:
				data += 5;
				break;
			case DW_EH_PE_absptr:
			case DW_EH_PE_udata8:
			case DW_EH_PE_sdata8:
				data += 9;
				break;
			default:
				return -ENOTSUP;
			}
			break;
		case 'S':
		case 'B':
			break;
		default:
			return -ENOTSUP;
		}
	}
	return 0;
}

struct cie_enc {
	Dwarf_Off offset;
	uint8_t enc;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The sorted start addresses of every FDE of .eh_frame. Static programs have no
 * .eh_frame_hdr (whose table would list them), so the section is read entry by entry.
 */
static int fde_starts(Elf *elf, const GElf_Ehdr *eh, uint64_t **out, size_t *count)
{
	struct cie_enc *cies = NULL;
	size_t ncies = 0, n = 0, cap = 0, shstrndx;
	Dwarf_Off off = 0, next;
	uint64_t *starts = NULL;
	Elf_Scn *scn = NULL;
	Elf_Data *data = NULL;
	GElf_Shdr sh;
	int err = 0;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return -ENOENT;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, ".eh_frame")) {
			data = elf_getdata(scn, NULL);
			break;
		}
	}
	if (!data || !data->d_buf)
		return -ENOENT;
	for (;;) {
		Dwarf_CFI_Entry entry;
		int ret = dwarf_next_cfi(eh->e_ident, data, true, off, &next, &entry);

		if (ret > 0)
			break;
		if (ret < 0) {
			if (next == (Dwarf_Off)-1 || next <= off)
				break;
			off = next;
			continue;
		}
		if (dwarf_cfi_cie_p(&entry)) {
			struct cie_enc *c = realloc(cies, (ncies + 1) * sizeof(*c));

			if (!c) {
				err = -ENOMEM;
				break;
			}
			cies = c;
			cies[ncies].offset = off;
			if (fde_encoding(&entry.cie, &cies[ncies].enc))
				cies[ncies].enc = DW_EH_PE_omit;
			ncies++;
		} else {
			const uint8_t *p = entry.fde.start;
			uint8_t enc = DW_EH_PE_omit;
			uint64_t loc;

			for (size_t i = 0; i < ncies; i++)
				if (cies[i].offset == entry.fde.CIE_pointer)
					enc = cies[i].enc;
			if (enc != DW_EH_PE_omit &&
			    !read_encoded(&p, entry.fde.end, enc,
					  sh.sh_addr + (uint64_t)(p - (const uint8_t *)data->d_buf), &loc) &&
			    loc) {
				if (n == cap) {
					uint64_t *s;

					cap = cap ? cap * 2 : 1024;
					s = realloc(starts, cap * sizeof(*s));
					if (!s) {
						err = -ENOMEM;
						break;
					}
					starts = s;
				}
				starts[n++] = loc;
			}
		}
		off = next;
	}
	free(cies);
	if (err) {
		free(starts);
		return err;
	}
	if (!n) {
		free(starts);
		return -ENOENT;
	}
	qsort(starts, n, sizeof(*starts), cmp_u64);
	*out = starts;
	*count = n;
	return 0;
}

static int read_segments(Elf *elf, struct builder *b)
{
	GElf_Phdr ph;
	size_t nph;

	if (elf_getphdrnum(elf, &nph))
		return -ENOEXEC;
	for (size_t i = 0; i < nph; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (b->nsegs == sizeof(b->segs) / sizeof(b->segs[0]))
			break;
		b->segs[b->nsegs++] = (struct segment){ ph.p_vaddr, ph.p_offset, ph.p_filesz };
	}
	return b->nsegs ? 0 : -ENOENT;
}

/* The file offset of object address `vaddr` in an executable segment; false outside them. */
static bool file_offset(const struct builder *b, uint64_t vaddr, uint64_t *offset)
{
	for (size_t i = 0; i < b->nsegs; i++) {
		const struct segment *s = &b->segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->size) {
			*offset = vaddr - s->vaddr + s->offset;
			return *offset <= UINT32_MAX;
		}
	}
	return false;
}

static int add_row(struct builder *b, uint64_t vaddr, const struct unwind_row *rule)
{
	struct unwind_row *last = b->n ? &b->rows[b->n - 1] : NULL;
	uint64_t offset;

	if (!file_offset(b, vaddr, &offset))
		return 0;
	/* A row that changes nothing this unwinder follows (a save of rbx, say) is left out. */
	if (last && last->cfa == rule->cfa && last->cfa_off == rule->cfa_off &&
	    last->flags == rule->flags && last->rbp_off == rule->rbp_off)
		return 0;
	if (last && offset <= last->offset) {
		/* Overlapping descriptions: the later one wins from its start. */
		if (offset < last->offset)
			return 0;
		*last = *rule;
		last->offset = (uint32_t)offset;
		return 0;
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		struct unwind_row *rows = realloc(b->rows, cap * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		b->rows = rows;
		b->cap = cap;
	}
	b->rows[b->n] = *rule;
	b->rows[b->n++].offset = (uint32_t)offset;
	return 0;
}

/*
 * Where register `regno` of the caller is: 1 and *off when saved at CFA + off, 0 when
 * unchanged, -1 for anything else (undefined, another register, an expression).
 */
static int saved_at_cfa(Dwarf_Frame *frame, int regno, int64_t *off)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;

	if (dwarf_frame_register(frame, regno, mem, &ops, &nops))
		return -1;
	if (nops == 0)
		return ops == NULL ? 0 : -1;
	if (ops[0].atom != DW_OP_call_frame_cfa)
		return -1;
	if (nops == 1) {
		*off = 0;
		return 1;
	}
	if (nops == 2 && ops[1].atom == DW_OP_plus_uconst) {
		*off = (int64_t)ops[1].number;
		return 1;
	}
	return -1;
}

/* The rule of one row, in the terms the BPF walker follows. */
static struct unwind_row rule_of(Dwarf_Frame *frame)
{
	struct unwind_row r = { .cfa = UNWIND_STOP };
	int64_t ra_off = 0, rbp_off = 0;
	Dwarf_Op *ops;
	size_t nops;
	int ra, rbp;

	if (dwarf_frame_cfa(frame, &ops, &nops) || nops != 1 || ops[0].atom != DW_OP_bregx)
		return r;
	if ((int64_t)ops[0].number2 < INT32_MIN || (int64_t)ops[0].number2 > INT32_MAX)
		return r;
	ra = saved_at_cfa(frame, DWARF_RA, &ra_off);
	if (ra < 0) {
		Dwarf_Op mem[3];

		/* An undefined return address marks the outermost frame (_start, clone). */
		if (!dwarf_frame_register(frame, DWARF_RA, mem, &ops, &nops) && nops == 0 && ops)
			r.cfa = UNWIND_END;
		return r;
	}
	if (ra != 1 || ra_off != -8)
		return r;
	rbp = saved_at_cfa(frame, DWARF_RBP, &rbp_off);
	if (rbp == 1) {
		if (rbp_off < INT16_MIN || rbp_off > INT16_MAX)
			return r;
		r.flags = UNWIND_RBP_SAVED;
		r.rbp_off = (int16_t)rbp_off;
	}
	if (ops[0].number == DWARF_RSP)
		r.cfa = UNWIND_CFA_RSP;
	else if (ops[0].number == DWARF_RBP)
		r.cfa = UNWIND_CFA_RBP;
	else
		return (struct unwind_row){ .cfa = UNWIND_STOP };
	r.cfa_off = (int32_t)ops[0].number2;
	return r;
}

/* Every row of the description that covers [start, limit), and a stop where none does. */
static int add_fde_rows(struct builder *b, Dwarf_CFI *cfi, uint64_t start, uint64_t limit)
{
	static const struct unwind_row stop = { .cfa = UNWIND_STOP };
	uint64_t addr = start;
	int err = 0;

	while (addr < limit && !err) {
		Dwarf_Frame *frame;
		Dwarf_Addr lo, hi;

		if (dwarf_cfi_addrframe(cfi, addr, &frame))
			return add_row(b, addr, &stop);
		if (dwarf_frame_info(frame, &lo, &hi, NULL) < 0 || hi <= addr) {
			free(frame);
			return add_row(b, addr, &stop);
		}
		struct unwind_row r = rule_of(frame);

		err = add_row(b, addr, &r);
		free(frame);
		addr = hi;
	}
	return err;
}

int cfi__build(const char *path, struct cfi_table *out)
{
	struct builder b = { 0 };
	uint64_t *starts = NULL;
	Dwarf_CFI *cfi = NULL;
	Elf *elf = NULL;
	GElf_Ehdr eh;
	size_t count = 0;
	int fd, err = 0;

	memset(out, 0, sizeof(*out));
	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || !gelf_getehdr(elf, &eh) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_machine != EM_X86_64) {
		err = -ENOEXEC;
		goto cleanup;
	}
	err = read_segments(elf, &b);
	if (!err)
		err = fde_starts(elf, &eh, &starts, &count);
	if (err)
		goto cleanup;
	cfi = dwarf_getcfi_elf(elf);
	if (!cfi) {
		err = -ENOENT;
		goto cleanup;
	}
	for (size_t i = 0; i < count && !err; i++) {
		if (i + 1 < count && starts[i + 1] <= starts[i])
			continue;
		err = add_fde_rows(&b, cfi, starts[i], i + 1 < count ? starts[i + 1] : UINT64_MAX);
	}
cleanup:
	if (cfi)
		dwarf_cfi_end(cfi);
	if (elf)
		elf_end(elf);
	close(fd);
	free(starts);
	if (err) {
		free(b.rows);
		return err;
	}
	out->rows = b.rows;
	out->n = b.n;
	return 0;
}

void cfi__free(struct cfi_table *t)
{
	if (!t)
		return;
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
}

const struct unwind_row *cfi__lookup(const struct cfi_table *t, uint64_t offset)
{
	size_t lo = 0, hi = t->n;

	/* The first row beginning after `offset`; the one before it applies. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->rows[mid].offset <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->rows[lo - 1] : NULL;
}
