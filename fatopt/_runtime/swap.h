/* Keeping each function's code in step with its conditions: swapping code, and the re-checks
 * that watcher callbacks cannot do themselves and defer to a pending call. */
#ifndef FATOPT_SWAP_H
#define FATOPT_SWAP_H

#include "state.h"

/* Look up the interpreter's version setter (see swap.c); NULL where there is none to use.
 * Sets st->set_func_version and notes what calls a plain Python function; -1 with an exception
 * on failure. */
int find_set_version(State *st);
/* Install `code` as the function's code, without running Python code. */
void install_code(State *st, PyFunctionObject *f, PyObject *code);
/* Whether `f` can wait for its first call to add the __class__ audit hook (see swap.c): the
 * hook is not there yet (nor refused), `f` is called the plain way, and not as an __init__ the
 * interpreter enters past its vectorcall. */
int can_add_hook_on_first_call(State *st, PyFunctionObject *f);
/* Until its first call, call `f` through a function that adds the hook first. */
void call_through_first_call(PyFunctionObject *f);
/* Until its first call that binds, call `f` through a function that first hands the exact types
 * the call binds to its parameters to `learn(f, types)` (fatopt/first_call_types.py; a true
 * result: watch the next call too).  0 where `f` cannot wait for its first call (another
 * extension's vectorcall, 3.13's __init__), 1 once set. */
int watch_first_call(State *st, PyFunctionObject *f, PyObject *learn);
/* Show `valid` in the specialization's validity flag, if it has one.  No allocation, no
 * Python code: callbacks call it. */
void show_validity(SpecObject *spec, int valid);
/* Make the function's code (and validity flag) agree with the specialization's state. */
void spec_sync(State *st, SpecObject *spec);
/* A condition's new state, derived from a watcher event. */
void cond_set(State *st, Condition *c, int holds);
/* The state of `spec` cannot be derived here: fall back now, re-check from the pending call. */
void spec_mark_unknown(State *st, SpecObject *spec);
/* Run the queued re-checks and teardowns now (normal context: Python code may run). */
void process_pending(State *st);

#endif
