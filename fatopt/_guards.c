/* fatopt._guards: the guard runtime.
 *
 * A *specialization* pairs a function's specialized code with its original code and the
 * conditions the specialized code relies on.  Conditions are never checked per call: this module
 * subscribes to the objects they depend on (one dict watcher, and lazily one function watcher and
 * one type watcher for the whole process) and swaps the function's code the moment a condition
 * changes: to the original when one breaks, back to the specialized code when all hold again.
 *
 * Rules that shape this file (see DESIGN.md, section 2):
 *  - Watcher callbacks run *before* a dict mutation and must not run Python code.  They derive the
 *    new state from (event, key, new_value) when that is exact; otherwise they invalidate at once
 *    (the original code is always correct) and queue a re-check that runs later as a pending call,
 *    when the mutation is complete and running code is allowed.
 *  - Swaps write the function's code field directly and reset its call-site version with
 *    PyFunction_SetVectorcall(); no audit hook or descriptor runs.
 *  - The common dict write (a key no condition depends on) costs one pointer-keyed lookup.
 *  - Nothing here decrefs a user object inside a watcher callback (that could run __del__): dead
 *    specializations are torn down from the pending call.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if PY_VERSION_HEX < 0x030C0000
#error "fatopt._guards needs CPython 3.12 or newer (dict/function/type watchers)"
#endif

/* Condition kinds, exported to Python as COND_* constants. */
enum {
    COND_DICT_IS = 1,     /* dict[key] is expected */
    COND_DICT_CONST = 2,  /* dict[key] is the same constant as expected (type and value, -0.0 != 0.0) */
    COND_DICT_ABSENT = 3, /* key not in dict */
    COND_FUNC = 4,        /* function's code, defaults and kwdefaults unchanged */
    COND_TYPE_ATTR = 5,   /* attribute found on the type's MRO is expected */
};

typedef struct SpecObject SpecObject;

typedef struct {
    int kind;
    SpecObject *spec;      /* owner (borrowed) */
    /* dict: borrowed (its deallocation is an event we handle); function and type: strong. */
    PyObject *target;
    PyObject *key;         /* strong, interned str: dict key or attribute name; NULL for COND_FUNC */
    PyObject *expected;    /* strong: object, constant, or code (COND_FUNC); NULL for ABSENT */
    PyObject *defaults;    /* strong or NULL: COND_FUNC */
    PyObject *kwdefaults;  /* strong or NULL: COND_FUNC */
    PyObject *mro;         /* strong tuple: COND_TYPE_ATTR, the MRO watched at registration */
    char holds;
    char dead;             /* target gone or unwatchable: never holds again */
} Condition;

struct SpecObject {
    PyObject_HEAD
    PyFunctionObject *func; /* borrowed; valid while `func_ref` has not fired */
    PyObject *func_ref;     /* weakref to func whose callback detaches this specialization */
    PyObject *original;     /* code */
    PyObject *specialized;  /* code */
    PyObject *guards;       /* tuple of the Python guard objects, for get_specialized() */
    Condition *conds;
    Py_ssize_t nconds;
    Py_ssize_t nfailing;    /* conditions that do not hold */
    char unknown;           /* some condition's state is unknown until the pending re-check */
    char indexed;           /* conditions are in the index */
    char dead;              /* detached from its function for good */
    char queued;            /* in the pending list */
    Py_ssize_t invalidations;
    Py_ssize_t revalidations;
};

/* ---------------------------------------------------------------- pointer-pair index ----- */
/* Open addressing (linear probing, tombstones) keyed by (object, key) pointer pairs.
 * (dict, key) -> conditions on that binding; (obj, NULL) -> every condition on obj. */

#define SLOT_TOMBSTONE ((void *)1)

typedef struct {
    void *a;
    void *b;
    Condition **items;
    Py_ssize_t n, cap;
} Slot;

typedef struct {
    Slot *slots;
    size_t mask;    /* capacity - 1; capacity is a power of two */
    size_t used;    /* live entries */
    size_t filled;  /* live entries + tombstones */
} PtrMap;

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

static int
map_resize(PtrMap *m, size_t cap)
{
    Slot *old = m->slots;
    size_t oldcap = old ? m->mask + 1 : 0;
    Slot *slots = PyMem_Calloc(cap, sizeof(Slot));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
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
    }
    PyMem_Free(old);
    return 0;
}

/* Find or create the slot for (a, b).  May move slots: never call while holding a Slot *. */
static Slot *
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
    s->items = NULL;
    s->n = s->cap = 0;
    return s;
}

static void
map_remove(PtrMap *m, Slot *s)
{
    PyMem_Free(s->items);
    s->items = NULL;
    s->n = s->cap = 0;
    s->a = SLOT_TOMBSTONE;
    s->b = NULL;
    m->used--;
}

static void
map_free(PtrMap *m)
{
    if (m->slots) {
        for (size_t i = 0; i <= m->mask; i++) {
            PyMem_Free(m->slots[i].items);
        }
        PyMem_Free(m->slots);
    }
    memset(m, 0, sizeof(*m));
}

static int
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

/* Remove c from the slot; returns the number of conditions left. */
static Py_ssize_t
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

/* ------------------------------------------------------------------------ module state ----- */

typedef struct {
    PyTypeObject *spec_type;
    PyObject *registry;      /* dict: int(id(func)) -> Spec */
    PyObject *refs;          /* dict: weakref -> int(id(func)), to find a dead function's entry */
    PyObject *pending;       /* list of Spec to re-check or tear down */
    PyObject *died;          /* the weakref callback (a builtin function bound to the module) */
    PyObject *born_install;  /* _born_install, bound to the module (see born()) */
    PyObject *partial;       /* functools.partial */
    PyObject *original_builtins; /* fatopt._ORIGINAL_BUILTINS: what "the builtin" means */
    /* Names used on born()'s paths, made once: a name made per call costs an allocation, and
     * CPython's type attribute cache keys on the name's address, so fresh names would each keep
     * a cache slot (and their memory) alive until evicted. */
    PyObject *str_replace;   /* "replace" */
    PyObject *str_runtime;   /* "fatopt.runtime" */
    PyObject *str_unoptimized; /* "_unoptimized" */
    PtrMap index;
    int dict_watcher;        /* -1: not registered (yet) */
    int func_watcher;
    int type_watcher;
    char pending_scheduled;
    char no_watcher_warned;
    Py_ssize_t total_registered;
} State;

/* Watcher callbacks receive no user data, and watchers belong to the interpreter: the one module
 * instance (subinterpreters are refused) publishes its state here for them. */
static State *g_state = NULL;

static int dict_watch_cb(PyDict_WatchEvent, PyObject *, PyObject *, PyObject *);
static int func_watch_cb(PyFunction_WatchEvent, PyFunctionObject *, PyObject *);
static int type_watch_cb(PyTypeObject *);
static int run_pending(void *);

/* ------------------------------------------------------------------- evaluation helpers ----- */

/* Same constant, as the compiler would merge it: same exact type and value; floats compare by
 * bits so 0.0 and -0.0 differ and a NaN equals itself.  Never runs Python code. */
static int
same_constant(PyObject *a, PyObject *b)
{
    if (a == b) {
        return 1;
    }
    PyTypeObject *t = Py_TYPE(a);
    if (t != Py_TYPE(b)) {
        return 0;
    }
    if (t == &PyLong_Type) {
        return PyObject_RichCompareBool(a, b, Py_EQ) == 1;
    }
    if (t == &PyUnicode_Type) {
        return PyUnicode_Compare(a, b) == 0;
    }
    if (t == &PyBytes_Type) {
        return PyBytes_GET_SIZE(a) == PyBytes_GET_SIZE(b)
               && memcmp(PyBytes_AS_STRING(a), PyBytes_AS_STRING(b), PyBytes_GET_SIZE(a)) == 0;
    }
    if (t == &PyFloat_Type) {
        double x = PyFloat_AS_DOUBLE(a), y = PyFloat_AS_DOUBLE(b);
        return memcmp(&x, &y, sizeof(double)) == 0;
    }
    if (t == &PyComplex_Type) {
        Py_complex x = ((PyComplexObject *)a)->cval, y = ((PyComplexObject *)b)->cval;
        return memcmp(&x, &y, sizeof(Py_complex)) == 0;
    }
    if (t == &PyTuple_Type) {
        Py_ssize_t n = PyTuple_GET_SIZE(a);
        if (n != PyTuple_GET_SIZE(b)) {
            return 0;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            if (!same_constant(PyTuple_GET_ITEM(a, i), PyTuple_GET_ITEM(b, i))) {
                return 0;
            }
        }
        return 1;
    }
    return 0;  /* bool, None, Ellipsis, frozenset, anything else: identity only */
}

static int
is_constant(PyObject *v)
{
    PyTypeObject *t = Py_TYPE(v);
    if (v == Py_None || v == Py_Ellipsis || t == &PyBool_Type || t == &PyLong_Type
        || t == &PyUnicode_Type || t == &PyBytes_Type || t == &PyFloat_Type
        || t == &PyComplex_Type) {
        return 1;
    }
    if (t == &PyTuple_Type) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(v); i++) {
            if (!is_constant(PyTuple_GET_ITEM(v, i))) {
                return 0;
            }
        }
        return 1;
    }
    return 0;
}

