/* AVL tree tests: random operations against a sorted reference, removal cases, augmentation. */
#include <lib/avl.h>
#include <mmtest/test.h>

#include <lib/string.h>

#include "fixtures.h"
#include "helpers.h"

/* A caller structure with the node embedded in the middle, as real users do. */
struct item {
	uint32_t key;
	struct avl_node node;
	uint64_t value;
	/* Summaries over the subtree, kept by item_update. */
	uint64_t sum, max;
	size_t size;
	bool in_tree;
};

enum { MAX_ITEMS = 2048 };

/* Static: the kernel's stacks are small. The tests run one at a time. */
static struct item items[MAX_ITEMS];
static struct item *ref[MAX_ITEMS]; /* the expected in-order sequence */
static size_t ref_len;
static unsigned free_list[MAX_ITEMS]; /* indices of items not in the tree */
static size_t free_len;

static struct item *item_of(const struct avl_node *n)
{
	return avl_entry(n, struct item, node);
}

static int item_compare(const struct avl_node *a, const struct avl_node *b)
{
	uint32_t ka = item_of(a)->key, kb = item_of(b)->key;
	return ka < kb ? -1 : ka > kb;
}

static void item_update(struct avl_node *n)
{
	struct item *it = item_of(n);
	it->sum = it->value;
	it->max = it->value;
	it->size = 1;
	for (int side = 0; side < 2; side++) {
		struct avl_node *c = side ? n->right : n->left;
		if (!c)
			continue;
		struct item *ci = item_of(c);
		it->sum += ci->sum;
		if (ci->max > it->max)
			it->max = ci->max;
		it->size += ci->size;
	}
}

static void reset_items(void)
{
	memset(items, 0, sizeof(items));
	ref_len = 0;
	free_len = 0;
	for (unsigned i = MAX_ITEMS; i-- > 0;)
		free_list[free_len++] = i;
}

/* Inserts into both the tree and the reference: after every item with a key <= it. */
static void both_insert(struct avl_tree *tree, struct item *it)
{
	size_t pos = ref_len;
	while (pos > 0 && ref[pos - 1]->key > it->key)
		pos--;
	memmove(&ref[pos + 1], &ref[pos], (ref_len - pos) * sizeof(ref[0]));
	ref[pos] = it;
	ref_len++;
	it->in_tree = true;
	avl_insert(tree, &it->node, item_compare);
}

static void both_remove(struct avl_tree *tree, size_t ref_index)
{
	struct item *it = ref[ref_index];
	memmove(&ref[ref_index], &ref[ref_index + 1], (ref_len - ref_index - 1) * sizeof(ref[0]));
	ref_len--;
	it->in_tree = false;
	free_list[free_len++] = (unsigned)(it - items);
	avl_remove(tree, &it->node);
}

static struct item *take_free(uint64_t *rng, uint32_t key_range)
{
	struct item *it = &items[free_list[--free_len]];
	it->key = (uint32_t)(test_random(rng) % key_range);
	it->value = test_random(rng) % 1000;
	return it;
}

/* The tree holds exactly the reference's items, the same pointers, in the same order. */
static void expect_matches_ref(struct mm_test_ctx *t, const struct avl_tree *tree)
{
	ASSERT_EQ(tree->count, ref_len);
	size_t i = 0;
	for (struct avl_node *n = avl_first(tree); n; n = avl_next(n), i++) {
		ASSERT_TRUE(i < ref_len);
		ASSERT_EQ(item_of(n), ref[i]);
	}
	ASSERT_EQ(i, ref_len);
	for (struct avl_node *n = avl_last(tree); n; n = avl_prev(n)) {
		ASSERT_TRUE(i > 0);
		ASSERT_EQ(item_of(n), ref[--i]);
	}
	ASSERT_EQ(i, 0);
}

/*
 * Recomputes n's subtree summaries from the values alone, never reading a stored summary,
 * and counts the nodes whose stored summary differs.
 */
