/* Guard kinds: a guard's recipe (kind_name, *args) -> the condition tuples it stands for. */
#ifndef FATOPT_GUARD_KINDS_H
#define FATOPT_GUARD_KINDS_H

#include "state.h"

/* Append to the list `out` the condition tuples of `recipe` against a function's namespace:
 * its globals and builtins (dicts).  What names are bound to is read now.  -1 with an exception
 * set (TypeError/ValueError/KeyError: a malformed or inapplicable recipe). */
int guard_conditions(State *st, PyObject *recipe, PyObject *globals, PyObject *builtins, PyObject *out);

/* A new tuple of the kinds' names, in GuardKind order. */
PyObject *guard_kind_names(void);

#endif
