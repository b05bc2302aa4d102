/* An intrusive AVL tree with parent pointers and an update callback for augmented data. */
#include <lib/avl.h>

/* Deeper than any AVL tree that fits in memory (2^64 nodes need fewer than 93 levels). */
#define AVL_MAX_DEPTH 96

static inline int height(const struct avl_node *n)
{
	return n ? n->height : 0;
}

static inline int max_int(int a, int b)
{
	return a > b ? a : b;
}

static inline void fix_height(struct avl_node *n)
{
	n->height = 1 + max_int(height(n->left), height(n->right));
}

static inline void update(const struct avl_tree *tree, struct avl_node *n)
{
	if (tree->update)
		tree->update(n);
}

/* Points whatever pointed at old (its parent's child link, or the root) at with instead. */
static void replace_child(struct avl_tree *tree, struct avl_node *parent, struct avl_node *old,
                          struct avl_node *with)
{
	if (!parent)
		tree->root = with;
	else if (parent->left == old)
		parent->left = with;
	else
		parent->right = with;
}

/*
 *     x              y
 *    / \            / \
 *   a   y    ->    x   c
 *      / \        / \
 *     b   c      a   b
 *
 * Three child links change (x->right, y->left, and x's parent's link), so three parent
 * links change with them (b's, y's, x's). x is now below y: its height and summary are
 * recomputed first, because y's are computed from x's. Returns y, the subtree's new root.
 */
static struct avl_node *rotate_left(struct avl_tree *tree, struct avl_node *x)
{
	struct avl_node *y = x->right;
	struct avl_node *b = y->left;

	x->right = b;
	if (b)
		b->parent = x;
	y->parent = x->parent;
	replace_child(tree, x->parent, x, y);
	y->left = x;
	x->parent = y;

	fix_height(x);
	update(tree, x);
	fix_height(y);
	update(tree, y);
	return y;
}

/* The mirror image of rotate_left. */
static struct avl_node *rotate_right(struct avl_tree *tree, struct avl_node *x)
{
	struct avl_node *y = x->left;
	struct avl_node *b = y->right;

	x->left = b;
	if (b)
		b->parent = x;
	y->parent = x->parent;
	replace_child(tree, x->parent, x, y);
	y->right = x;
	x->parent = y;

	fix_height(x);
	update(tree, x);
	fix_height(y);
	update(tree, y);
	return y;
}

/*
 * Walks from n (whose subtree just changed) to the root, restoring heights and balance and
 * recomputing summaries on the way. Every node on the path may have new children, so each
 * is updated after everything below it. Without an update callback the walk stops as soon
 * as a subtree comes out with its old height: nothing above it can change then.
 */
static void rebalance(struct avl_tree *tree, struct avl_node *n)
{
	while (n) {
		int old = n->height;
		int bal = height(n->left) - height(n->right);

		if (bal > 1) {
			/* Left-right case: first turn the left child's heavy side outwards, so
			 * that a single right rotation balances n. */
			if (height(n->left->left) < height(n->left->right))
				rotate_left(tree, n->left);
			n = rotate_right(tree, n);
		} else if (bal < -1) {
			if (height(n->right->right) < height(n->right->left))
				rotate_right(tree, n->right);
			n = rotate_left(tree, n);
		} else {
			fix_height(n);
			update(tree, n);
		}

		/* n is now the subtree's root, whether or not it rotated. */
		if (!tree->update && n->height == old)
			return;
		n = n->parent;
	}
}

void avl_insert(struct avl_tree *tree, struct avl_node *n, avl_compare_fn compare)
{
	struct avl_node *parent = NULL;
	struct avl_node **link = &tree->root;

	/* Ties go right, so an equal key lands after every existing one. */
	while (*link) {
		parent = *link;
		link = compare(n, parent) < 0 ? &parent->left : &parent->right;
	}

	n->left = n->right = NULL;
	n->parent = parent;
	n->height = 1;
	*link = n;
	tree->count++;

	update(tree, n);
	rebalance(tree, parent);
}