static size_t brute_force_summaries(const struct avl_node *n, uint64_t *sum, uint64_t *max,
                                    size_t *size)
{
	*sum = *max = 0;
	*size = 0;
	if (!n)
		return 0;
	uint64_t ls, lm, rs, rm;
	size_t lz, rz;
	size_t bad = brute_force_summaries(n->left, &ls, &lm, &lz) +
	             brute_force_summaries(n->right, &rs, &rm, &rz);
	const struct item *it = item_of(n);
	*sum = it->value + ls + rs;
	*max = it->value;
	if (lm > *max)
		*max = lm;
	if (rm > *max)
		*max = rm;
	*size = 1 + lz + rz;
	return bad + (it->sum != *sum || it->max != *max || it->size != *size);
}

static void expect_summaries_exact(struct mm_test_ctx *t, const struct avl_tree *tree)
{
	uint64_t sum, max;
	size_t size;
	EXPECT_EQ(brute_force_summaries(tree->root, &sum, &max, &size), 0);
	EXPECT_EQ(size, tree->count);
}

/* log2(x) in 16.16 fixed point (the kernel has no floating point), truncated. */
static uint64_t log2_q16(uint64_t x)
{
	int ip = 63 - __builtin_clzll(x);
	/* The mantissa, x / 2^ip, in 1.31 fixed point: in [1, 2). */
	uint64_t y = ip <= 31 ? x << (31 - ip) : x >> (ip - 31);
	uint64_t r = (uint64_t)ip << 16;
	/* Squaring doubles the logarithm: each time the square reaches 2, a fraction bit is 1. */
	for (int bit = 15; bit >= 0; bit--) {
		y = (y * y) >> 31;
		if (y >= (2ull << 31)) {
			y >>= 1;
			r |= 1ull << bit;
		}
	}
	return r;
}

/* AVL trees are at most about 1.44 log2(n + 2) high. */
static bool height_within_bound(const struct avl_tree *tree)
{
	uint64_t h = tree->root ? (uint64_t)tree->root->height : 0;
	return h * 100 * 65536 <= 145 * log2_q16(tree->count + 2);
}

/*
 * ops random inserts and removals, mostly inserts for the first half and mostly removals for
 * the second, then removal of everything left. Every check_every operations (and at the
 * end) the tree is checked in full.
 */
static void random_run(struct mm_test_ctx *t, avl_update_fn update, unsigned ops,
                       uint32_t key_range, uint64_t seed, unsigned check_every)
{
	struct avl_tree tree = AVL_TREE_INIT(update);
	uint64_t rng = seed;
	reset_items();

	for (unsigned op = 0; op < ops + MAX_ITEMS; op++) {
		if (op >= ops && ref_len == 0)
			break;
		unsigned insert_pct = op < ops / 2 ? 67 : 33;
		if (op >= ops)
			insert_pct = 0; /* drain */
		bool insert = (ref_len == 0 || test_random(&rng) % 100 < insert_pct) && free_len > 0;
		if (insert)
			both_insert(&tree, take_free(&rng, key_range));
		else
			both_remove(&tree, test_random(&rng) % ref_len);

		if (op % check_every == 0 || ref_len == 0) {
			ASSERT_TRUE(avl_check(&tree, item_compare));
			expect_matches_ref(t, &tree);
			EXPECT_TRUE(height_within_bound(&tree));
			if (update)
				expect_summaries_exact(t, &tree);
			if (t->failures)
				return;
		}
	}
	EXPECT_EQ(tree.count, 0);
	EXPECT_TRUE(tree.root == NULL);
}

TEST_F(leak_checked, avl, empty_tree)
{
	struct avl_tree tree = AVL_TREE_INIT(NULL);
	EXPECT_TRUE(avl_first(&tree) == NULL);
	EXPECT_TRUE(avl_last(&tree) == NULL);
	EXPECT_TRUE(avl_check(&tree, item_compare));
	EXPECT_EQ(tree.count, 0);
}