/* New state of a dict condition when its key is bound to `value` (NULL: absent). */
static inline int
dict_cond_holds(Condition *c, PyObject *value)
{
    switch (c->kind) {
    case COND_DICT_IS:
        return value == c->expected;
    case COND_DICT_CONST:
        return value != NULL && same_constant(value, c->expected);
    case COND_DICT_ABSENT:
        return value == NULL;
    }
    return 0;
}

static inline PyObject *
none_to_null(PyObject *v)
{
    return v == Py_None ? NULL : v;
}

static int func_code_matches(State *st, PyFunctionObject *f, PyObject *code, PyObject *expected);

static int
func_cond_holds(State *st, Condition *c, PyObject *code, PyObject *defaults, PyObject *kwdefaults)
{
    return func_code_matches(st, (PyFunctionObject *)c->target, code, c->expected)
           && none_to_null(defaults) == c->defaults && none_to_null(kwdefaults) == c->kwdefaults;
}

/* Look `name` up along a type's MRO without running code.  Returns a borrowed reference or NULL
 * (not found); -1 in *error on failure. */
static PyObject *
mro_lookup(PyObject *mro, PyObject *name, int *error)
{
    *error = 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mro); i++) {
        PyObject *dict = PyType_GetDict((PyTypeObject *)PyTuple_GET_ITEM(mro, i));
        if (dict == NULL) {
            continue;
        }
        PyObject *v = PyDict_GetItemWithError(dict, name);
        Py_DECREF(dict);  /* the type keeps its dict alive, and so `v` */
        if (v != NULL) {
            return v;
        }
        if (PyErr_Occurred()) {
            *error = 1;
            return NULL;
        }
    }
    return NULL;
}

/* Evaluate a condition against the live state (outside watcher callbacks only: dict lookups
 * with exotic keys may run __eq__). */
static int
cond_eval_now(State *st, Condition *c)
{
    if (c->dead) {
        return 0;
    }
    switch (c->kind) {
    case COND_DICT_IS:
    case COND_DICT_CONST:
    case COND_DICT_ABSENT: {
        PyObject *v = PyDict_GetItemWithError(c->target, c->key);
        if (v == NULL && PyErr_Occurred()) {
            return -1;
        }
        return dict_cond_holds(c, v);
    }
    case COND_FUNC: {
        PyFunctionObject *f = (PyFunctionObject *)c->target;
        return func_cond_holds(st, c, f->func_code, f->func_defaults, f->func_kwdefaults);
    }
    case COND_TYPE_ATTR: {
        PyTypeObject *t = (PyTypeObject *)c->target;
        if (t->tp_mro == NULL || PyObject_RichCompareBool(t->tp_mro, c->mro, Py_EQ) != 1) {
            PyErr_Clear();
            c->dead = 1;  /* the hierarchy changed under us: we no longer watch the right types */
            return 0;
        }
        int error;
        PyObject *v = mro_lookup(c->mro, c->key, &error);
        if (error) {
            return -1;
        }
        return v == c->expected;
    }
    }
    return 0;
}

/* ------------------------------------------------------------------------------ swapping ----- */

static void on_func_event(State *st, PyFunctionObject *f, PyFunction_WatchEvent event, PyObject *new_value);

/* Install `code` as the function's code.  The direct write runs no audit hook or descriptor;
 * PyFunction_SetVectorcall() is the public call that resets the function version, so call sites
 * specialized for the old code drop their cache. */
static void
install_code(State *st, PyFunctionObject *f, PyObject *code)
{
    if (st->func_watcher >= 0) {
        on_func_event(st, f, PyFunction_EVENT_MODIFY_CODE, code);  /* our own watchers */
    }
    PyObject *old = f->func_code;
    f->func_code = Py_NewRef(code);
    PyFunction_SetVectorcall(f, f->vectorcall);
    Py_DECREF(old);  /* never the last reference: the specialization holds both codes */
}

static void schedule_pending(State *st);

static void
queue_spec(State *st, SpecObject *spec)
{
    if (!spec->queued) {
        /* Allocation only: no Python code runs.  On failure the spec stays on its original
         * code (always correct) until a later event queues it again. */
        if (PyList_Append(st->pending, (PyObject *)spec) < 0) {
            PyErr_Clear();
            return;
        }
        spec->queued = 1;
    }
    schedule_pending(st);
}

/* Give up a specialization for good (its function's code was assigned by someone else).  The
 * teardown, which releases user objects, happens in the pending call. */
static void
spec_abandon(State *st, SpecObject *spec)
{
    spec->dead = 1;
    queue_spec(st, spec);
}

/* Make the function's code agree with the specialization's state. */
static void
spec_sync(State *st, SpecObject *spec)
{
    if (spec->dead) {
        return;
    }
    int valid = spec->nfailing == 0 && !spec->unknown;
    PyObject *want = valid ? spec->specialized : spec->original;
    PyObject *cur = spec->func->func_code;
    if (cur == want) {
        return;
    }
    if (cur != (valid ? spec->original : spec->specialized)) {
        spec_abandon(st, spec);  /* the user assigned __code__: theirs wins, for good */
        return;
    }
    install_code(st, spec->func, want);
    if (valid) {
        spec->revalidations++;
    }
    else {
        spec->invalidations++;
    }
}

static inline void
cond_set(State *st, Condition *c, int holds)
{
    SpecObject *spec = c->spec;
    if (spec->dead || c->holds == holds) {
        return;
    }
    c->holds = (char)holds;
    spec->nfailing += holds ? -1 : 1;
    spec_sync(st, spec);
}

/* The state of `spec` cannot be derived here: fall back now, re-check from the pending call. */
static void
spec_mark_unknown(State *st, SpecObject *spec)
{
    if (spec->dead) {
        return;
    }
    if (!spec->unknown) {
        spec->unknown = 1;
        spec_sync(st, spec);
    }
    queue_spec(st, spec);
}

/* ------------------------------------------------------------------------- dict watcher ----- */

/* A write whose key is not an interned str.  Rare; the key may still equal a watched one. */
static void
on_dict_odd_key(State *st, PyObject *d, PyObject *key, PyObject *new_value)
{
    Slot *all = map_find(&st->index, d, NULL);
    if (all == NULL) {
        return;
    }
    PyTypeObject *kt = Py_TYPE(key);
    if (kt == &PyUnicode_Type) {
        /* An equal but distinct str object: compare values (C only). */
        for (Py_ssize_t i = 0; i < all->n; i++) {
            Condition *c = all->items[i];
            if (PyUnicode_Compare(c->key, key) == 0) {
                cond_set(st, c, dict_cond_holds(c, new_value));
            }
        }
        return;
    }
    if (kt == &PyLong_Type || kt == &PyFloat_Type || kt == &PyBytes_Type || kt == &PyTuple_Type
        || kt == &PyBool_Type || kt == &PyComplex_Type || kt == &PyFrozenSet_Type
        || key == Py_None) {
        return;  /* built-in types never compare equal to a str */
    }
    /* A str subclass or an object with its own __eq__ may match a watched key; deciding would run
     * its code.  Be conservative. */
    for (Py_ssize_t i = 0; i < all->n; i++) {
        spec_mark_unknown(st, all->items[i]->spec);
    }
}

static void
on_dict_dealloc(State *st, PyObject *d)
{
    Slot *all = map_find(&st->index, d, NULL);
    if (all == NULL) {
        return;
    }
    for (Py_ssize_t i = 0; i < all->n; i++) {
        Condition *c = all->items[i];
        Slot *s = map_find(&st->index, d, c->key);
        if (s != NULL && slot_discard(s, c) == 0) {
            map_remove(&st->index, s);  /* removal never moves slots, so `all` stays valid */
        }
        c->dead = 1;
        cond_set(st, c, 0);
    }
    map_remove(&st->index, all);
}

static void
on_dict_event(State *st, PyDict_WatchEvent event, PyObject *d, PyObject *key, PyObject *new_value)
{
    switch (event) {
    case PyDict_EVENT_ADDED:
    case PyDict_EVENT_MODIFIED:
    case PyDict_EVENT_DELETED:
        on_dict_odd_key(st, d, key, new_value);
        return;
    case PyDict_EVENT_CLEARED: {
        Slot *all = map_find(&st->index, d, NULL);
        if (all != NULL) {
            for (Py_ssize_t i = 0; i < all->n; i++) {
                cond_set(st, all->items[i], dict_cond_holds(all->items[i], NULL));
            }
        }
        return;
    }
    case PyDict_EVENT_CLONED: {
        /* `d` (empty) is about to receive a copy of the dict passed as `key`; new_value is NULL.
         * Reading the source could run __eq__ of exotic keys: re-check later. */
        Slot *all = map_find(&st->index, d, NULL);
        if (all != NULL) {
            for (Py_ssize_t i = 0; i < all->n; i++) {
                spec_mark_unknown(st, all->items[i]->spec);
            }
        }
        return;
    }
    case PyDict_EVENT_DEALLOCATED:
        on_dict_dealloc(st, d);
        return;
    }
}

