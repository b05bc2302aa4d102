/*
 * An intrusive, augmented AVL tree: the node lives inside the caller's structure, the
 * caller compares keys, and an optional update callback recomputes per-node summary data
 * (a subtree's largest gap, its size...) from the node and its two children. The tree
 * calls it, bottom-up, on every node whose subtree changed, so summaries stay exact after
 * every insert, removal and rotation. Heights differ by at most one between siblings, so
 * every operation is O(log n).
 *
 * Not thread-safe: the owner serialises access.
 */
#ifndef LIB_AVL_H
#define LIB_AVL_H

#include <stdbool.h>
#include <stddef.h>

struct avl_node {
	struct avl_node *left, *right, *parent;
	int height; /* 1 for a leaf */
};

/* < 0, 0, > 0 as a sorts before, equal to, after b. */
typedef int (*avl_compare_fn)(const struct avl_node *a, const struct avl_node *b);
/* Recomputes n's summary from n itself and n->left, n->right (either may be NULL). */
typedef void (*avl_update_fn)(struct avl_node *n);

struct avl_tree {
	struct avl_node *root;
	avl_update_fn update; /* may be NULL */
	size_t count;
};

#define AVL_TREE_INIT(update_fn)                                                                   \
	{                                                                                              \
		NULL, (update_fn), 0                                                                       \
	}

/* The containing structure of a node. */
#define avl_entry(node, type, member) ((type *)((char *)(node)-offsetof(type, member)))

/* Inserts n (its fields need no initialisation). Equal keys go after existing ones. */
void avl_insert(struct avl_tree *tree, struct avl_node *n, avl_compare_fn compare);

/* Removes n, which must be in the tree. */
void avl_remove(struct avl_tree *tree, struct avl_node *n);

/* After the caller changed data its update callback reads (not the key order): recompute
 * the summaries from n up to the root. */
void avl_update_path(struct avl_tree *tree, struct avl_node *n);

/* In-order traversal. NULL at the ends. */
struct avl_node *avl_first(const struct avl_tree *tree);
struct avl_node *avl_last(const struct avl_tree *tree);
struct avl_node *avl_next(const struct avl_node *n);
struct avl_node *avl_prev(const struct avl_node *n);

/* Debug: checks parent links, heights, balance and order (with compare); returns false on
 * the first violation. O(n). */
bool avl_check(const struct avl_tree *tree, avl_compare_fn compare);

#endif /* LIB_AVL_H */