TEST_F(leak_checked, avl, single_node)
{
	struct avl_tree tree = AVL_TREE_INIT(item_update);
	reset_items();
	items[0].key = 5;
	items[0].value = 9;
	avl_insert(&tree, &items[0].node, item_compare);
	EXPECT_TRUE(avl_first(&tree) == &items[0].node);
	EXPECT_TRUE(avl_last(&tree) == &items[0].node);
	EXPECT_TRUE(avl_next(&items[0].node) == NULL);
	EXPECT_TRUE(avl_prev(&items[0].node) == NULL);
	EXPECT_EQ(items[0].node.height, 1);
	EXPECT_EQ(items[0].sum, 9);
	EXPECT_TRUE(avl_check(&tree, item_compare));
	avl_remove(&tree, &items[0].node);
	EXPECT_TRUE(tree.root == NULL);
	EXPECT_EQ(tree.count, 0);
}

/* Small: every structural invariant and the reference after every single operation. */
TEST_F(leak_checked, avl, random_ops_checked_every_step)
{
	random_run(t, NULL, 1200, 50, 0x1234567ull, 1);
}

TEST_F(leak_checked, avl, random_ops_checked_every_step_with_update)
{
	random_run(t, item_update, 1200, 1000, 0xfeedfaceull, 1);
}

/* Larger: thousands of operations, checked now and then. */
TEST_F(leak_checked, avl, random_ops_large)
{
	random_run(t, NULL, 6000, 1u << 30, 0xabcdef01ull, 257);
	random_run(t, item_update, 6000, 300, 0x51ed270bull, 257);
}

TEST_F(leak_checked, avl, traversal_forwards_and_backwards)
{
	enum { N = 500 };
	struct avl_tree tree = AVL_TREE_INIT(NULL);
	uint64_t rng = 42;
	reset_items();
	/* Keys 0..N-1 in a shuffled order. */
	uint32_t keys[N];
	for (uint32_t i = 0; i < N; i++)
		keys[i] = i;
	for (uint32_t i = N - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(test_random(&rng) % (i + 1)), k = keys[i];
		keys[i] = keys[j];
		keys[j] = k;
	}
	for (uint32_t i = 0; i < N; i++) {
		items[i].key = keys[i];
		avl_insert(&tree, &items[i].node, item_compare);
	}
	ASSERT_TRUE(avl_check(&tree, item_compare));

	uint32_t want = 0;
	for (struct avl_node *n = avl_first(&tree); n; n = avl_next(n))
		ASSERT_EQ(item_of(n)->key, want++);
	EXPECT_EQ(want, N);
	for (struct avl_node *n = avl_last(&tree); n; n = avl_prev(n))
		ASSERT_EQ(item_of(n)->key, --want);
	EXPECT_EQ(want, 0);
	EXPECT_EQ(item_of(avl_first(&tree))->key, 0);
	EXPECT_EQ(item_of(avl_last(&tree))->key, N - 1);
	EXPECT_TRUE(avl_prev(avl_first(&tree)) == NULL);
	EXPECT_TRUE(avl_next(avl_last(&tree)) == NULL);
}

TEST_F(leak_checked, avl, duplicates_stay_in_insertion_order)
{
	struct avl_tree tree = AVL_TREE_INIT(item_update);
	uint64_t rng = 7;
	reset_items();
	/* 400 items over 5 keys: the reference puts each after its equals, as the tree must. */
	for (int i = 0; i < 400; i++)
		both_insert(&tree, take_free(&rng, 5));
	ASSERT_TRUE(avl_check(&tree, item_compare));
	expect_matches_ref(t, &tree);
	/* Removing some equals leaves the others in their order; new ones go after them. */
	for (int i = 0; i < 150; i++)
		both_remove(&tree, test_random(&rng) % ref_len);
	for (int i = 0; i < 100; i++)
		both_insert(&tree, take_free(&rng, 5));
	ASSERT_TRUE(avl_check(&tree, item_compare));
	expect_matches_ref(t, &tree);
	expect_summaries_exact(t, &tree);
	/* All equal. */
	while (ref_len)
		both_remove(&tree, ref_len / 2);
	for (int i = 0; i < 200; i++)
		both_insert(&tree, take_free(&rng, 1));
	ASSERT_TRUE(avl_check(&tree, item_compare));
	expect_matches_ref(t, &tree);
}

