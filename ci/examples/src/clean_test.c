/* A unit test that frees what it allocates: passes under memleak-run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char *s = malloc(32);

	if (!s)
		return 1;
	strcpy(s, "clean");
	printf("%s\n", s);
	free(s);
	return 0;
}
