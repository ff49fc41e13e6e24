// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A dynamic linker for it_memleak_run: appends who ran it (uid, AT_EXECFN, argv[1]) to LOG,
 * then hands the program over to the real one. No C library: the kernel maps it as an
 * interpreter, beside the program. Built by the test (-nostdlib -static -DLOG=...).
 */
#define LDSO "/lib64/ld-linux-x86-64.so.2"

static long sys3(long n, long a, long b, long c)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}

static void put(long fd, const char *s)
{
	long n = 0;

	while (s[n])
		n++;
	sys3(1, fd, (long)s, n);
}

void entry(long *sp)
{
	long argc = sp[0], fd, uid = sys3(102, 0, 0, 0);
	char **argv = (char **)(sp + 1), **envp = argv + argc + 1, **e = envp;
	char *args[64], num[24];
	const char *execfn = "?";
	unsigned long *aux;
	int i = 23;

	while (*e)
		e++;
	for (aux = (unsigned long *)(e + 1); aux[0]; aux += 2)
		if (aux[0] == 31)	/* AT_EXECFN */
			execfn = (const char *)aux[1];
	num[i] = '\0';
	do {
		num[--i] = (char)('0' + uid % 10);
		uid /= 10;
	} while (uid);
	fd = sys3(2, (long)LOG, 02000 | 01 | 0100, 0666);	/* O_APPEND | O_WRONLY | O_CREAT */
	put(fd, "uid=");
	put(fd, num + i);
	put(fd, " execfn=");
	put(fd, execfn);
	put(fd, " argv1=");
	put(fd, argc > 1 ? argv[1] : "-");
	put(fd, "\n");
	sys3(3, fd, 0, 0);
	args[0] = LDSO;
	args[1] = (char *)execfn;
	for (i = 1; i < argc && i < 62; i++)
		args[i + 1] = argv[i];
	args[i + 1] = 0;
	sys3(59, (long)LDSO, (long)args, (long)envp);
	sys3(60, 127, 0, 0);
}

__asm__(".globl _start\n_start:\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall entry\n\thlt\n");