static size_t ref_index_of(const struct item *it)
{
	for (size_t i = 0; i < ref_len; i++)
		if (ref[i] == it)
			return i;
	return ref_len;
}

/* Items 1..15 inserted in order make the perfect tree 8; 4, 12; 2, 6, 10, 14; odd leaves. */
static struct item *perfect_15(struct avl_tree *tree)
{
	reset_items();
	free_len = 0; /* the items are picked by hand; removed ones still go on the free list */
	for (uint32_t k = 1; k <= 15; k++) {
		items[k].key = k;
		items[k].value = k * 3;
		both_insert(tree, &items[k]);
	}
	return items;
}

static void remove_item(struct mm_test_ctx *t, struct avl_tree *tree, struct item *it)
{
	size_t i = ref_index_of(it);
	ASSERT_TRUE(i < ref_len);
	both_remove(tree, i);
	ASSERT_TRUE(avl_check(tree, item_compare));
	expect_matches_ref(t, tree);
	expect_summaries_exact(t, tree);
}

TEST_F(leak_checked, avl, remove_root_leaf_and_inner_nodes)
{
	struct avl_tree tree = AVL_TREE_INIT(item_update);
	struct item *it = perfect_15(&tree);
	ASSERT_TRUE(avl_check(&tree, item_compare));
	ASSERT_TRUE(tree.root == &it[8].node);
	EXPECT_EQ(tree.root->height, 4);
	EXPECT_TRUE(it[12].node.left == &it[10].node && it[10].node.left == &it[9].node);

	/* The root, whose successor (9) is deep: 9 is relinked into its place. */
	remove_item(t, &tree, &it[8]);
	EXPECT_TRUE(tree.root == &it[9].node);
	EXPECT_TRUE(it[9].node.parent == NULL);
	EXPECT_TRUE(it[9].node.left == &it[4].node && it[9].node.right == &it[12].node);
	EXPECT_TRUE(it[10].node.left == NULL);
	EXPECT_EQ(it[9].key, 9); /* moved, not overwritten */
	EXPECT_EQ(it[8].key, 8);

	/* Two children, the successor (7) being the right child itself. */
	remove_item(t, &tree, &it[6]);
	EXPECT_TRUE(it[4].node.right == &it[7].node);
	EXPECT_TRUE(it[7].node.left == &it[5].node && it[7].node.right == NULL);

	/* A leaf, then a node with one child (2 keeps 3 after 1 goes). */
	remove_item(t, &tree, &it[1]);
	EXPECT_TRUE(it[2].node.left == NULL && it[2].node.right == &it[3].node);
	remove_item(t, &tree, &it[2]);
	EXPECT_TRUE(it[4].node.left == &it[3].node);

	/* The left side is now short: removing 3 and 5 forces rotations on the way up. */
	remove_item(t, &tree, &it[3]);
	remove_item(t, &tree, &it[5]);
	EXPECT_TRUE(height_within_bound(&tree));

	/* Then the root, repeatedly, until nothing is left. */
	while (tree.root) {
		remove_item(t, &tree, item_of(tree.root));
		if (t->failures)
			return;
	}
	EXPECT_EQ(tree.count, 0);
}