static int
dict_watch_cb(PyDict_WatchEvent event, PyObject *d, PyObject *key, PyObject *new_value)
{
    State *st = g_state;
    if (st == NULL) {
        return 0;
    }
    Slot *s = NULL;
    if (event == PyDict_EVENT_ADDED || event == PyDict_EVENT_MODIFIED
        || event == PyDict_EVENT_DELETED) {
        if (PyUnicode_CheckExact(key) && PyUnicode_CHECK_INTERNED(key)) {
            /* Fast path: one lookup; a key nobody depends on ends here. */
            s = map_find(&st->index, d, key);
            if (s == NULL) {
                return 0;
            }
        }
        else if (map_find(&st->index, d, NULL) == NULL) {
            return 0;
        }
    }
    /* The write may happen while an exception is being raised: keep it intact. */
    PyObject *exc = PyErr_GetRaisedException();
    if (s != NULL) {
        for (Py_ssize_t i = 0; i < s->n; i++) {
            cond_set(st, s->items[i], dict_cond_holds(s->items[i], new_value));
        }
    }
    else {
        on_dict_event(st, event, d, key, new_value);
    }
    PyErr_SetRaisedException(exc);
    return 0;
}

/* --------------------------------------------------------------------- function watcher ----- */

/* Does `code` count as the expected code of `f`?  A registered function's original and
 * specialized codes are interchangeable: it swaps between them by itself. */
static int
func_code_matches(State *st, PyFunctionObject *f, PyObject *code, PyObject *expected)
{
    if (code == expected) {
        return 1;
    }
    PyObject *k = PyLong_FromVoidPtr(f);
    if (k == NULL) {
        PyErr_Clear();
        return 0;
    }
    PyObject *spec = PyDict_GetItemWithError(st->registry, k);  /* int keys: no Python code */
    Py_DECREF(k);
    if (spec == NULL) {
        PyErr_Clear();
        return 0;
    }
    SpecObject *s = (SpecObject *)spec;
    return !s->dead && (code == s->original || code == s->specialized)
           && (expected == s->original || expected == s->specialized);
}

static void
on_func_event(State *st, PyFunctionObject *f, PyFunction_WatchEvent event, PyObject *new_value)
{
    Slot *all = map_find(&st->index, f, NULL);
    if (all == NULL) {
        return;
    }
    for (Py_ssize_t i = 0; i < all->n; i++) {
        Condition *c = all->items[i];
        int holds;
        switch (event) {
        case PyFunction_EVENT_MODIFY_CODE:
            holds = func_cond_holds(st, c, new_value, f->func_defaults, f->func_kwdefaults);
            break;
        case PyFunction_EVENT_MODIFY_DEFAULTS:
            holds = func_cond_holds(st, c, f->func_code, new_value, f->func_kwdefaults);
            break;
        case PyFunction_EVENT_MODIFY_KWDEFAULTS:
            holds = func_cond_holds(st, c, f->func_code, f->func_defaults, new_value);
            break;
        default:
            continue;
        }
        cond_set(st, c, holds);
    }
}

static int
func_watch_cb(PyFunction_WatchEvent event, PyFunctionObject *f, PyObject *new_value)
{
    State *st = g_state;
    /* CREATE is by far the most frequent event and never concerns us. */
    if (st == NULL || event == PyFunction_EVENT_CREATE || event == PyFunction_EVENT_DESTROY) {
        /* DESTROY cannot concern a watched function: conditions hold it strongly. */
        return 0;
    }
    PyObject *exc = PyErr_GetRaisedException();
    on_func_event(st, f, event, new_value);
    PyErr_SetRaisedException(exc);
    return 0;
}

/* ------------------------------------------------------------------------- type watcher ----- */

static int
type_watch_cb(PyTypeObject *t)
{
    State *st = g_state;
    if (st == NULL) {
        return 0;
    }
    /* The event may come before the type's dict changes (3.13), and it says nothing about which
     * attribute: fall back now and re-check once the change is done.  The type stays unwatched
     * (events coalesce) until the re-check re-arms it. */
    Slot *all = map_find(&st->index, t, NULL);
    if (all != NULL) {
        PyObject *exc = PyErr_GetRaisedException();
        for (Py_ssize_t i = 0; i < all->n; i++) {
            spec_mark_unknown(st, all->items[i]->spec);
        }
        PyErr_SetRaisedException(exc);
    }
    return 0;
}

/* ------------------------------------------------------------------ index maintenance ----- */

static int
watch_object(State *st, int kind, PyObject *obj)
{
    if (kind == COND_FUNC) {
        return 0;  /* function watchers see every function */
    }
    if (kind == COND_TYPE_ATTR) {
        return PyType_Watch(st->type_watcher, obj);
    }
    return PyDict_Watch(st->dict_watcher, obj);
}

static void
unwatch_object(State *st, int kind, PyObject *obj)
{
    int rc = 0;
    if (kind == COND_TYPE_ATTR) {
        rc = PyType_Unwatch(st->type_watcher, obj);
    }
    else if (kind != COND_FUNC) {
        rc = PyDict_Unwatch(st->dict_watcher, obj);
    }
    if (rc < 0) {
        PyErr_Clear();
    }
}

/* Add (obj, key) -> c, and (obj, NULL) -> c, watching obj when it is new. */
static int
index_add(State *st, Condition *c, PyObject *obj, PyObject *key)
{
    if (key != NULL) {
        Slot *s = map_insert(&st->index, obj, key);
        if (s == NULL || slot_add(s, c) < 0) {
            return -1;
        }
    }
    Slot *all = map_insert(&st->index, obj, NULL);
    if (all == NULL) {
        return -1;
    }
    int fresh = all->n == 0;
    if (slot_add(all, c) < 0) {
        return -1;
    }
    if (fresh && watch_object(st, c->kind, obj) < 0) {
        return -1;
    }
    return 0;
}

static void
index_discard(State *st, Condition *c, PyObject *obj, PyObject *key)
{
    if (key != NULL) {
        Slot *s = map_find(&st->index, obj, key);
        if (s != NULL && slot_discard(s, c) == 0) {
            map_remove(&st->index, s);
        }
    }
    Slot *all = map_find(&st->index, obj, NULL);
    if (all != NULL && slot_discard(all, c) == 0) {
        map_remove(&st->index, all);
        unwatch_object(st, c->kind, obj);
    }
}

static void
cond_unindex(State *st, Condition *c)
{
    if (c->target == NULL) {
        return;
    }
    switch (c->kind) {
    case COND_DICT_IS:
    case COND_DICT_CONST:
    case COND_DICT_ABSENT:
        if (!c->dead) {  /* a dead dict's entries went with it */
            index_discard(st, c, c->target, c->key);
        }
        break;
    case COND_FUNC:
        index_discard(st, c, c->target, NULL);
        break;
    case COND_TYPE_ATTR:
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(c->mro); i++) {
            index_discard(st, c, PyTuple_GET_ITEM(c->mro, i), NULL);
        }
        break;
    }
}

static int
cond_index(State *st, Condition *c)
{
    switch (c->kind) {
    case COND_FUNC:
        return index_add(st, c, c->target, NULL);
    case COND_TYPE_ATTR:
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(c->mro); i++) {
            if (index_add(st, c, PyTuple_GET_ITEM(c->mro, i), NULL) < 0) {
                return -1;
            }
        }
        return 0;
    default:
        return index_add(st, c, c->target, c->key);
    }
}

static void
spec_unindex(State *st, SpecObject *spec)
{
    if (!spec->indexed) {
        return;
    }
    for (Py_ssize_t i = 0; i < spec->nconds; i++) {
        cond_unindex(st, &spec->conds[i]);
    }
    spec->indexed = 0;
}

static void
conds_free(SpecObject *spec)
{
    for (Py_ssize_t i = 0; i < spec->nconds; i++) {
        Condition *c = &spec->conds[i];
        if (c->kind == COND_FUNC || c->kind == COND_TYPE_ATTR) {
            Py_CLEAR(c->target);
        }
        c->target = NULL;
        Py_CLEAR(c->key);
        Py_CLEAR(c->expected);
        Py_CLEAR(c->defaults);
        Py_CLEAR(c->kwdefaults);
        Py_CLEAR(c->mro);
    }
    PyMem_Free(spec->conds);
    spec->conds = NULL;
    spec->nconds = 0;
}

/* Remove a specialization from the runtime: out of the index and the registry.  Does not touch
 * the function's code.  Runs Python-level decrefs: never from a watcher callback.
 *
 * Callers may hold only a borrowed reference (from the registry): the registry entry is dropped
 * last, and `spec` is not touched after it, since that may free it. */
