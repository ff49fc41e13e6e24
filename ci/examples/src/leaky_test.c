/* A unit test that passes its checks but leaks: memleak-run fails it. */
#include <stdlib.h>
#include <string.h>

static char *duplicate(const char *s)
{
	char *d = malloc(strlen(s) + 1);

	if (d)
		strcpy(d, s);
	return d;
}

int main(void)
{
	char *copy = duplicate("leaked");

	return copy ? 0 : 1;	/* copy is never freed */
}
