/* Watching the objects conditions depend on: the dict, function and type watcher callbacks, and
 * adding conditions to (and removing them from) the index that routes events to them. */
#ifndef FATOPT_WATCHERS_H
#define FATOPT_WATCHERS_H

#include "conditions.h"

/* Make `st` the state the callbacks serve (the module's exec), or none (its clear: also drops
 * the watchers and the index). */
void watchers_attach(State *st);
void watchers_detach(State *st);
/* The state the callbacks serve, or NULL once the module is gone. */
State *watchers_state(void);

/* Register the watchers that `need` asks for, once per process.  1: all there; 0: some watcher
 * id is not free (warned once: functions then run unoptimized); -1: error (the warning raised). */
int ensure_watchers(State *st, const int need[N_WATCHER_KINDS]);

/* Add the audit hook that sees `obj.__class__ = ...` (COND_INSTANCE_CLASS), once per process.
 * 1: there; 0: another hook refused it (such conditions then never hold). */
int ensure_audit_hook(State *st);

/* Whether `obj` has none of `names` (a tuple of interned str) as an instance attribute, its
 * instance dict then watched for them: writing one of them there later fails the
 * COND_INSTANCE_ATTR_ABSENT conditions of type(obj) on that name, for good.  1: none of them
 * (or no instance dict at all); 0: one is there, or no dict watcher is free, or this interpreter's
 * watchers miss such writes and they cannot be kept from the object's inline values
 * (instance_dicts_notify, close_shared_keys in watchers.c); -1: error. */
int instance_unshadowed(State *st, PyObject *obj, PyObject *names);
/* Whether this interpreter's dict watchers see every write to a materialized instance dict (not
 * 3.13.0: see watchers.c). */
int instance_dicts_notify(void);
/* Whether instance_unshadowed() can take objects with a dict at all: where the watchers see every
 * write, or (3.13.0, default build) where the class's shared keys can be closed. */
int instance_attrs_checkable(void);

/* Add a specialization's conditions to the index, watching objects as they first appear; and
 * the reverse. */
int cond_index(State *st, Condition *c);
void spec_unindex(State *st, SpecObject *spec);
/* Type watchers fire once per change until re-armed: re-arm the spec's types (conditions whose
 * type can no longer be watched are marked dead). */
void rearm_types(State *st, SpecObject *spec);

/* What the function watcher does for an event on `f`; also called for fatopt's own code swaps,
 * which write the code field directly and so fire no watcher. */
void on_func_event(State *st, PyFunctionObject *f, PyFunction_WatchEvent event, PyObject *new_value);

#endif
