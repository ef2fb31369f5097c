/* The pointer-pair index: which conditions depend on an object, or on one key of it.
 *
 * Open addressing (linear probing, tombstones) keyed by (object, key) pointer pairs:
 * (dict, key) -> the conditions on that binding; (obj, NULL) -> every condition on obj.  Keys are
 * compared by address only, so a lookup never runs Python code (watcher callbacks rely on it).
 *
 * A bit filter in front of the (object, key) pairs answers the common dict write (a key nobody
 * depends on) with one multiply and one bit test, without a probe: map_may_hold() is 0 only for
 * pairs that are not in the index.  A pair sets its bit when inserted; removals leave their bits
 * (a stale bit costs a probe, never a wrong answer) until the table is next rebuilt.
 */
#ifndef FATOPT_PTRINDEX_H
#define FATOPT_PTRINDEX_H

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>
#include <stdint.h>

typedef struct Condition Condition;

#define SLOT_TOMBSTONE ((void *)1)

typedef struct {
    void *a;             /* NULL: never used; SLOT_TOMBSTONE: removed */
    void *b;
    Condition **items;
    Py_ssize_t n, cap;
} Slot;

typedef struct {
    Slot *slots;
    size_t mask;    /* capacity - 1; capacity is a power of two */
    size_t used;    /* live entries */
    size_t filled;  /* live entries + tombstones */
    /* FILTER_BITS_PER_SLOT bits per slot: with at most one live pair per two slots, at most
     * about 1 in 65 absent pairs finds its bit set (4 bytes per slot; a slot takes 40).  NULL
     * while the table is empty. */
    uint64_t *filter;
    size_t filter_mask;  /* words - 1 */
} PtrMap;

#define FILTER_BITS_PER_SLOT 32

static inline size_t
pair_hash(void *a, void *b)
{
    uint64_t x = (uint64_t)(uintptr_t)a * 0x9E3779B97F4A7C15ULL;
    uint64_t y = (uint64_t)(uintptr_t)b * 0xC2B2AE3D27D4EB4FULL;
    uint64_t h = x ^ (y + (x >> 29));
    return (size_t)(h ^ (h >> 32));
}

static inline Slot *
map_find(PtrMap *m, void *a, void *b)
{
    if (m->slots == NULL) {
        return NULL;
    }
    size_t i = pair_hash(a, b) & m->mask;
    for (;;) {
        Slot *s = &m->slots[i];
        if (s->a == NULL) {
            return NULL;
        }
        if (s->a == a && s->b == b) {
            return s;
        }
        i = (i + 1) & m->mask;
    }
}

/* The filter bit of the pair (a, b): the top bits of one multiplicative hash (a filter only
 * needs pairs spread, not told apart).  Only pairs with a key (b != NULL) are in the filter. */
static inline size_t
filter_bit(void *a, void *b)
{
    return (size_t)((((uint64_t)(uintptr_t)a ^ (uint64_t)(uintptr_t)b) * 0x9E3779B97F4A7C15ULL) >> 40);
}

/* 0: the index has no entry for (a, b) (b != NULL); 1: it may have one (map_find says). */
static inline int
map_may_hold(const PtrMap *m, void *a, void *b)
{
    if (m->filter == NULL) {
        return 0;
    }
    size_t bit = filter_bit(a, b);
    return (int)((m->filter[(bit >> 6) & m->filter_mask] >> (bit & 63)) & 1);
}

/* Find or create the slot for (a, b); NULL with MemoryError set.  May move slots: never call it
 * while holding a Slot *. */
Slot *map_insert(PtrMap *m, void *a, void *b);
/* Drop a slot and its list.  Never moves other slots. */
void map_remove(PtrMap *m, Slot *s);
void map_free(PtrMap *m);

/* A slot's list of conditions. */
int slot_add(Slot *s, Condition *c);
/* Remove c from the slot; returns the number of conditions left. */
Py_ssize_t slot_discard(Slot *s, Condition *c);

#endif
