/* Specializations: the Specialization type, and registering, finding and dropping them. */
#ifndef FATOPT_REGISTRATION_H
#define FATOPT_REGISTRATION_H

#include "state.h"

extern PyType_Spec spec_type_spec;

/* TypeError unless `f` is a Python function. */
int check_function(PyObject *f);

/* The registry's entry for `f` (borrowed), live or not; NULL if none (an error may be set).
 * Runs no Python code. */
SpecObject *spec_of(State *st, PyFunctionObject *f);
/* The live specialization of `func` (borrowed), or NULL (with an exception set on error).  An
 * entry whose function had its __code__ assigned since is detached here. */
SpecObject *lookup_spec(State *st, PyObject *func);

/* Register `func`, which holds its specialized code, with its original code and conditions.
 * Returns 1 (specialized code in place), 0 (conditions fail now: original code in place, the
 * specialization waits for them to hold) or -1 (error: the function is left as it was). */
int do_register(State *st, PyFunctionObject *func, PyObject *original, PyObject *guards,
                PyObject *conditions);
/* Install `code` on func and register func's current code as the original: as do_register. */
int do_specialize(State *st, PyFunctionObject *func, PyObject *code, PyObject *guards,
                  PyObject *conditions);
/* born()'s decorator at work: register `func` (see _guards.c's born), with the validity flag
 * bound to the name `valid` (None: none), and return it, or, when
 * that fails with an Exception, the original function dressed as func, with a warning. */
PyObject *born_install(State *st, PyObject *original, PyObject *recipes, PyObject *valid, PyObject *func);

/* A specialization made while the program runs (fatopt/first_call_types.py): func's current
 * specialization, if any, gives way (its original code back first), then `code` is installed
 * under the guards of `recipes`, with the validity flag bound to the name `valid` (None: none).
 * Returns as do_register; on -1 the function is left as it was when the recipes cannot be
 * built, and with its original code otherwise. */
int respecialize(State *st, PyObject *func, PyObject *code, PyObject *recipes, PyObject *valid);

/* class_born()'s decorator at work (see registration.c): returns `cls`, its method `method`
 * registered again with `recipes` added. */
PyObject *class_born_install(State *st, PyObject *class_name, PyObject *method, PyObject *recipes,
                             PyObject *cls);

/* Remove a specialization from the runtime: out of the index and the registry.  Does not touch
 * the function's code.  Runs Python-level decrefs: never from a watcher callback. */
void spec_detach(State *st, SpecObject *spec);

#endif