/* Every node's sum, max and size equal a brute-force recount after every operation. */
TEST_F(leak_checked, avl, augmented_summaries_stay_exact)
{
	struct avl_tree tree = AVL_TREE_INIT(item_update);
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	reset_items();
	for (int op = 0; op < 1500; op++) {
		uint64_t r = test_random(&rng) % 10;
		if (ref_len == 0 || (r < 5 && free_len > 0)) {
			both_insert(&tree, take_free(&rng, 200));
		} else if (r < 8) {
			both_remove(&tree, test_random(&rng) % ref_len);
		} else {
			/* The caller changes a value in place and asks for the path's recount. */
			struct item *it = ref[test_random(&rng) % ref_len];
			it->value = test_random(&rng) % 100000;
			avl_update_path(&tree, &it->node);
		}
		expect_summaries_exact(t, &tree);
		if (t->failures)
			return;
	}
	ASSERT_TRUE(avl_check(&tree, item_compare));
	expect_matches_ref(t, &tree);
	/* The root's summary covers everything. */
	uint64_t sum = 0, max = 0;
	for (size_t i = 0; i < ref_len; i++) {
		sum += ref[i]->value;
		if (ref[i]->value > max)
			max = ref[i]->value;
	}
	ASSERT_TRUE(tree.root != NULL);
	EXPECT_EQ(item_of(tree.root)->sum, sum);
	EXPECT_EQ(item_of(tree.root)->max, max);
	EXPECT_EQ(item_of(tree.root)->size, tree.count);
}

TEST_F(leak_checked, avl, height_bound_on_sorted_and_random_input)
{
	enum { N = MAX_ITEMS };
	for (int pass = 0; pass < 3; pass++) {
		struct avl_tree tree = AVL_TREE_INIT(NULL);
		uint64_t rng = 99 + (uint64_t)pass;
		reset_items();
		for (uint32_t i = 0; i < N; i++) {
			/* Ascending, descending, then random keys. */
			uint32_t key = pass == 0 ? i : pass == 1 ? N - i : (uint32_t)test_random(&rng);
			items[i].key = key;
			avl_insert(&tree, &items[i].node, item_compare);
			ASSERT_TRUE(height_within_bound(&tree));
		}
		ASSERT_TRUE(avl_check(&tree, item_compare));
		/* Sorted input gives a nearly perfect tree: 2048 nodes fit in 12 levels. */
		if (pass < 2)
			EXPECT_LE(tree.root->height, 12);
		/* Removal in a scattered order keeps the bound too. */
		for (uint32_t i = 0; i < N; i++) {
			avl_remove(&tree, &items[(i * 1021u) % N].node);
			ASSERT_TRUE(height_within_bound(&tree));
		}
		EXPECT_TRUE(tree.root == NULL);
	}
}

/* The fixed-point logarithm the bound relies on. */
TEST_F(leak_checked, avl, log2_helper)
{
	EXPECT_EQ(log2_q16(1), 0);
	EXPECT_EQ(log2_q16(2), 65536);
	EXPECT_EQ(log2_q16(1024), 10 * 65536);
	/* log2(3) = 1.58496...: 103872.5 in 16.16. */
	EXPECT_EQ(log2_q16(3), 103872);
	EXPECT_EQ(log2_q16(1ull << 40), 40ull * 65536);
}

/* avl_check notices each kind of damage. */
TEST_F(leak_checked, avl, check_detects_corruption)
{
	struct avl_tree tree = AVL_TREE_INIT(NULL);
	struct item *it = perfect_15(&tree);
	ASSERT_TRUE(avl_check(&tree, item_compare));

	it[5].key = 100; /* order */
	EXPECT_FALSE(avl_check(&tree, item_compare));
	it[5].key = 5;

	it[3].node.parent = &it[4].node; /* parent link */
	EXPECT_FALSE(avl_check(&tree, item_compare));
	it[3].node.parent = &it[2].node;

	it[12].node.height = 5; /* height */
	EXPECT_FALSE(avl_check(&tree, item_compare));
	it[12].node.height = 3;

	tree.count++; /* count */
	EXPECT_FALSE(avl_check(&tree, item_compare));
	tree.count -= 2;
	EXPECT_FALSE(avl_check(&tree, item_compare));
	tree.count++;

	/* Balance: cut 9, 10, 11 off so 12's left is empty and its right 2 high. */
	it[12].node.left = NULL;
	tree.count -= 3;
	EXPECT_FALSE(avl_check(&tree, item_compare));
	it[12].node.left = &it[10].node;
	tree.count += 3;

	EXPECT_TRUE(avl_check(&tree, item_compare));
}
