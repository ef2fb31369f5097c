/* The watcher callbacks and the arming of watches.
 *
 * Callbacks run *before* a mutation and must not run Python code: they derive the new state of
 * the conditions from the event's data when that is exact; otherwise the specialization falls
 * back at once (the original code is always correct) and a re-check is queued (swap.c).  The
 * common dict write, a key no condition depends on, costs one bit test (dict_watch_cb).
 */
#include "watchers.h"

#include "swap.h"

#include <string.h>

/* Watcher callbacks receive no user data, and watchers belong to the interpreter: the one
 * module instance (subinterpreters are refused) publishes its state here for them, and for the
 * pending call that finishes their work (swap.c). */
static State *watched = NULL;

void
watchers_attach(State *st)
{
    watched = st;
}

State *
watchers_state(void)
{
    return watched;
}

/* The shadow proxies and their map (the index, which lists them, is freed first). */
static void
shadows_free(State *st)
{
    PtrMap *m = &st->shadows;
    for (size_t i = 0; m->slots != NULL && i <= m->mask; i++) {
        Slot *s = &m->slots[i];
        if (s->a == NULL || s->a == SLOT_TOMBSTONE) {
            continue;
        }
        for (Py_ssize_t j = 0; j < s->n; j++) {
            Py_CLEAR(s->items[j]->key);
            PyMem_Free(s->items[j]);
        }
    }
    map_free(m);
}

void
watchers_detach(State *st)
{
    if (watched != st) {
        return;
    }
    watched = NULL;
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
    shadows_free(st);
}

/* ------------------------------------------------------------------------- dict watcher ----- */

/* The index lists every COND_INSTANCE_ATTR_ABSENT condition under (SHADOWS, name) too, and the
 * shadow proxies are kept under (SHADOWS, name): one per attribute name, whatever the class (a
 * dict event does not say whose instance it is; a write fails the conditions on that name of
 * every class: conservative, and the number of proxies is bounded by the names, not by classes
 * made and dropped). */
static char shadows_marker;
#define SHADOWS ((void *)&shadows_marker)

/* A shadow proxy (see State.shadows) saw its name written into a watched instance dict: the
 * specializations that call a class's method of that name directly fail for good (which frames
 * hold that object is not known). */
static void
shadow_fail(State *st, Condition *proxy)
{
    Slot *s = map_find(&st->index, SHADOWS, proxy->key);
    if (s == NULL) {
        return;
    }
    /* cond_set swaps code and queues tear-downs: it never changes the index meanwhile */
    for (Py_ssize_t i = 0; i < s->n; i++) {
        Condition *c = s->items[i];
        if (c->kind == COND_INSTANCE_ATTR_ABSENT && c->spec != NULL) {
            c->dead = 1;
            cond_set(st, c, 0);
        }
    }
}

/* The binding of c's key in a dict c depends on becomes `value` (NULL: unbound). */
static void
on_binding(State *st, Condition *c, PyObject *value)
{
    if (c->spec == NULL) {  /* a shadow proxy: only a new binding matters */
        if (value != NULL) {
            shadow_fail(st, c);
        }
        return;
    }
    cond_set(st, c, dict_cond_holds(c, value));
}

/* A change to the dict c depends on that cannot be read without running code. */
static void
on_unknown_change(State *st, Condition *c)
{
    if (c->spec == NULL) {
        shadow_fail(st, c);  /* conservative: the name may have been written */
        return;
    }
    spec_mark_unknown(st, c->spec);
}

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
                on_binding(st, c, new_value);
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
        on_unknown_change(st, all->items[i]);
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
        if (c->spec == NULL) {
            continue;  /* a shadow proxy: an instance's dict went, with the instance */
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
                on_binding(st, all->items[i], NULL);
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
                on_unknown_change(st, all->items[i]);
            }
        }
        return;
    }
    case PyDict_EVENT_DEALLOCATED:
        on_dict_dealloc(st, d);
        return;
    }
}

/* Every event but the common write: a key some condition names, a key that is not an interned
 * str, a clear, a clone, a deallocation. */
