/* Name filters (lib/filter.h). Freestanding: no C library, so that every build, the Linux
 * benchmark program's included, takes it as it is. */
#include <lib/filter.h>

#include <stddef.h>

/* Whether the len bytes at term occur in name. */
static bool contains(const char *name, const char *term, size_t len)
{
	for (; *name; name++) {
		size_t i = 0;
		while (i < len && name[i] == term[i])
			i++;
		if (i == len)
			return true;
	}
	return len == 0;
}

bool lib_filter_selects(const char *filter, const char *name)
{
	if (!filter || !*filter)
		return true;
	bool any_wanted = false, wanted = false;
	for (const char *term = filter; *term;) {
		size_t len = 0;
		while (term[len] && term[len] != ',')
			len++;
		bool exclude = term[0] == '-';
		const char *text = term + exclude;
		size_t text_len = len - exclude;
		if (text_len) {
			bool hit = contains(name, text, text_len);
			if (exclude && hit)
				return false;
			if (!exclude) {
				any_wanted = true;
				wanted |= hit;
			}
		}
		term += len + (term[len] == ',');
	}
	return wanted || !any_wanted;
}
