/* Small string helpers of our own, the same on the host and in the kernel. */
#include <lib/string.h>

int lib_str_contains(const char *haystack, const char *needle)
{
	size_t n = strlen(needle), h = strlen(haystack);
	for (size_t i = 0; i + n <= h; i++)
		if (memcmp(haystack + i, needle, n) == 0)
			return 1;
	return n == 0;
}