static void
spec_detach(State *st, SpecObject *spec)
{
    spec->dead = 1;
    spec_unindex(st, spec);
    PyObject *ref = spec->func_ref;     /* ours now: released at the end */
    spec->func_ref = NULL;
    PyFunctionObject *func = spec->func;
    spec->func = NULL;
    if (ref != NULL && st->refs != NULL && PyDict_Contains(st->refs, ref) == 1
        && PyDict_DelItem(st->refs, ref) < 0) {
        PyErr_Clear();
    }
    PyErr_Clear();
    if (func != NULL) {
        PyObject *k = PyLong_FromVoidPtr(func);
        if (k != NULL) {
            PyObject *cur = PyDict_GetItemWithError(st->registry, k);
            if (cur == (PyObject *)spec && PyDict_DelItem(st->registry, k) < 0) {   /* may free spec */
                PyErr_Clear();
            }
            Py_DECREF(k);
        }
        PyErr_Clear();
    }
    Py_XDECREF(ref);
}

/* ---------------------------------------------------------------------- pending re-checks --- */

static void
schedule_pending(State *st)
{
    if (!st->pending_scheduled && Py_AddPendingCall(run_pending, NULL) == 0) {
        st->pending_scheduled = 1;
    }
}

static void
rearm_types(State *st, SpecObject *spec)
{
    for (Py_ssize_t i = 0; i < spec->nconds; i++) {
        Condition *c = &spec->conds[i];
        if (c->kind != COND_TYPE_ATTR || c->dead) {
            continue;
        }
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(c->mro); j++) {
            PyTypeObject *t = (PyTypeObject *)PyTuple_GET_ITEM(c->mro, j);
            /* PyType_Watch assigns a version tag, so the next change fires again; it cannot say
             * when tags ran out, so look. */
            if (PyType_Watch(st->type_watcher, (PyObject *)t) < 0 || t->tp_version_tag == 0) {
                PyErr_Clear();
                c->dead = 1;
            }
        }
    }
}

/* Re-evaluate every condition from the live state and install the right code. */
static int
spec_recheck(State *st, SpecObject *spec)
{
    rearm_types(st, spec);
    Py_ssize_t failing = 0;
    for (Py_ssize_t i = 0; i < spec->nconds; i++) {
        int h = cond_eval_now(st, &spec->conds[i]);
        if (h < 0) {
            return -1;
        }
        spec->conds[i].holds = (char)h;
        failing += !h;
    }
    spec->nfailing = failing;
    spec->unknown = 0;
    spec_sync(st, spec);
    return 0;
}

/* Drain the pending list.  Runs as a pending call (normal context: code may run) or directly. */
static void
process_pending(State *st)
{
    while (PyList_GET_SIZE(st->pending) > 0) {
        Py_ssize_t last = PyList_GET_SIZE(st->pending) - 1;
        SpecObject *spec = (SpecObject *)Py_NewRef(PyList_GET_ITEM(st->pending, last));
        if (PyList_SetSlice(st->pending, last, last + 1, NULL) < 0) {
            Py_DECREF(spec);
            PyErr_WriteUnraisable(NULL);
            return;
        }
        spec->queued = 0;
        if (spec->dead) {
            spec_detach(st, spec);
        }
        else if (spec->unknown && spec_recheck(st, spec) < 0) {
            /* Could not read the state: stay on the original code, say why. */
            PyErr_WriteUnraisable((PyObject *)spec);
        }
        Py_DECREF(spec);
    }
}

static int
run_pending(void *arg)
{
    State *st = g_state;
    if (st == NULL) {
        return 0;
    }
    st->pending_scheduled = 0;
    /* A pending call that returns -1 would raise in whatever frame is running: never do that. */
    PyObject *exc = PyErr_GetRaisedException();
    process_pending(st);
    PyErr_SetRaisedException(exc);
    return 0;
}

/* ------------------------------------------------------------------ Specialization type ----- */

static int
spec_traverse(SpecObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->func_ref);
    Py_VISIT(self->original);
    Py_VISIT(self->specialized);
    Py_VISIT(self->guards);
    for (Py_ssize_t i = 0; i < self->nconds; i++) {
        Condition *c = &self->conds[i];
        if (c->kind == COND_FUNC || c->kind == COND_TYPE_ATTR) {
            Py_VISIT(c->target);
        }
        Py_VISIT(c->expected);
        Py_VISIT(c->defaults);
        Py_VISIT(c->kwdefaults);
        Py_VISIT(c->mro);
    }
    return 0;
}

static int
spec_clear(SpecObject *self)
{
    if (g_state != NULL && (self->indexed || self->func_ref != NULL)) {
        spec_detach(g_state, self);
    }
    self->indexed = 0;
    Py_CLEAR(self->func_ref);
    Py_CLEAR(self->original);
    Py_CLEAR(self->specialized);
    Py_CLEAR(self->guards);
    conds_free(self);
    return 0;
}

static void
spec_dealloc(SpecObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    spec_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *
spec_repr(SpecObject *self)
{
    const char *state = self->dead ? "detached"
                        : (self->nfailing || self->unknown) ? "invalidated" : "active";
    if (self->specialized == NULL) {
        return PyUnicode_FromFormat("<fatopt specialization (%s)>", state);
    }
    return PyUnicode_FromFormat("<fatopt specialization of %R (%s)>",
                                ((PyCodeObject *)self->specialized)->co_qualname, state);
}

static PyType_Slot spec_slots[] = {
    {Py_tp_doc, "A function's specialized code, its original code and the guards in between."},
    {Py_tp_dealloc, spec_dealloc},
    {Py_tp_traverse, spec_traverse},
    {Py_tp_clear, spec_clear},
    {Py_tp_repr, spec_repr},
    {0, NULL},
};

static PyType_Spec spec_spec = {
    .name = "fatopt._guards.Specialization",
    .basicsize = sizeof(SpecObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION
             | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = spec_slots,
};

/* ------------------------------------------------------------------------ registration ----- */

static State *
get_state(PyObject *module)
{
    return (State *)PyModule_GetState(module);
}

static int
ensure_watchers(State *st, int need_dict, int need_func, int need_type)
{
    if (need_dict && st->dict_watcher < 0) {
        st->dict_watcher = PyDict_AddWatcher(dict_watch_cb);
    }
    /* The function watcher costs every function creation in the process a few ns: only once a
     * guard needs it. */
    if (need_func && st->func_watcher < 0) {
        st->func_watcher = PyFunction_AddWatcher(func_watch_cb);
    }
    if (need_type && st->type_watcher < 0) {
        st->type_watcher = PyType_AddWatcher(type_watch_cb);
    }
    if ((need_dict && st->dict_watcher < 0) || (need_func && st->func_watcher < 0)
        || (need_type && st->type_watcher < 0)) {
        PyErr_Clear();
        if (!st->no_watcher_warned) {
            st->no_watcher_warned = 1;
            if (PyErr_WarnEx(PyExc_RuntimeWarning,
                             "fatopt: no free dict/function/type watcher id in this interpreter "
                             "(other extensions use them all); functions run unoptimized", 1) < 0) {
                return -1;
            }
        }
        return 0;
    }
    return 1;
}

static int
flags_kind(PyCodeObject *co)
{
    return co->co_flags & (CO_VARARGS | CO_VARKEYWORDS | CO_GENERATOR | CO_COROUTINE
                           | CO_ASYNC_GENERATOR | CO_ITERABLE_COROUTINE);
}

/* Original and specialized code must be interchangeable for every caller of the function. */
static int
check_compatible(PyCodeObject *a, PyCodeObject *b)
{
    const char *what = NULL;
    if (a->co_argcount != b->co_argcount || a->co_posonlyargcount != b->co_posonlyargcount
        || a->co_kwonlyargcount != b->co_kwonlyargcount) {
        what = "argument counts";
    }
    else if (flags_kind(a) != flags_kind(b)) {
        what = "kind (generator/coroutine/async generator, *args/**kwargs)";
    }
    else if (a->co_nfreevars != b->co_nfreevars) {
        what = "free variables";
    }
    if (what == NULL) {
        PyObject *fa = PyCode_GetFreevars(a), *fb = PyCode_GetFreevars(b);
        PyObject *va = PyCode_GetVarnames(a), *vb = PyCode_GetVarnames(b);
        int ok = -1;
        if (fa && fb && va && vb) {
            ok = PyObject_RichCompareBool(fa, fb, Py_EQ);
            Py_ssize_t nargs = a->co_argcount + a->co_kwonlyargcount
                               + !!(a->co_flags & CO_VARARGS) + !!(a->co_flags & CO_VARKEYWORDS);
            if (ok == 1) {
                PyObject *sa = PyTuple_GetSlice(va, 0, nargs), *sb = PyTuple_GetSlice(vb, 0, nargs);
                ok = (sa && sb) ? PyObject_RichCompareBool(sa, sb, Py_EQ) : -1;
                Py_XDECREF(sa);
                Py_XDECREF(sb);
                if (ok == 0) {
                    what = "argument names";
                }
            }
            else if (ok == 0) {
                what = "free variables";
            }
        }
        Py_XDECREF(fa);
        Py_XDECREF(fb);
        Py_XDECREF(va);
        Py_XDECREF(vb);
        if (ok < 0) {
            return -1;
        }
    }
    if (what != NULL) {
        PyErr_Format(PyExc_ValueError,
                     "original and specialized code of %R differ in %s", a->co_qualname, what);
        return -1;
    }
    return 0;
}

static PyObject *
intern_key(PyObject *key)
{
    if (!PyUnicode_CheckExact(key)) {
        PyErr_Format(PyExc_TypeError, "guard keys must be str, not %.100s", Py_TYPE(key)->tp_name);
        return NULL;
    }
    Py_INCREF(key);
    PyUnicode_InternInPlace(&key);
    return key;
}

/* Fill `c` from a condition tuple (kind, target, ...).  Returns -1 with an exception set. */
static int
cond_parse(Condition *c, PyObject *t)
{
    if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) < 2 || !PyLong_Check(PyTuple_GET_ITEM(t, 0))) {
        PyErr_SetString(PyExc_TypeError, "a condition is a tuple (kind, target, ...)");
        return -1;
    }
    int kind = (int)PyLong_AsLong(PyTuple_GET_ITEM(t, 0));
    Py_ssize_t n = PyTuple_GET_SIZE(t);
    PyObject *target = PyTuple_GET_ITEM(t, 1);
    c->kind = kind;
    switch (kind) {
    case COND_DICT_IS:
    case COND_DICT_CONST:
    case COND_DICT_ABSENT:
        if (n != (kind == COND_DICT_ABSENT ? 3 : 4) || !PyDict_CheckExact(target)) {
            PyErr_SetString(PyExc_TypeError,
                            "dict condition: (kind, dict, key[, expected]) with an exact dict");
            return -1;
        }
        if (kind == COND_DICT_CONST && !is_constant(PyTuple_GET_ITEM(t, 3))) {
            PyErr_Format(PyExc_TypeError, "not a constant: %R", PyTuple_GET_ITEM(t, 3));
            return -1;
        }
        c->target = target;  /* borrowed: see Condition */
        if ((c->key = intern_key(PyTuple_GET_ITEM(t, 2))) == NULL) {
            return -1;
        }
        c->expected = kind == COND_DICT_ABSENT ? NULL : Py_NewRef(PyTuple_GET_ITEM(t, 3));
        return 0;
    case COND_FUNC:
        if (n != 5 || !PyFunction_Check(target) || !PyCode_Check(PyTuple_GET_ITEM(t, 2))) {
            PyErr_SetString(PyExc_TypeError,
                            "function condition: (kind, function, code, defaults, kwdefaults)");
            return -1;
        }
        c->target = Py_NewRef(target);
        c->expected = Py_NewRef(PyTuple_GET_ITEM(t, 2));
        c->defaults = Py_XNewRef(none_to_null(PyTuple_GET_ITEM(t, 3)));
        c->kwdefaults = Py_XNewRef(none_to_null(PyTuple_GET_ITEM(t, 4)));
        return 0;
    case COND_TYPE_ATTR:
        if (n != 4 || !PyType_Check(target)) {
            PyErr_SetString(PyExc_TypeError, "type condition: (kind, type, name, expected)");
            return -1;
        }
        if (((PyTypeObject *)target)->tp_mro == NULL) {
            PyErr_SetString(PyExc_ValueError, "type is not ready");
            return -1;
        }
        c->target = Py_NewRef(target);
        if ((c->key = intern_key(PyTuple_GET_ITEM(t, 2))) == NULL) {
            return -1;
        }
        c->expected = Py_NewRef(PyTuple_GET_ITEM(t, 3));
        c->mro = Py_NewRef(((PyTypeObject *)target)->tp_mro);
        return 0;
    }
    PyErr_Format(PyExc_ValueError, "unknown condition kind %d", kind);
    return -1;
}