static Py_NO_INLINE int
dict_event(State *st, PyDict_WatchEvent event, PyObject *d, PyObject *key, PyObject *new_value)
{
    if (st == NULL) {
        return 0;
    }
    Slot *s = NULL;
    if (event == PyDict_EVENT_ADDED || event == PyDict_EVENT_MODIFIED
        || event == PyDict_EVENT_DELETED) {
        if (PyUnicode_CheckExact(key) && PyUnicode_CHECK_INTERNED(key)) {
            s = map_find(&st->index, d, key);
            if (s == NULL) {
                return 0;  /* the filter's false positive, or a removed condition's stale bit */
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
            on_binding(st, s->items[i], new_value);
        }
    }
    else {
        on_dict_event(st, event, d, key, new_value);
    }
    PyErr_SetRaisedException(exc);
    return 0;
}

/* Every write to every watched dict (module globals, builtins) comes here first.  The common one
 * sets an interned str key no condition names on that dict (`counter += 1` on a global): the
 * filter's bit says so, and nothing else is read, called or saved (no stack frame: the rest is in
 * dict_event).  Keys of other types may equal a watched key without being it: dict_event. */
static int
dict_watch_cb(PyDict_WatchEvent event, PyObject *d, PyObject *key, PyObject *new_value)
{
    State *st = watched;
    if (st != NULL
        && (event == PyDict_EVENT_ADDED || event == PyDict_EVENT_MODIFIED || event == PyDict_EVENT_DELETED)
        && Py_IS_TYPE(key, &PyUnicode_Type) && PyUnicode_CHECK_INTERNED(key)
        && !map_may_hold(&st->index, d, key)) {
        return 0;
    }
    return dict_event(st, event, d, key, new_value);
}

/* --------------------------------------------------------------------- function watcher ----- */

void
on_func_event(State *st, PyFunctionObject *f, PyFunction_WatchEvent event, PyObject *new_value)
{
    Slot *all = map_find(&st->index, f, NULL);
    if (all == NULL) {
        return;
    }
    for (Py_ssize_t i = 0; i < all->n; i++) {
        Condition *c = all->items[i];
        int holds = 0;
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
        case PyFunction_EVENT_CREATE:
        case PyFunction_EVENT_DESTROY:
            continue;
        }
        cond_set(st, c, holds);
    }
}

/* A function's code or defaults change: rare, so out of line (func_watch_cb saves no registers
 * for the common events). */
static Py_NO_INLINE int
func_modified(State *st, PyFunction_WatchEvent event, PyFunctionObject *f, PyObject *new_value)
{
    PyObject *exc = PyErr_GetRaisedException();
    on_func_event(st, f, event, new_value);
    PyErr_SetRaisedException(exc);
    return 0;
}

/* Once armed, every function the process creates or frees comes here, twice in its life.
 * CREATE and DESTROY never concern us (conditions follow their functions by weakref and never
 * read a dead one, see cond_target; its index entries go with the specialization): they return
 * at once, with no stack frame. */
static int
func_watch_cb(PyFunction_WatchEvent event, PyFunctionObject *f, PyObject *new_value)
{
    State *st = watched;
    if (st == NULL || event == PyFunction_EVENT_CREATE || event == PyFunction_EVENT_DESTROY) {
        return 0;
    }
    return func_modified(st, event, f, new_value);
}

/* ------------------------------------------------------------------------- type watcher ----- */

