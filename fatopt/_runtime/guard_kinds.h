/* Guard kinds: a guard's recipe (kind_name, *args) -> the condition tuples it stands for. */
#ifndef FATOPT_GUARD_KINDS_H
#define FATOPT_GUARD_KINDS_H

#include "state.h"

/* The kinds, in the order of their names (fatopt._guards.GUARD_KINDS).  Each has one builder
 * in guard_kinds.c and one class in fatopt/guards/. */
typedef enum {
    GUARD_ARG_TYPE,
    GUARD_BUILTINS,
    GUARD_CALLEE,
    GUARD_CLASS_ATTRS,
    GUARD_CLASS_CONSTANT,
    GUARD_DICT,
    GUARD_FUNC,
    GUARD_GLOBALS,
    GUARD_TYPE_ATTR,
} GuardKind;
#define N_GUARD_KINDS 9

/* Append to the list `out` the condition tuples of `recipe` against a function's namespace:
 * its globals and builtins (dicts).  What names are bound to is read now.  -1 with an exception
 * set (TypeError/ValueError/KeyError: a malformed or inapplicable recipe). */
int guard_conditions(State *st, PyObject *recipe, PyObject *globals, PyObject *builtins, PyObject *out);

/* A new tuple of the kinds' names, in GuardKind order. */
PyObject *guard_kind_names(void);

#endif