/* Parse a sequence of condition tuples into a freshly allocated array. */
static Condition *
conds_parse(PyObject *conditions, Py_ssize_t *n_out, int need[3])
{
    PyObject *seq = PySequence_Fast(conditions, "conditions must be a sequence");
    if (seq == NULL) {
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    Condition *conds = PyMem_Calloc(n ? n : 1, sizeof(Condition));
    if (conds == NULL) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return NULL;
    }
    SpecObject tmp = {.conds = conds, .nconds = n};
    for (Py_ssize_t i = 0; i < n; i++) {
        if (cond_parse(&conds[i], PySequence_Fast_GET_ITEM(seq, i)) < 0) {
            Py_DECREF(seq);
            conds_free(&tmp);
            return NULL;
        }
        int k = conds[i].kind;
        need[0] |= k == COND_DICT_IS || k == COND_DICT_CONST || k == COND_DICT_ABSENT;
        need[1] |= k == COND_FUNC;
        need[2] |= k == COND_TYPE_ATTR;
    }
    Py_DECREF(seq);
    *n_out = n;
    return conds;
}

static PyObject *
lookup_spec(State *st, PyObject *func)
{
    PyObject *k = PyLong_FromVoidPtr(func);
    if (k == NULL) {
        return NULL;
    }
    PyObject *spec = PyDict_GetItemWithError(st->registry, k);
    Py_DECREF(k);
    if (spec == NULL) {
        return NULL;
    }
    SpecObject *s = (SpecObject *)spec;
    PyObject *cur = ((PyFunctionObject *)func)->func_code;
    if (s->dead || (cur != s->original && cur != s->specialized)) {
        /* The user assigned __code__ since: the specialization is gone for good. */
        spec_detach(st, s);
        return NULL;
    }
    return spec;
}

/* Register `func`, which holds its specialized code, with its original code and conditions.
 * Returns 1 (specialized code in place), 0 (conditions fail now: original code in place, the
 * specialization waits for them to hold) or -1 (error: the function is left as it was). */
static int
do_register(State *st, PyObject *module, PyFunctionObject *func, PyObject *original,
            PyObject *guards, PyObject *conditions)
{
    PyObject *key = NULL, *ref = NULL;
    SpecObject *spec = NULL;
    int need[3] = {0, 0, 0};
    Py_ssize_t nconds = 0;
    Condition *conds = NULL;

    PyObject *existing = lookup_spec(st, (PyObject *)func);
    if (existing != NULL) {
        PyErr_Format(PyExc_ValueError, "%R is already specialized", func);
        return -1;
    }
    if (PyErr_Occurred()) {
        return -1;
    }
    if (check_compatible((PyCodeObject *)original, (PyCodeObject *)func->func_code) < 0) {
        return -1;
    }
    if (!PyTuple_Check(guards)) {
        PyErr_SetString(PyExc_TypeError, "guards must be a tuple");
        return -1;
    }
    if ((conds = conds_parse(conditions, &nconds, need)) == NULL) {
        return -1;
    }
    spec = PyObject_GC_New(SpecObject, st->spec_type);
    if (spec == NULL) {
        SpecObject tmp = {.conds = conds, .nconds = nconds};
        conds_free(&tmp);
        return -1;
    }
    spec->func = func;
    spec->func_ref = NULL;
    spec->original = Py_NewRef(original);
    spec->specialized = Py_NewRef(func->func_code);
    spec->guards = Py_NewRef(guards);
    spec->conds = conds;
    spec->nconds = nconds;
    spec->nfailing = 0;
    spec->unknown = spec->indexed = spec->dead = spec->queued = 0;
    spec->invalidations = spec->revalidations = 0;
    for (Py_ssize_t i = 0; i < nconds; i++) {
        conds[i].spec = spec;
    }
    PyObject_GC_Track(spec);

    int have = ensure_watchers(st, need[0], need[1], need[2]);
    if (have < 0) {
        goto error;
    }
    if (have == 0) {
        /* No watcher: run the original code, unguarded specialization is never an option. */
        install_code(st, func, original);
        spec->func = NULL;
        Py_DECREF(spec);
        return 0;
    }
    for (Py_ssize_t i = 0; i < nconds; i++) {
        int h = cond_eval_now(st, &conds[i]);
        if (h < 0) {
            goto error;
        }
        conds[i].holds = (char)h;
        spec->nfailing += !h;
    }
    spec->indexed = 1;
    for (Py_ssize_t i = 0; i < nconds; i++) {
        if (cond_index(st, &conds[i]) < 0) {
            goto error;
        }
    }
    if ((ref = PyWeakref_NewRef((PyObject *)func, st->died)) == NULL) {
        goto error;
    }
    spec->func_ref = ref;
    if ((key = PyLong_FromVoidPtr(func)) == NULL
        || PyDict_SetItem(st->registry, key, (PyObject *)spec) < 0
        || PyDict_SetItem(st->refs, ref, key) < 0) {  /* hashes ref while alive: cached */
        goto error;
    }
    Py_DECREF(key);
    st->total_registered++;
    spec_sync(st, spec);
    int active = func->func_code == spec->specialized;
    Py_DECREF(spec);
    return active;

error:
    Py_XDECREF(key);
    spec_detach(st, spec);
    Py_DECREF(spec);
    return -1;
}

/* ------------------------------------------------------------------------ module functions -- */

