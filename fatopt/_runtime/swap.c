/* What a condition's change does to its specialization: the function's code is swapped to the
 * original when a condition breaks and back when all hold again.  Swaps write the function's
 * code field directly and reset its call-site version with PyFunction_SetVectorcall(): no audit
 * hook or descriptor runs.  Nothing here decrefs a user object inside a watcher callback (that
 * could run __del__): dead specializations are torn down from the pending call. */
#include "swap.h"

#include "conditions.h"
#include "registration.h"
#include "watchers.h"

/* Install `code` as the function's code.  The direct write runs no audit hook or descriptor;
 * PyFunction_SetVectorcall() is the public call that resets the function version, so call sites
 * specialized for the old code drop their cache. */
void
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

static int run_pending(void *arg);

static void
schedule_pending(State *st)
{
    if (!st->pending_scheduled && Py_AddPendingCall(run_pending, NULL) == 0) {
        st->pending_scheduled = 1;
    }
}

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

void
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

void
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

void
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

/* ---------------------------------------------------------------------- pending re-checks --- */

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

void
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

/* The pending call: it gets no user data either, so it serves the state the watchers serve
 * (none once the module is gone). */
static int
run_pending(void *arg)
{
    State *st = watchers_state();
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
