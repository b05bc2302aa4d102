/*
 * The parts of a 64-bit ELF file a loader reads: the file header, the program headers, and
 * the checks that keep every read inside the image. Header-only and freestanding, for the
 * UEFI stub (the kernel inside mmkernel.efi) and the kernel (its ring-3 programs).
 */
#ifndef LIB_ELF64_H
#define LIB_ELF64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf64_header {
	unsigned char ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_segment {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

#define ELF64_TYPE_EXEC 2
#define ELF64_MACHINE_X86_64 62
#define ELF64_PT_LOAD 1
/* Segment flags. */
#define ELF64_PF_X 0x1u
#define ELF64_PF_W 0x2u
#define ELF64_PF_R 0x4u

/* The header of image when it is a 64-bit little-endian x86-64 ELF file whose program
 * headers lie inside its size bytes; NULL otherwise. */
static inline const struct elf64_header *elf64_header(const void *image, uint64_t size)
{
	const struct elf64_header *h = (const struct elf64_header *)image;
	if (!image || size < sizeof *h || h->ident[0] != 0x7F || h->ident[1] != 'E' ||
	    h->ident[2] != 'L' || h->ident[3] != 'F' || h->ident[4] != 2 /* 64-bit */ ||
	    h->ident[5] != 1 /* little-endian */ || h->machine != ELF64_MACHINE_X86_64 ||
	    h->phentsize < sizeof(struct elf64_segment) || h->phoff > size ||
	    (uint64_t)h->phnum * h->phentsize > size - h->phoff)
		return NULL;
	return h;
}

/* Program header i of a header elf64_header accepted. pre: i < h->phnum. */
static inline const struct elf64_segment *elf64_segment(const struct elf64_header *h, unsigned i)
{
	return (const struct elf64_segment *)((const char *)h + h->phoff + (uint64_t)i * h->phentsize);
}

/* Whether segment s's file bytes lie inside the image of size bytes and fit its memory
 * size, without wrapping. */
static inline bool elf64_segment_in_image(const struct elf64_segment *s, uint64_t size)
{
	return s->offset <= size && s->filesz <= size - s->offset && s->filesz <= s->memsz;
}

#endif /* LIB_ELF64_H */