static int
parse_func(PyObject *f)
{
    if (!PyFunction_Check(f)) {
        PyErr_Format(PyExc_TypeError, "expected a Python function, got %.100s",
                     Py_TYPE(f)->tp_name);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(register_doc,
"register(func, original, guards, conditions) -> bool\n\n"
"Register `func`, which already holds its specialized code, with its `original` code and the\n"
"conditions the specialized code relies on.  `guards` (a tuple) is kept for get().  Returns True\n"
"when the specialized code is in place, False when a condition fails now (the original code is\n"
"installed and the specialized code comes back when the conditions hold).");

static PyObject *
guards_register(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "register() takes 4 arguments");
        return NULL;
    }
    if (parse_func(args[0]) < 0) {
        return NULL;
    }
    if (!PyCode_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "original must be a code object");
        return NULL;
    }
    int r = do_register(get_state(module), module, (PyFunctionObject *)args[0], args[1], args[2],
                        args[3]);
    return r < 0 ? NULL : PyBool_FromLong(r);
}


/* ------------------------------------------------------------------------ born ------------- */
/* The decorator the optimizer emits on each specialized function:
 *     @__fatopt_runtime__.born(f, builtins=("len",), objects={"DEBUG": False})
 * registers the function (which holds its specialized code) with the original code of `f` as the
 * fallback, guarded by: each named builtin is still the original builtin and not shadowed by a
 * global; each named global is still that very object.  In C because it runs for every
 * specialized function at every import of an optimized module: no Python frame (tracers and
 * debuggers stepping through the module body see none of fatopt's) and no Python module to
 * import at start-up.  A failure costs that function its specialization, never the import:
 * fatopt.runtime._unoptimized warns and returns the original function. */

PyDoc_STRVAR(born_doc,
"born(original, builtins=(), objects=None)\n--\n\n"
"Decorator emitted by the optimizer: register the decorated function, born holding its\n"
"specialized code, with the code of `original` as fallback, guarded by the builtins named (still\n"
"the original builtins, not shadowed by globals) and the globals in `objects` (still those very\n"
"objects).");

static PyObject *
guards_born(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"original", "builtins", "objects", NULL};
    PyObject *original, *builtins = NULL, *objects = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O!O:born", kwlist, &original, &PyTuple_Type,
                                     &builtins, &objects)) {
        return NULL;
    }
    State *st = get_state(module);
    if (builtins == NULL) {
        builtins = PyTuple_New(0);
        if (builtins == NULL) {
            return NULL;
        }
    }
    else {
        Py_INCREF(builtins);
    }
    PyObject *decorator = PyObject_CallFunctionObjArgs(st->partial, st->born_install, original, builtins,
                                                       objects, NULL);
    Py_DECREF(builtins);
    return decorator;
}

/* The fallback code: the original's, named as the function (tracebacks name the right one). */
static PyObject *
fallback_code(State *st, PyObject *func, PyObject *original)
{
    if (PyCode_Check(original)) {
        return Py_NewRef(original);
    }
    if (!PyFunction_Check(original)) {
        PyErr_Format(PyExc_TypeError, "original must be a code object or a function, got %.100s",
                     Py_TYPE(original)->tp_name);
        return NULL;
    }
    PyCodeObject *code = (PyCodeObject *)PyFunction_GET_CODE(original);
    PyCodeObject *target = (PyCodeObject *)PyFunction_GET_CODE(func);
    int same_name = PyObject_RichCompareBool(code->co_name, target->co_name, Py_EQ);
    int same_qualname = same_name > 0 ? PyObject_RichCompareBool(code->co_qualname, target->co_qualname, Py_EQ) : 0;
    if (same_name < 0 || same_qualname < 0) {
        return NULL;
    }
    if (same_name && same_qualname) {
        return Py_NewRef(code);
    }
    PyObject *replace = PyObject_GetAttr((PyObject *)code, st->str_replace);
    if (replace == NULL) {
        return NULL;
    }
    PyObject *names = Py_BuildValue("{sOsO}", "co_name", target->co_name, "co_qualname", target->co_qualname);
    PyObject *noargs = PyTuple_New(0);
    PyObject *renamed = names && noargs ? PyObject_Call(replace, noargs, names) : NULL;
    Py_XDECREF(noargs);
    Py_XDECREF(names);
    Py_DECREF(replace);
    return renamed;
}

static int
append_condition(PyObject *conditions, int kind, PyObject *dict, PyObject *name, PyObject *expected)
{
    PyObject *c = expected ? Py_BuildValue("(iOOO)", kind, dict, name, expected)
                           : Py_BuildValue("(iOO)", kind, dict, name);
    if (c == NULL) {
        return -1;
    }
    int r = PyList_Append(conditions, c);
    Py_DECREF(c);
    return r;
}

static int
born_register(State *st, PyObject *module, PyObject *original, PyObject *builtins, PyObject *objects,
              PyObject *func)
{
    if (parse_func(func) < 0) {
        return -1;
    }
    PyFunctionObject *f = (PyFunctionObject *)func;
    int has_objects = objects != Py_None && PyObject_IsTrue(objects);
    if (has_objects < 0) {
        return -1;
    }
    if (has_objects && !PyDict_Check(objects)) {
        PyErr_SetString(PyExc_TypeError, "objects must be a dict");
        return -1;
    }
    Py_ssize_t nbuiltins = PyTuple_GET_SIZE(builtins);
    if (nbuiltins == 0 && !has_objects) {
        PyErr_SetString(PyExc_ValueError, "a specialization needs at least one guard");
        return -1;
    }
    PyObject *conditions = PyList_New(0);
    PyObject *recipes = NULL, *fallback = NULL;
    int r = -1;
    if (conditions == NULL) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < nbuiltins; i++) {
        PyObject *name = PyTuple_GET_ITEM(builtins, i);
        PyObject *value = PyDict_GetItemWithError(st->original_builtins, name); /* borrowed */
        if (value == NULL) {
            if (!PyErr_Occurred()) {
                PyErr_Format(PyExc_KeyError, "%R is not a builtin", name);
            }
            goto done;
        }
        if (append_condition(conditions, COND_DICT_IS, f->func_builtins, name, value) < 0
            || append_condition(conditions, COND_DICT_ABSENT, f->func_globals, name, NULL) < 0) {
            goto done;
        }
    }
    if (has_objects) {
        Py_ssize_t pos = 0;
        PyObject *name, *value;
        while (PyDict_Next(objects, &pos, &name, &value)) {
            if (append_condition(conditions, COND_DICT_IS, f->func_globals, name, value) < 0) {
                goto done;
            }
        }
    }
    /* the guards as data, turned into guard objects only if get_specialized() asks */
    if (nbuiltins && has_objects) {
        recipes = Py_BuildValue("((sO)(sO))", "GuardBuiltins", builtins, "GuardGlobals", objects);
    }
    else if (nbuiltins) {
        recipes = Py_BuildValue("((sO))", "GuardBuiltins", builtins);
    }
    else {
        recipes = Py_BuildValue("((sO))", "GuardGlobals", objects);
    }
    if (recipes == NULL || (fallback = fallback_code(st, func, original)) == NULL) {
        goto done;
    }
    r = do_register(st, module, f, fallback, recipes, conditions) < 0 ? -1 : 0;
done:
    Py_DECREF(conditions);
    Py_XDECREF(recipes);
    Py_XDECREF(fallback);
    return r;
}

static PyObject *
guards_born_install(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyTuple_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "_born_install(original, builtins, objects, func)");
        return NULL;
    }
    State *st = get_state(module);
    PyObject *original = args[0], *func = args[3];
    if (born_register(st, module, original, args[1], args[2], func) == 0) {
        return Py_NewRef(func);
    }
    if (!PyErr_ExceptionMatches(PyExc_Exception)) {
        return NULL;
    }
    /* never break an import: the original function, dressed as func, with a warning */
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *runtime = PyImport_Import(st->str_runtime);
    PyObject *result = runtime ? PyObject_CallMethodObjArgs(runtime, st->str_unoptimized, func, original, exc, NULL)
                               : NULL;
    Py_XDECREF(runtime);
    Py_DECREF(exc);
    return result;
}

PyDoc_STRVAR(specialize_doc,
"specialize(func, code, guards, conditions) -> bool\n\n"
"Install `code` on `func` and register its current code as the original (see register()).");

static PyObject *
guards_specialize(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "specialize() takes 4 arguments");
        return NULL;
    }
    if (parse_func(args[0]) < 0) {
        return NULL;
    }
    if (!PyCode_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "code must be a code object");
        return NULL;
    }
    State *st = get_state(module);
    PyFunctionObject *f = (PyFunctionObject *)args[0];
    if (lookup_spec(st, args[0]) != NULL) {
        PyErr_Format(PyExc_ValueError, "%R is already specialized", f);
        return NULL;
    }
    if (PyErr_Occurred() || check_compatible((PyCodeObject *)f->func_code,
                                             (PyCodeObject *)args[1]) < 0) {
        return NULL;
    }
    PyObject *original = Py_NewRef(f->func_code);
    install_code(st, f, args[1]);
    int r = do_register(st, module, f, original, args[2], args[3]);
    if (r < 0 && f->func_code == args[1]) {
        install_code(st, f, original);
    }
    Py_DECREF(original);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

