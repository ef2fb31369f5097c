/* The condition kinds: what each one means, how one is parsed from its tuple and evaluated. */
#ifndef FATOPT_CONDITIONS_H
#define FATOPT_CONDITIONS_H

#include "state.h"

/* Which watcher sees a change of a condition's target. */
typedef enum {
    WATCH_DICT = 0,
    WATCH_FUNC = 1,
    WATCH_TYPE = 2,
    WATCH_NONE = 3,  /* COND_NEVER: nothing to watch */
} WatcherKind;
#define N_WATCHER_KINDS 4

WatcherKind cond_watcher(CondKind kind);
/* Whether the condition holds its target strongly (dicts are borrowed: their deallocation is an
 * event the dict watcher handles). */
int cond_owns_target(CondKind kind);

/* Parse a sequence of condition tuples (kind, target, ...) into a fresh array (free it with
 * conds_free).  need[w] is set for each watcher kind some condition needs.  NULL with an
 * exception set. */
Condition *conds_parse(PyObject *conditions, Py_ssize_t *n_out, int need[N_WATCHER_KINDS]);
void conds_free(Condition *conds, Py_ssize_t n);

/* New state of a dict condition when its key is bound to `value` (NULL: absent).  Runs no
 * Python code: callable from a watcher callback. */
int dict_cond_holds(Condition *c, PyObject *value);
/* New state of a COND_FUNC condition when its function has these code and defaults (None or
 * NULL: no defaults).  Runs no Python code. */
int func_cond_holds(State *st, Condition *c, PyObject *code, PyObject *defaults, PyObject *kwdefaults);
/* Evaluate a condition against the live state: 1 holds, 0 not, -1 error.  Outside watcher
 * callbacks only (dict lookups with exotic keys may run __eq__). */
int cond_eval_now(State *st, Condition *c);

/* The condition's target (borrowed), or NULL (and the condition marked dead) once a function or
 * type target is gone.  Runs no Python code. */
PyObject *cond_target(Condition *c);

/* The object a weakref refers to (borrowed), or NULL once it is gone (or being collected). */
PyObject *weak_referent(PyObject *ref);
PyObject *static_function(PyObject *v);
/* A type condition's target, or NULL (and the condition marked dead) once it is gone or its MRO
 * is no longer the one watched.  Runs no Python code. */
PyTypeObject *cond_live_type(Condition *c);

/* Look `name` up along the type's MRO as type attribute lookup does, without running code:
 * borrowed reference, or NULL (not found; -1 in *error on failure). */
PyObject *type_lookup(PyTypeObject *t, PyObject *name, int *error);
/* Whether `v` is a constant as COND_DICT_CONST/COND_TYPE_ATTR_CONST compare them (None, bool,
 * int, float, complex, str, bytes, Ellipsis, tuples of those). */
int is_constant(PyObject *v);

#endif
