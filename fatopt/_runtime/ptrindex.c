/* The pointer-pair index (see ptrindex.h): growth, insertion, removal. */
#include "ptrindex.h"

#include <string.h>

static inline void
filter_add(PtrMap *m, void *a, void *b)
{
    size_t bit = filter_bit(a, b);
    m->filter[(bit >> 6) & m->filter_mask] |= (uint64_t)1 << (bit & 63);
}

/* Rehash into `cap` slots, and rebuild the filter (dropping the bits of removed pairs). */
static int
map_resize(PtrMap *m, size_t cap)
{
    Slot *old = m->slots;
    size_t oldcap = old ? m->mask + 1 : 0;
    size_t words = cap * FILTER_BITS_PER_SLOT / 64;
    Slot *slots = PyMem_Calloc(cap, sizeof(Slot));
    uint64_t *filter = PyMem_Calloc(words, sizeof(uint64_t));
    if (slots == NULL || filter == NULL) {
        PyMem_Free(slots);
        PyMem_Free(filter);
        PyErr_NoMemory();
        return -1;
    }
    PyMem_Free(m->filter);
    m->filter = filter;
    m->filter_mask = words - 1;
    m->slots = slots;
    m->mask = cap - 1;
    m->filled = m->used;
    for (size_t j = 0; j < oldcap; j++) {
        Slot *s = &old[j];
        if (s->a == NULL || s->a == SLOT_TOMBSTONE) {
            continue;
        }
        size_t i = pair_hash(s->a, s->b) & m->mask;
        while (slots[i].a != NULL) {
            i = (i + 1) & m->mask;
        }
        slots[i] = *s;
        if (s->b != NULL) {
            filter_add(m, s->a, s->b);
        }
    }
    PyMem_Free(old);
    return 0;
}

Slot *
map_insert(PtrMap *m, void *a, void *b)
{
    Slot *s = map_find(m, a, b);
    if (s != NULL) {
        return s;
    }
    size_t cap = m->slots ? m->mask + 1 : 0;
    if ((m->filled + 1) * 4 >= cap * 3) {
        size_t newcap = cap ? cap : 16;
        while ((m->used + 1) * 2 >= newcap) {
            newcap *= 2;
        }
        if (map_resize(m, newcap) < 0) {
            return NULL;
        }
    }
    size_t i = pair_hash(a, b) & m->mask;
    while (m->slots[i].a != NULL && m->slots[i].a != SLOT_TOMBSTONE) {
        i = (i + 1) & m->mask;
    }
    s = &m->slots[i];
    if (s->a == NULL) {
        m->filled++;
    }
    m->used++;
    s->a = a;
    s->b = b;
    if (b != NULL) {
        filter_add(m, a, b);
    }
    s->items = NULL;
    s->n = s->cap = 0;
    return s;
}

void
map_remove(PtrMap *m, Slot *s)
{
    PyMem_Free(s->items);
    s->items = NULL;
    s->n = s->cap = 0;
    s->a = SLOT_TOMBSTONE;
    s->b = NULL;
    m->used--;
}

void
map_free(PtrMap *m)
{
    if (m->slots) {
        for (size_t i = 0; i <= m->mask; i++) {
            PyMem_Free(m->slots[i].items);
        }
        PyMem_Free(m->slots);
    }
    PyMem_Free(m->filter);
    memset(m, 0, sizeof(*m));
}

int
slot_add(Slot *s, Condition *c)
{
    if (s->n == s->cap) {
        Py_ssize_t cap = s->cap ? s->cap * 2 : 4;
        Condition **items = PyMem_Realloc(s->items, cap * sizeof(Condition *));
        if (items == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        s->items = items;
        s->cap = cap;
    }
    s->items[s->n++] = c;
    return 0;
}

Py_ssize_t
slot_discard(Slot *s, Condition *c)
{
    for (Py_ssize_t i = 0; i < s->n; i++) {
        if (s->items[i] == c) {
            s->items[i] = s->items[--s->n];
            break;
        }
    }
    return s->n;
}