PyDoc_STRVAR(unregister_doc,
"unregister(func) -> bool\n\n"
"Drop func's specialization and put its original code back.  False if it had none.");

static PyObject *
guards_unregister(PyObject *module, PyObject *func)
{
    if (parse_func(func) < 0) {
        return NULL;
    }
    State *st = get_state(module);
    SpecObject *spec = (SpecObject *)lookup_spec(st, func);
    if (spec == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        Py_RETURN_FALSE;
    }
    Py_INCREF(spec);
    if (spec->func->func_code == spec->specialized) {
        install_code(st, spec->func, spec->original);
    }
    spec_detach(st, spec);
    Py_DECREF(spec);
    Py_RETURN_TRUE;
}

static PyObject *
spec_info(SpecObject *s)
{
    int active = s->func->func_code == s->specialized;
    return Py_BuildValue("(OOOOnn)", s->specialized, s->original, s->guards,
                         active ? Py_True : Py_False, s->invalidations, s->revalidations);
}

PyDoc_STRVAR(get_doc,
"get(func) -> (specialized, original, guards, active, invalidations, revalidations) | None");

static PyObject *
guards_get(PyObject *module, PyObject *func)
{
    if (parse_func(func) < 0) {
        return NULL;
    }
    State *st = get_state(module);
    process_pending(st);
    SpecObject *spec = (SpecObject *)lookup_spec(st, func);
    if (spec == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    return spec_info(spec);
}

PyDoc_STRVAR(all_doc,
"specializations() -> list of (func, specialized, original, guards, active, invalidations,\n"
"revalidations), for every live specialization.");

static PyObject *
guards_specializations(PyObject *module, PyObject *unused)
{
    State *st = get_state(module);
    process_pending(st);
    PyObject *specs = PyDict_Values(st->registry);
    if (specs == NULL) {
        return NULL;
    }
    PyObject *out = PyList_New(0);
    for (Py_ssize_t i = 0; out && i < PyList_GET_SIZE(specs); i++) {
        SpecObject *s = (SpecObject *)PyList_GET_ITEM(specs, i);
        PyObject *cur = s->func ? s->func->func_code : NULL;
        if (s->dead || (cur != s->original && cur != s->specialized)) {
            continue;  /* lookup_spec() would detach it; leave that to it */
        }
        PyObject *info = spec_info(s);
        PyObject *row = info ? PyTuple_Pack(1, (PyObject *)s->func) : NULL;
        PyObject *full = row ? PySequence_Concat(row, info) : NULL;
        Py_XDECREF(info);
        Py_XDECREF(row);
        if (full == NULL || PyList_Append(out, full) < 0) {
            Py_CLEAR(out);
        }
        Py_XDECREF(full);
    }
    Py_DECREF(specs);
    return out;
}

PyDoc_STRVAR(check_doc,
"check(conditions) -> bool\n\nEvaluate condition tuples against the live state, now.");

static PyObject *
guards_check(PyObject *module, PyObject *conditions)
{
    State *st = get_state(module);
    int need[3] = {0, 0, 0};
    Py_ssize_t n;
    Condition *conds = conds_parse(conditions, &n, need);
    if (conds == NULL) {
        return NULL;
    }
    SpecObject tmp = {.conds = conds, .nconds = n};
    int ok = 1;
    for (Py_ssize_t i = 0; i < n && ok == 1; i++) {
        ok = cond_eval_now(st, &conds[i]);
    }
    conds_free(&tmp);
    return ok < 0 ? NULL : PyBool_FromLong(ok);
}

PyDoc_STRVAR(flush_doc,
"flush()\n\nRun the queued re-checks now instead of at the interpreter's next pending-call point.");

static PyObject *
guards_flush(PyObject *module, PyObject *unused)
{
    process_pending(get_state(module));
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(info_doc,
"runtime_info() -> dict\n\nWatcher ids, index and registry sizes: for tests and diagnostics.");

static PyObject *
guards_runtime_info(PyObject *module, PyObject *unused)
{
    State *st = get_state(module);
    return Py_BuildValue("{s:i,s:i,s:i,s:n,s:n,s:n,s:n}",
                         "dict_watcher", st->dict_watcher, "func_watcher", st->func_watcher,
                         "type_watcher", st->type_watcher,
                         "index_entries", (Py_ssize_t)st->index.used,
                         "specializations", PyDict_GET_SIZE(st->registry),
                         "pending", PyList_GET_SIZE(st->pending),
                         "total_registered", st->total_registered);
}

/* The weakref callback: the function died, its specialization goes with it. */
static PyObject *
guards_died(PyObject *module, PyObject *ref)
{
    State *st = get_state(module);
    if (st->refs == NULL) {
        Py_RETURN_NONE;
    }
    PyObject *key = PyDict_GetItemWithError(st->refs, ref);
    PyObject *spec = key ? PyDict_GetItemWithError(st->registry, key) : NULL;
    if (spec != NULL && ((SpecObject *)spec)->func_ref == ref) {
        spec_detach(st, (SpecObject *)spec);
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------- the main-script hook --- */

/* `python -X fatopt app.py`: the interpreter compiles the main script itself, after raising the
 * audit event cpython.run_file. A C audit hook costs every audited event of the process (id(),
 * sys._getframe(), open(), ...) one string comparison, where a Python hook costs a Python call
 * (about 380 ns: it made deepcopy and pickle twice as slow). Audit hooks are process-wide, can't
 * be removed and get only a void pointer: the runner lives in a static. */
static PyObject *g_main_runner = NULL;
static int g_main_hook_added = 0;

static int
main_script_hook(const char *event, PyObject *args, void *data)
{
    if (g_main_runner == NULL || event[0] != 'c' || strcmp(event, "cpython.run_file") != 0) {
        return 0;
    }
    PyObject *runner = g_main_runner;  /* once: the script may raise the event again */
    g_main_runner = NULL;
    PyObject *result = PyObject_CallOneArg(runner, args);
    Py_DECREF(runner);
    if (result == NULL) {
        return -1;  /* SystemExit ends the process with the script's status */
    }
    Py_DECREF(result);
    return 0;
}

PyDoc_STRVAR(main_hook_doc,
"install_main_hook(runner)\n\n"
"Call runner((filename,)) when the interpreter is about to run the main script\n"
"(audit event cpython.run_file), once. An exception it raises propagates as the script's.");

static PyObject *
guards_install_main_hook(PyObject *module, PyObject *runner)
{
    if (!PyCallable_Check(runner)) {
        PyErr_SetString(PyExc_TypeError, "runner must be callable");
        return NULL;
    }
    if (!g_main_hook_added) {
        if (PySys_AddAuditHook(main_script_hook, NULL) < 0) {
            return NULL;
        }
        g_main_hook_added = 1;
    }
    Py_XSETREF(g_main_runner, Py_NewRef(runner));
    Py_RETURN_NONE;
}

/* Running the main script outside any hook.  Code run inside a sys.monitoring callback (or
 * any callback) is not traced: sys.settrace, breakpoint(), profilers and coverage would see
 * nothing of the script.  So the hook that catches the script's start only arms this and raises:
 * the plain frame unwinds before running an instruction, the interpreter hands the exception to
 * sys.excepthook, which is main_trampoline, and there, with no Python frame on the stack and no
 * callback running, the optimized module code runs as the interpreter would have run the plain
 * one.  Its outcome ends the process as a SystemExit raised by the excepthook does (CPython exits
 * with it, atexit handlers included).  A C function, so no frame of ours sits under the script's
 * (stack inspection, external profilers). */
static PyObject *g_armed_code = NULL;      /* the optimized module code */
static PyObject *g_armed_globals = NULL;   /* __main__.__dict__ */
static PyObject *g_armed_hook = NULL;      /* the sys.excepthook to put back */
static PyObject *g_armed_report = NULL;    /* reports an unhandled exception as CPython does */

PyDoc_STRVAR(arm_main_doc,
"arm_main(code, globals, previous_excepthook, report)\n\n"
"Make main_trampoline, once installed as sys.excepthook, run `code` in `globals`: it puts\n"
"previous_excepthook back, removes the sys.last_* the interpreter set for the exception that\n"
"brought it there, runs the code, and ends the process: SystemExit(0), the script's own\n"
"SystemExit, or, for any other exception, report(exc) (which prints it as the interpreter\n"
"would) and SystemExit(1).");

static PyObject *
guards_arm_main(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyCode_Check(args[0]) || !PyDict_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "arm_main(code, globals, previous_excepthook, report)");
        return NULL;
    }
    Py_XSETREF(g_armed_code, Py_NewRef(args[0]));
    Py_XSETREF(g_armed_globals, Py_NewRef(args[1]));
    Py_XSETREF(g_armed_hook, Py_NewRef(args[2]));
    Py_XSETREF(g_armed_report, Py_NewRef(args[3]));
    Py_RETURN_NONE;
}

static PyObject *
raise_system_exit(long status)
{
    PyObject *code = PyLong_FromLong(status);
    if (code != NULL) {
        PyErr_SetObject(PyExc_SystemExit, code);
        Py_DECREF(code);
    }
    return NULL;
}

PyDoc_STRVAR(main_trampoline_doc,
"main_trampoline(type, value, traceback)\n\n"
"sys.excepthook while the main script starts (see arm_main); when not armed, it hands the\n"
"exception to sys.__excepthook__.");

static PyObject *
guards_main_trampoline(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *code = g_armed_code, *globals = g_armed_globals;
    PyObject *hook = g_armed_hook, *report = g_armed_report;
    g_armed_code = g_armed_globals = g_armed_hook = g_armed_report = NULL;   /* ours now */
    if (code == NULL) {
        PyObject *fallback = PySys_GetObject("__excepthook__");   /* borrowed */
        if (fallback == NULL) {
            Py_RETURN_NONE;
        }
        return PyObject_Vectorcall(fallback, args, nargs, NULL);
    }
    PyObject *result = NULL;
    if (PySys_SetObject("excepthook", hook) < 0) {
        goto done;
    }
    static const char *const last[] = {"last_exc", "last_type", "last_value", "last_traceback"};
    for (size_t i = 0; i < sizeof(last) / sizeof(last[0]); i++) {
        if (PySys_GetObject(last[i]) != NULL && PySys_SetObject(last[i], NULL) < 0) {
            PyErr_Clear();
        }
    }
    PyObject *value = PyEval_EvalCode(code, globals, globals);
    if (value != NULL) {
        Py_DECREF(value);
        result = raise_system_exit(0);
        goto done;
    }
    if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
        goto done;   /* the script's own exit status */
    }
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *printed = PyObject_CallOneArg(report, exc);
    Py_DECREF(exc);
    if (printed == NULL) {
        PyErr_WriteUnraisable(report);
    }
    Py_XDECREF(printed);
    result = raise_system_exit(1);
done:
    Py_DECREF(code);
    Py_DECREF(globals);
    Py_DECREF(hook);
    Py_DECREF(report);
    return result;
}

static PyMethodDef guards_methods[] = {
    {"install_main_hook", guards_install_main_hook, METH_O, main_hook_doc},
    {"arm_main", (PyCFunction)(void (*)(void))guards_arm_main, METH_FASTCALL, arm_main_doc},
    {"main_trampoline", (PyCFunction)(void (*)(void))guards_main_trampoline, METH_FASTCALL, main_trampoline_doc},
    {"register", (PyCFunction)(void (*)(void))guards_register, METH_FASTCALL, register_doc},
    {"born", (PyCFunction)(void (*)(void))guards_born, METH_VARARGS | METH_KEYWORDS, born_doc},
    {"_born_install", (PyCFunction)(void (*)(void))guards_born_install, METH_FASTCALL, "born's decorator (internal)"},
    {"specialize", (PyCFunction)(void (*)(void))guards_specialize, METH_FASTCALL, specialize_doc},
    {"unregister", guards_unregister, METH_O, unregister_doc},
    {"get", guards_get, METH_O, get_doc},
    {"specializations", guards_specializations, METH_NOARGS, all_doc},
    {"check", guards_check, METH_O, check_doc},
    {"flush", guards_flush, METH_NOARGS, flush_doc},
    {"runtime_info", guards_runtime_info, METH_NOARGS, info_doc},
    {"_died", guards_died, METH_O, "weakref callback (internal)"},
    {NULL, NULL, 0, NULL},
};

/* ------------------------------------------------------------------------- module init ----- */

static int
guards_exec(PyObject *module)
{
    State *st = get_state(module);
    if (g_state != NULL) {
        PyErr_SetString(PyExc_ImportError,
                        "fatopt._guards is already loaded in this process (one runtime only)");
        return -1;
    }
    st->dict_watcher = st->func_watcher = st->type_watcher = -1;
    st->spec_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &spec_spec, NULL);
    if (st->spec_type == NULL) {
        return -1;
    }
    if ((st->registry = PyDict_New()) == NULL || (st->refs = PyDict_New()) == NULL
        || (st->pending = PyList_New(0)) == NULL) {
        return -1;
    }
    if ((st->died = PyObject_GetAttrString(module, "_died")) == NULL
        || (st->born_install = PyObject_GetAttrString(module, "_born_install")) == NULL) {
        return -1;
    }
    PyObject *functools = PyImport_ImportModule("_functools");
    st->partial = functools ? PyObject_GetAttrString(functools, "partial") : NULL;
    Py_XDECREF(functools);
    PyObject *fatopt = PyImport_ImportModule("fatopt");
    st->original_builtins = fatopt ? PyObject_GetAttrString(fatopt, "_ORIGINAL_BUILTINS") : NULL;
    Py_XDECREF(fatopt);
    if (st->partial == NULL || st->original_builtins == NULL
        || (st->str_replace = PyUnicode_InternFromString("replace")) == NULL
        || (st->str_runtime = PyUnicode_InternFromString("fatopt.runtime")) == NULL
        || (st->str_unoptimized = PyUnicode_InternFromString("_unoptimized")) == NULL) {
        return -1;
    }
    if (!PyDict_Check(st->original_builtins)) {
        PyErr_SetString(PyExc_ImportError, "fatopt._ORIGINAL_BUILTINS is not a dict");
        return -1;
    }
    if (PyModule_AddIntConstant(module, "COND_DICT_IS", COND_DICT_IS) < 0
        || PyModule_AddIntConstant(module, "COND_DICT_CONST", COND_DICT_CONST) < 0
        || PyModule_AddIntConstant(module, "COND_DICT_ABSENT", COND_DICT_ABSENT) < 0
        || PyModule_AddIntConstant(module, "COND_FUNC", COND_FUNC) < 0
        || PyModule_AddIntConstant(module, "COND_TYPE_ATTR", COND_TYPE_ATTR) < 0
        || PyModule_AddType(module, st->spec_type) < 0) {
        return -1;
    }
    g_state = st;
    return 0;
}