static int
type_watch_cb(PyTypeObject *t)
{
    State *st = watched;
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

/* ------------------------------------------------------------- __class__ assignment ----- */

/* No watcher sees `obj.__class__ = D`, but object's __class__ setter raises the audit event
 * "object.__setattr__" (obj, "__class__", D) before it assigns, while type(obj) is still the old
 * class: code that chose its body by `type(obj) is C` at entry relies on COND_INSTANCE_CLASS of
 * C, which fails here for good (a frame may hold such an object; which frames do is not known).
 * The assignment may still fail afterwards (incompatible layout): failing early is only
 * conservative.  Every audit event in the process passes here once the hook is added (audit
 * hooks cannot be removed): the common case is one character compared. */
/* The event ensure_audit_hook() raises to learn whether the hook was added: PySys_AddAuditHook
 * reports success when a hook already there refused it (a RuntimeError it clears). */
#define HOOK_CHECK_EVENT "fatopt.audit_hook_check"
static int hook_check_seen = 0;

static int
audit_hook(const char *event, PyObject *args, void *Py_UNUSED(data))
{
    if (event[0] == 'f' && strcmp(event, HOOK_CHECK_EVENT) == 0) {
        hook_check_seen = 1;
        return 0;
    }
    State *st = watched;
    if (st == NULL || event[0] != 'o' || strcmp(event, "object.__setattr__") != 0
        || !PyTuple_Check(args) || PyTuple_GET_SIZE(args) < 2) {
        return 0;
    }
    PyObject *obj = PyTuple_GET_ITEM(args, 0), *name = PyTuple_GET_ITEM(args, 1);
    if (!PyUnicode_Check(name) || PyUnicode_Compare(name, st->str_class) != 0) {
        PyErr_Clear();
        return 0;
    }
    Slot *s = map_find(&st->index, (PyObject *)Py_TYPE(obj), st->str_class);
    if (s == NULL) {
        return 0;
    }
    PyObject *exc = PyErr_GetRaisedException();
    /* cond_set swaps code and queues tear-downs: it never changes the index meanwhile */
    for (Py_ssize_t i = 0; i < s->n; i++) {
        Condition *c = s->items[i];
        if (c->kind == COND_INSTANCE_CLASS) {
            c->dead = 1;
            cond_set(st, c, 0);
        }
    }
    PyErr_SetRaisedException(exc);
    return 0;
}

int
ensure_audit_hook(State *st)
{
    if (st->audit_hook_added) {
        return 1;
    }
    if (st->audit_hook_refused) {
        return 0;
    }
    /* PySys_AddAuditHook raises "sys.addaudithook" to the hooks already there, which may refuse
     * (it then still returns 0): an event of our own tells whether the hook is in place */
    hook_check_seen = 0;
    if (PySys_AddAuditHook(audit_hook, NULL) < 0 || PySys_Audit(HOOK_CHECK_EVENT, NULL) < 0) {
        PyErr_Clear();
    }
    if (!hook_check_seen) {
        st->audit_hook_refused = 1;  /* not asked again: each try would be an event to every hook */
        return 0;
    }
    st->audit_hook_added = 1;
    return 1;
}

/* ------------------------------------------------------------------------------ arming ----- */

/* Type watcher ids 0 and 1 are left to others while a higher id is free.  Extensions and tests
 * that add a type watcher tend to assume they get the first ids (CPython's own test_capi
 * .test_watchers expects its watcher to be #0 and id 1 to be unassigned, and all ids up to the
 * last to be free): 2..7 disturbs no such assumption.  CPython hands out the lowest free id, so
 * ids 0 and 1, when free, are held for a moment by placeholder registrations (of the same
 * callback: nothing is watched with them) and given back. */
#define TYPE_WATCHER_IDS_LEFT_FREE 2

static int
add_type_watcher(void)
{
    int held[TYPE_WATCHER_IDS_LEFT_FREE];
    int nheld = 0;
    int id = PyType_AddWatcher(type_watch_cb);
    while (id >= 0 && id < TYPE_WATCHER_IDS_LEFT_FREE && nheld < TYPE_WATCHER_IDS_LEFT_FREE) {
        held[nheld++] = id;
        id = PyType_AddWatcher(type_watch_cb);
    }
    int first_kept = 0;
    if (id < 0 && nheld > 0) {
        PyErr_Clear();
        id = held[0];  /* no higher id is free: keep the lowest after all (ids come in order) */
        first_kept = 1;
    }
    for (int i = first_kept; i < nheld; i++) {
        if (PyType_ClearWatcher(held[i]) < 0) {
            PyErr_Clear();
        }
    }
    if (id < 0 && !PyErr_Occurred()) {
        PyErr_SetString(PyExc_RuntimeError, "no free type watcher id");
    }
    return id;
}

int
ensure_watchers(State *st, const int need[N_WATCHER_KINDS])
{
    if (need[WATCH_DICT] && st->dict_watcher < 0) {
        st->dict_watcher = PyDict_AddWatcher(dict_watch_cb);
    }
    /* The function watcher costs every function creation in the process a few ns: only once a
     * guard needs it. */
    if (need[WATCH_FUNC] && st->func_watcher < 0) {
        st->func_watcher = PyFunction_AddWatcher(func_watch_cb);
    }
    if (need[WATCH_TYPE] && st->type_watcher < 0) {
        st->type_watcher = add_type_watcher();
    }
    if ((need[WATCH_DICT] && st->dict_watcher < 0) || (need[WATCH_FUNC] && st->func_watcher < 0)
        || (need[WATCH_TYPE] && st->type_watcher < 0)) {
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
watch_object(State *st, CondKind kind, PyObject *obj)
{
    switch (cond_watcher(kind)) {
    case WATCH_DICT:
        return PyDict_Watch(st->dict_watcher, obj);
    case WATCH_FUNC:
        return 0;  /* function watchers see every function */
    case WATCH_TYPE:
        return PyType_Watch(st->type_watcher, obj);
    case WATCH_NONE:
        return 0;
    }
    return 0;
}

static void
unwatch_object(State *st, CondKind kind, PyObject *obj)
{
    int rc = 0;
    switch (cond_watcher(kind)) {
    case WATCH_DICT:
        rc = PyDict_Unwatch(st->dict_watcher, obj);
        break;
    case WATCH_FUNC:
        break;
    case WATCH_TYPE:
        /* Not unwatched: the type may be gone (a condition does not keep it alive).  A watched
         * type that no condition depends on costs one index lookup per change. */
        break;
    case WATCH_NONE:
        break;
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
    /* A type is watched anew each time: the slot may be left over from a type that died at the
     * same address (types are never unwatched), and watching again is cheap. */
    int fresh = all->n == 0 || cond_watcher(c->kind) == WATCH_TYPE;
    if (slot_add(all, c) < 0) {
        return -1;
    }
    if (fresh && watch_object(st, c->kind, obj) < 0) {
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- instance attributes ----- */

/* The shadow proxy of `name`, made on first use (borrowed; NULL with an exception set). */
static Condition *
shadow_proxy(State *st, PyObject *name)
{
    Slot *s = map_find(&st->shadows, SHADOWS, name);
    if (s != NULL && s->n > 0) {
        return s->items[0];
    }
    Condition *proxy = PyMem_Calloc(1, sizeof(Condition));
    if (proxy == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    proxy->kind = COND_INSTANCE_ATTR_ABSENT;
    proxy->key = Py_NewRef(name);
    proxy->holds = 1;
    if ((s = map_insert(&st->shadows, SHADOWS, name)) == NULL || slot_add(s, proxy) < 0) {
        Py_DECREF(proxy->key);
        PyMem_Free(proxy);
        return NULL;
    }
    return proxy;
}

static int
slot_lists(Slot *s, Condition *c)
{
    for (Py_ssize_t i = 0; s != NULL && i < s->n; i++) {
        if (s->items[i] == c) {
            return 1;
        }
    }
    return 0;
}

/* CPython 3.13.0 (and 3.14.0a1) do not tell dict watchers about attribute stores that go to an
 * object's inline values while its dict is materialized (CPython gh-125608, fixed in 3.13.1):
 * there, a watched instance dict misses `obj.m = f` (close_shared_keys below mends that). */
int
instance_dicts_notify(void)
{
    unsigned long v = Py_Version;
    return !((v >= 0x030D0000UL && v < 0x030D0100UL) || (v >= 0x030E00A1UL && v < 0x030E00A2UL));
}

#if PY_VERSION_HEX >= 0x030D0000 && PY_VERSION_HEX < 0x030E0000 && !defined(Py_GIL_DISABLED)
/* The head of 3.13's dict keys object and its entries for str keys (Include/internal/
 * pycore_dict.h, default build): a store can only go to an object's inline values under a name
 * its class's shared keys hold, and shared keys only gain names while dk_usable > 0. */
typedef struct {
    Py_ssize_t dk_refcnt;
    uint8_t dk_log2_size;
    uint8_t dk_log2_index_bytes;
    uint8_t dk_kind;
    uint32_t dk_version;
    Py_ssize_t dk_usable;
    Py_ssize_t dk_nentries;
    char dk_indices[];
} SharedKeys313;

typedef struct {
    PyObject *me_key;
    PyObject *me_value;
} StrEntry313;

#define CAN_CLOSE_SHARED_KEYS 1
#endif

/* Where watchers miss inline-value stores (3.13.0): make them impossible for `names` on
 * instances of `tp`. A store goes to an object's inline values only under a name of its class's
 * shared keys; one of `names` there already: 0 (the stores of that name stay unseen). Otherwise
 * the shared keys are closed (dk_usable = 0: what a full table looks like, so CPython adds no
 * name to them again) and every later write of one of `names` to any instance goes through its
 * dict, where the watchers see it: 1. The cost is performance only, on 3.13.0 only: an instance
 * of the class that gains an attribute no instance had before keeps it in a dict of its own
 * (as when the 30-name table is full). 1 also for a type without inline values (its instances'
 * attributes all live in their dicts); 0 on builds this does not know (free-threaded). */
static int
close_shared_keys(PyTypeObject *tp, PyObject *names)
{
#ifdef CAN_CLOSE_SHARED_KEYS
    if (!(tp->tp_flags & Py_TPFLAGS_INLINE_VALUES)) {
        return 1;
    }
    if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE) || ((PyHeapTypeObject *)tp)->ht_cached_keys == NULL) {
        return 0;
    }
    SharedKeys313 *keys = (SharedKeys313 *)((PyHeapTypeObject *)tp)->ht_cached_keys;
    StrEntry313 *entries = (StrEntry313 *)(keys->dk_indices + ((size_t)1 << keys->dk_log2_index_bytes));
    for (Py_ssize_t i = 0; i < keys->dk_nentries; i++) {
        PyObject *key = entries[i].me_key;
        for (Py_ssize_t j = 0; key != NULL && j < PyTuple_GET_SIZE(names); j++) {
            PyObject *name = PyTuple_GET_ITEM(names, j);
            /* both exact str: the comparison runs no Python code */
            if (key == name || (PyUnicode_CheckExact(key) && PyUnicode_Compare(key, name) == 0)) {
                return 0;
            }
        }
    }
    keys->dk_usable = 0;
    return 1;
#else
    (void)tp;
    (void)names;
    return 0;
#endif
}

int
instance_attrs_checkable(void)
{
#ifdef CAN_CLOSE_SHARED_KEYS
    return 1;
#else
    return instance_dicts_notify();
#endif
}

int
instance_unshadowed(State *st, PyObject *obj, PyObject *names)
{
    PyTypeObject *tp = Py_TYPE(obj);
    Py_ssize_t n = PyTuple_GET_SIZE(names);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *name = PyTuple_GET_ITEM(names, i);
        if (!PyUnicode_CheckExact(name) || !PyUnicode_CHECK_INTERNED(name)) {
            PyErr_SetString(PyExc_TypeError, "unshadowed: names must be interned str");
            return -1;
        }
    }
    if (tp->tp_dictoffset == 0) {
        return 1;  /* no instance dict: no instance attribute but its type's slots */
    }
    if (watched != st || !instance_attrs_checkable()) {
        return 0;
    }
    if (st->dict_watcher < 0) {
        int need[N_WATCHER_KINDS] = {[WATCH_DICT] = 1};
        int have = ensure_watchers(st, need);
        if (have <= 0) {
            return have;
        }
    }
    /* the dict itself, made now if the instance has none yet (3.13 keeps the instance's inline
     * values in use: its attribute loads stay as fast) */
    PyObject *dict = PyObject_GenericGetDict(obj, NULL);
    if (dict == NULL) {
        return -1;
    }
    int r = PyDict_CheckExact(dict);
    for (Py_ssize_t i = 0; r == 1 && i < n; i++) {
        int has = PyDict_Contains(dict, PyTuple_GET_ITEM(names, i));
        r = has < 0 ? -1 : !has;
    }
    for (Py_ssize_t i = 0; r == 1 && i < n; i++) {
        PyObject *name = PyTuple_GET_ITEM(names, i);
        Condition *proxy = shadow_proxy(st, name);
        if (proxy == NULL) {
            r = -1;
            break;
        }
        if (slot_lists(map_find(&st->index, dict, name), proxy)) {
            continue;  /* watched already (the common case: the same object again) */
        }
        if (!instance_dicts_notify() && (r = close_shared_keys(tp, names)) != 1) {
            break;  /* (closing again is a no-op: a closed table gains no name) */
        }
        Slot *s = map_insert(&st->index, dict, name);
        if (s == NULL || slot_add(s, proxy) < 0) {
            r = -1;
            break;
        }
        Slot *all = map_insert(&st->index, dict, NULL);
        if (all == NULL) {
            r = -1;
            break;
        }
        int fresh = all->n == 0;
        if (slot_add(all, proxy) < 0 || (fresh && PyDict_Watch(st->dict_watcher, dict) < 0)) {
            r = -1;
            break;
        }
    }
    Py_DECREF(dict);
    return r;
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

int
cond_index(State *st, Condition *c)
{
    switch (c->kind) {
    case COND_DICT_IS:
    case COND_DICT_CONST:
    case COND_DICT_ABSENT:
        return index_add(st, c, c->target, c->key);
    case COND_FUNC:
        return index_add(st, c, c->target, NULL);
    case COND_TYPE_ATTR:
    case COND_TYPE_ATTR_ABSENT:
    case COND_TYPE_ATTR_CONST:
        for (Py_ssize_t i = 0; i < c->nmro; i++) {
            if (index_add(st, c, c->mro[i], NULL) < 0) {
                return -1;
            }
        }
        return 0;
    case COND_INSTANCE_CLASS:
        /* (type, "__class__"): the audit hook finds it from an object's type; (type, NULL), as
         * every type condition: a change of the type re-checks it (it stays as it is) */
        return index_add(st, c, c->target, st->str_class);
    case COND_INSTANCE_ATTR_ABSENT: {
        /* (type, NULL), as every type condition; (SHADOWS, name): the shadow proxy of the name
         * finds it (shadow_fail) */
        if (index_add(st, c, c->target, NULL) < 0) {
            return -1;
        }
        Slot *s = map_insert(&st->index, SHADOWS, c->key);
        return s == NULL ? -1 : slot_add(s, c);
    }
    case COND_NEVER:
        return 0;  /* nothing can make it hold */
    }
    Py_UNREACHABLE();
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
    case COND_TYPE_ATTR_ABSENT:
    case COND_TYPE_ATTR_CONST:
        for (Py_ssize_t i = 0; i < c->nmro; i++) {  /* pointers as keys only: never read */
            index_discard(st, c, c->mro[i], NULL);
        }
        break;
    case COND_INSTANCE_CLASS:
        index_discard(st, c, c->target, st->str_class);  /* the pointer as a key only */
        break;
    case COND_INSTANCE_ATTR_ABSENT: {
        index_discard(st, c, c->target, NULL);  /* the pointer as a key only */
        Slot *s = map_find(&st->index, SHADOWS, c->key);
        if (s != NULL && slot_discard(s, c) == 0) {
            map_remove(&st->index, s);
        }
        break;
    }
    case COND_NEVER:
        break;
    }
}

void
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

void
rearm_types(State *st, SpecObject *spec)
{
    for (Py_ssize_t i = 0; i < spec->nconds; i++) {
        Condition *c = &spec->conds[i];
        if (cond_watcher(c->kind) != WATCH_TYPE) {
            continue;
        }
        PyTypeObject *target = cond_live_type(c);  /* its live MRO holds the watched types */
        for (Py_ssize_t j = 0; target != NULL && j < c->nmro; j++) {
            PyTypeObject *t = (PyTypeObject *)c->mro[j];
            /* PyType_Watch assigns a version tag, so the next change fires again; it cannot say
             * when tags ran out, so look. */
            if (PyType_Watch(st->type_watcher, (PyObject *)t) < 0 || t->tp_version_tag == 0) {
                PyErr_Clear();
                c->dead = 1;
            }
        }
    }
}