void avl_remove(struct avl_tree *tree, struct avl_node *n)
{
	struct avl_node *parent = n->parent;
	struct avl_node *start; /* the lowest node whose children changed */

	if (n->left && n->right) {
		/*
		 * Two children: n's in-order successor s (the leftmost node of n->right, which has
		 * no left child) takes n's place. The nodes are relinked, never their contents
		 * copied: they belong to the caller's structures. s inherits n's height; the
		 * rebalance from below fixes it if it is wrong.
		 */
		struct avl_node *s = n->right;
		while (s->left)
			s = s->left;

		if (s == n->right) {
			/* s keeps its right subtree; only the left one moves under it. */
			start = s;
		} else {
			/* s leaves its place (its right child, if any, moves up into it), then
			 * adopts both of n's subtrees. */
			struct avl_node *sp = s->parent;
			sp->left = s->right;
			if (s->right)
				s->right->parent = sp;
			s->right = n->right;
			n->right->parent = s;
			start = sp;
		}
		s->left = n->left;
		n->left->parent = s;
		s->parent = parent;
		s->height = n->height;
		replace_child(tree, parent, n, s);
	} else {
		struct avl_node *child = n->left ? n->left : n->right;
		if (child)
			child->parent = parent;
		replace_child(tree, parent, n, child);
		start = parent;
	}

	tree->count--;
	n->left = n->right = n->parent = NULL;
	n->height = 0;
	rebalance(tree, start);
}

void avl_update_path(struct avl_tree *tree, struct avl_node *n)
{
	if (!tree->update)
		return;
	for (; n; n = n->parent)
		tree->update(n);
}

static struct avl_node *leftmost(struct avl_node *n)
{
	while (n->left)
		n = n->left;
	return n;
}

static struct avl_node *rightmost(struct avl_node *n)
{
	while (n->right)
		n = n->right;
	return n;
}

struct avl_node *avl_first(const struct avl_tree *tree)
{
	return tree->root ? leftmost(tree->root) : NULL;
}

struct avl_node *avl_last(const struct avl_tree *tree)
{
	return tree->root ? rightmost(tree->root) : NULL;
}

struct avl_node *avl_next(const struct avl_node *n)
{
	if (n->right)
		return leftmost(n->right);
	/* Climb while n is a right child: those ancestors come before n. */
	while (n->parent && n == n->parent->right)
		n = n->parent;
	return n->parent;
}

struct avl_node *avl_prev(const struct avl_node *n)
{
	if (n->left)
		return rightmost(n->left);
	while (n->parent && n == n->parent->left)
		n = n->parent;
	return n->parent;
}

struct check_state {
	avl_compare_fn compare;
	const struct avl_node *prev; /* the previous node in order */
	size_t seen;
	size_t count;
};

/* Checks the subtree at n (whose parent must be parent); returns its height, or -1. */
static int check_subtree(struct check_state *st, const struct avl_node *n,
                         const struct avl_node *parent, int depth)
{
	if (!n)
		return 0;
	/* A cycle or a runaway tree: deeper than any balanced tree can be. */
	if (depth > AVL_MAX_DEPTH)
		return -1;
	/* Parent links: every node points back at the node that points at it. */
	if (n->parent != parent)
		return -1;

	int hl = check_subtree(st, n->left, n, depth + 1);
	if (hl < 0)
		return -1;

	/* Order: in-order traversal never goes backwards (equal keys are allowed). */
	if (st->prev && st->compare(st->prev, n) > 0)
		return -1;
	st->prev = n;
	/* Count: no more nodes than the tree says it holds (also stops shared subtrees). */
	if (++st->seen > st->count)
		return -1;

	int hr = check_subtree(st, n->right, n, depth + 1);
	if (hr < 0)
		return -1;

	/* Height: the stored height is one more than the taller child's. */
	if (n->height != 1 + max_int(hl, hr))
		return -1;
	/* Balance: sibling subtrees differ in height by at most one. */
	if (hl - hr > 1 || hr - hl > 1)
		return -1;
	return n->height;
}

bool avl_check(const struct avl_tree *tree, avl_compare_fn compare)
{
	struct check_state st = {compare, NULL, 0, tree->count};

	if (check_subtree(&st, tree->root, NULL, 0) < 0)
		return false;
	/* Count: exactly as many nodes as the tree says. */
	return st.seen == tree->count;
}