static int
guards_traverse(PyObject *module, visitproc visit, void *arg)
{
    State *st = get_state(module);
    Py_VISIT(st->spec_type);
    Py_VISIT(st->registry);
    Py_VISIT(st->refs);
    Py_VISIT(st->pending);
    Py_VISIT(st->died);
    Py_VISIT(st->born_install);
    Py_VISIT(st->partial);
    Py_VISIT(st->original_builtins);
    return 0;
}

/* Shutting down: put every original code back (nobody will watch the guards any more), drop the
 * watchers, free the index. */
static int
guards_clear(PyObject *module)
{
    State *st = get_state(module);
    if (g_state == st && st->registry != NULL) {
        PyObject *specs = PyDict_Values(st->registry);
        if (specs != NULL) {
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(specs); i++) {
                SpecObject *s = (SpecObject *)PyList_GET_ITEM(specs, i);
                if (!s->dead && s->func != NULL && s->func->func_code == s->specialized) {
                    install_code(st, s->func, s->original);
                }
                spec_detach(st, s);
            }
            Py_DECREF(specs);
        }
        PyErr_Clear();
    }
    if (g_state == st) {
        g_state = NULL;
        if (st->dict_watcher >= 0 && PyDict_ClearWatcher(st->dict_watcher) < 0) {
            PyErr_Clear();
        }
        if (st->func_watcher >= 0 && PyFunction_ClearWatcher(st->func_watcher) < 0) {
            PyErr_Clear();
        }
        if (st->type_watcher >= 0 && PyType_ClearWatcher(st->type_watcher) < 0) {
            PyErr_Clear();
        }
        st->dict_watcher = st->func_watcher = st->type_watcher = -1;
        map_free(&st->index);
    }
    Py_CLEAR(g_main_runner);
    Py_CLEAR(g_armed_code);
    Py_CLEAR(g_armed_globals);
    Py_CLEAR(g_armed_hook);
    Py_CLEAR(g_armed_report);
    Py_CLEAR(st->registry);
    Py_CLEAR(st->refs);
    Py_CLEAR(st->pending);
    Py_CLEAR(st->died);
    Py_CLEAR(st->born_install);
    Py_CLEAR(st->partial);
    Py_CLEAR(st->original_builtins);
    Py_CLEAR(st->str_replace);
    Py_CLEAR(st->str_runtime);
    Py_CLEAR(st->str_unoptimized);
    Py_CLEAR(st->spec_type);
    return 0;
}

static void
guards_free(void *module)
{
    guards_clear((PyObject *)module);
}

static PyModuleDef_Slot guards_slots[] = {
    {Py_mod_exec, guards_exec},
    /* Watchers and their callbacks are per interpreter but carry no user data (see g_state). */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef guards_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "fatopt._guards",
    .m_doc = "fatopt's guard runtime: watchers that swap specialized and original code.",
    .m_size = sizeof(State),
    .m_methods = guards_methods,
    .m_slots = guards_slots,
    .m_traverse = guards_traverse,
    .m_clear = guards_clear,
    .m_free = guards_free,
};

PyMODINIT_FUNC
PyInit__guards(void)
{
    return PyModuleDef_Init(&guards_module);
}
