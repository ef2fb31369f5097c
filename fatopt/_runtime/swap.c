/* What a condition's change does to its specialization: the function's code is swapped to the
 * original when a condition breaks and back when all hold again.  Swaps write the function's
 * code field directly and reset its call-site version with PyFunction_SetVectorcall(): no audit
 * hook or descriptor runs.  Nothing here decrefs a user object inside a watcher callback (that
 * could run __del__): dead specializations are torn down from the pending call. */
#include "swap.h"

#if PY_VERSION_HEX >= 0x030D0000 && !defined(MS_WINDOWS) && !defined(Py_GIL_DISABLED)
#include <dlfcn.h>
#define CAN_SET_FUNC_VERSION 1
#endif

#include "conditions.h"
#include "registration.h"
#include "watchers.h"

/* --------------------------------------------------------------------- function versions --- */
/* Call sites specialized by the adaptive interpreter (CALL_PY_EXACT_ARGS, BINARY_SUBSCR_GETITEM,
 * LOAD_ATTR_PROPERTY) cache the function's version and check it on each call.  A swap must change the
 * version, and it must then be valid again: a function whose version stays 0 is never specialized
 * for again.  3.12 assigns a fresh version lazily when a call site next specializes.  From 3.13
 * on, a version is given only by MAKE_FUNCTION, which copies the code object's co_version (a
 * number from a per-interpreter counter, given to each code object once): so versions stand for
 * codes, and functions made from the same code share one.  After a swap the function gets the
 * co_version of its new code through _PyFunction_SetVersion, which also keeps the interpreter's
 * version -> (function, code) cache right; a call site that cached that version was specialized
 * for that very code, so it stays right.  The function is internal (not in the public headers) but
 * exported, so it is looked up at run time (find_set_version); where it is missing, or the code
 * has no version (the counter ran out), or another extension replaced the function's vectorcall
 * (a version would let call sites bypass it), the version stays 0 as before: slower, still exact.
 * 3.14 marks a cleared version 1 rather than 0 and takes versions from 2 (its
 * _PyFunction_SetVersion asserts an unset version: the field is reset first). */

#if PY_VERSION_HEX >= 0x030E0000
#define FIRST_VALID_FUNC_VERSION 2
#else
#define FIRST_VALID_FUNC_VERSION 1
#endif

/* What calls a plain Python function (the interpreter's symbol is private): first_call()
 * hands the call on to it, also after the module's state is gone. */
static vectorcallfunc plain_call = NULL;

int
find_set_version(State *st)
{
    st->set_func_version = NULL;
    /* A function made here shows what calls a plain Python function. */
    PyObject *code = (PyObject *)PyCode_NewEmpty("<fatopt>", "probe", 0);
    PyObject *globals = code ? PyDict_New() : NULL;
    PyObject *probe = globals ? PyFunction_New(code, globals) : NULL;
    Py_XDECREF(code);
    Py_XDECREF(globals);
    if (probe == NULL) {
        return -1;
    }
    plain_call = ((PyFunctionObject *)probe)->vectorcall;
    Py_DECREF(probe);
#ifdef CAN_SET_FUNC_VERSION
    /* The process's global scope has it when libpython is a dependency of the executable or the
     * executable exports its symbols; an embedding application may have loaded libpython
     * privately: then ask the library that holds the C API itself. */
    void *found = dlsym(RTLD_DEFAULT, "_PyFunction_SetVersion");
    Dl_info info;
    if (found == NULL && dladdr((void *)&PyFunction_SetVectorcall, &info) && info.dli_fname) {
        void *library = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
        if (library != NULL) {
            found = dlsym(library, "_PyFunction_SetVersion");
            dlclose(library);  /* NOLOAD took a reference to a library that stays loaded */
        }
    }
    st->set_func_version = (void (*)(PyFunctionObject *, uint32_t))found;
#endif
    return 0;
}

/* Give `f` the valid version its code stands for, where the interpreter allows. */
static void
give_version(State *st, PyFunctionObject *f)
{
#if PY_VERSION_HEX >= 0x030D0000
    uint32_t version = ((PyCodeObject *)f->func_code)->co_version;
    if (st->set_func_version == NULL || version < FIRST_VALID_FUNC_VERSION
        || f->vectorcall != plain_call) {
        return;
    }
    f->func_version = 0;
    st->set_func_version(f, version);
#endif
}

/* Install `code` as the function's code.  The direct write runs no audit hook or descriptor;
 * PyFunction_SetVectorcall() is the public call that resets the function version, so call sites
 * specialized for the old code drop their cache.  Then the function gets the version a function
 * made from `code` would have (see give_version), so call sites specialize again. */
void
install_code(State *st, PyFunctionObject *f, PyObject *code)
{
    if (st->func_watcher >= 0) {
        on_func_event(st, f, PyFunction_EVENT_MODIFY_CODE, code);  /* our own watchers */
    }
    PyObject *old = f->func_code;
    PyFunction_SetVectorcall(f, f->vectorcall);
    f->func_code = Py_NewRef(code);
    give_version(st, f);
    Py_DECREF(old);  /* never the last reference: the specialization holds both codes */
}

/* ------------------------------------------------------------------------- first call --- */
/* Two things wait for a function's first call, and get it by having the function called through
 * first_call() until then (PyFunction_SetVectorcall; first_call() puts the plain call back, then
 * does what waited, then makes the call):
 *
 * - The __class__ audit hook (watchers.c) that COND_INSTANCE_CLASS relies on makes every audit
 *   event in the process build its arguments (CPython skips that while no hook is set): `id()`
 *   alone then costs ~500 instructions more, and copy.deepcopy calls it for each object.  The
 *   condition matters only to frames running the specialized code, so a specialization that
 *   needs the hook gets it on its function's first call (where another hook refuses it, the
 *   conditions fail for good, which installs the original code).
 * - A watch of the argument types (fatopt/first_call_types.py): the exact types the call binds
 *   to the function's parameters go to st->first_call_learn, which may install a specialization
 *   for them before the call runs.  A vectorcall, not sys.monitoring's PY_START: no code is
 *   instrumented (3.12 runs a code object it once instrumented ~3% slower for good), no tool id
 *   is taken, and the first call already runs what its types gave.
 *
 * While first_call() is in place the function has no version, so no call site of the adaptive
 * interpreter runs the code without passing here (3.13's __init__ aside: called_past_vectorcall). */

/* The exact types of what a call binds to f's named parameters (co_varnames[:co_argcount +
 * co_kwonlyargcount]: no *args, no **kwargs), defaults included: a new tuple, or None where the
 * call cannot bind (CPython raises TypeError for it before the function runs). */
static PyObject *
bound_types(PyFunctionObject *f, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyCodeObject *co = (PyCodeObject *)f->func_code;
    Py_ssize_t npos = co->co_argcount, n = npos + co->co_kwonlyargcount;
    if (nargs > npos && !(co->co_flags & CO_VARARGS)) {
        Py_RETURN_NONE;
    }
    PyObject *names = PyCode_GetVarnames(co);
    PyObject *types = names != NULL ? PyTuple_New(n) : NULL;
    if (types == NULL) {
        Py_XDECREF(names);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nargs && i < npos; i++) {
        PyTuple_SET_ITEM(types, i, Py_NewRef((PyObject *)Py_TYPE(args[i])));
    }
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        for (Py_ssize_t i = co->co_posonlyargcount; i < n; i++) {
            PyObject *name = PyTuple_GET_ITEM(names, i);
            if (name != key && PyUnicode_Compare(name, key) != 0) {
                if (PyErr_Occurred()) {
                    goto error;
                }
                continue;
            }
            if (PyTuple_GET_ITEM(types, i) != NULL) {
                goto unbound;  /* given twice */
            }
            PyTuple_SET_ITEM(types, i, Py_NewRef((PyObject *)Py_TYPE(args[nargs + k])));
            break;
        }
    }
    PyObject *defaults = f->func_defaults;
    Py_ssize_t ndefaults = defaults != NULL ? PyTuple_GET_SIZE(defaults) : 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyTuple_GET_ITEM(types, i) != NULL) {
            continue;
        }
        PyObject *value = NULL;
        if (i < npos && i >= npos - ndefaults) {
            value = PyTuple_GET_ITEM(defaults, i - (npos - ndefaults));
        }
        else if (i >= npos && f->func_kwdefaults != NULL && PyDict_Check(f->func_kwdefaults)) {
            value = PyDict_GetItemWithError(f->func_kwdefaults, PyTuple_GET_ITEM(names, i));
            if (value == NULL && PyErr_Occurred()) {
                goto error;
            }
        }
        if (value == NULL) {
            goto unbound;  /* a parameter the call leaves without a value */
        }
        PyTuple_SET_ITEM(types, i, Py_NewRef((PyObject *)Py_TYPE(value)));
    }
    Py_DECREF(names);
    return types;
unbound:
    Py_DECREF(names);
    Py_DECREF(types);
    Py_RETURN_NONE;
error:
    Py_DECREF(names);
    Py_DECREF(types);
    return NULL;
}

/* Hand the call's types to the watch; 1 if it wants the next call too (this one cannot bind),
 * 0 if not, -1 with an exception (only what the watch lets through: KeyboardInterrupt, ...).
 * The watch's own code runs with tracing and monitoring off, as a sys.monitoring callback's
 * would: a debugger or profiler of the program does not see fatopt at work. */
static int
learn_types(State *st, PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyObject *types = bound_types((PyFunctionObject *)callable, args, PyVectorcall_NARGS(nargsf), kwnames);
    if (types == NULL) {
        return -1;
    }
    PyObject *learn = Py_NewRef(st->first_call_learn);
    PyThreadState *tstate = PyThreadState_Get();
    PyThreadState_EnterTracing(tstate);
    PyObject *r = PyObject_CallFunctionObjArgs(learn, callable, types, NULL);
    PyThreadState_LeaveTracing(tstate);
    Py_DECREF(learn);
    Py_DECREF(types);
    if (r == NULL) {
        return -1;
    }
    int again = Py_IsTrue(r);
    Py_DECREF(r);
    return again;
}

/* Whether f's specialization has a COND_INSTANCE_CLASS condition still waiting for the hook;
 * -1 with an exception. */
static int
needs_class_hook(State *st, PyFunctionObject *f)
{
    if (st->audit_hook_added) {
        return 0;
    }
    SpecObject *spec = spec_of(st, f);
    if (spec == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    for (Py_ssize_t i = 0; i < spec->nconds; i++) {
        if (spec->conds[i].kind == COND_INSTANCE_CLASS && !spec->conds[i].dead) {
            return 1;
        }
    }
    return 0;
}

static PyObject *
first_call(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyFunctionObject *f = (PyFunctionObject *)callable;
    State *st = watchers_state();
    if (f->vectorcall == first_call) {
        PyFunction_SetVectorcall(f, plain_call);
    }
    int again = 0;
    if (st != NULL && st->first_call_learn != NULL) {
        again = learn_types(st, callable, args, nargsf, kwnames);
        if (again < 0) {
            return NULL;
        }
        if (f->vectorcall == first_call) {  /* a specialization installed now asked for the hook */
            PyFunction_SetVectorcall(f, plain_call);
        }
        st = watchers_state();
    }
    if (st != NULL) {
        int needs = needs_class_hook(st, f);
        if (needs < 0) {
            return NULL;
        }
        if (needs && !ensure_audit_hook(st)) {
            SpecObject *spec = spec_of(st, f);
            for (Py_ssize_t i = 0; spec != NULL && i < spec->nconds; i++) {
                Condition *c = &spec->conds[i];
                if (c->kind == COND_INSTANCE_CLASS) {
                    c->dead = 1;
                    cond_set(st, c, 0);
                }
            }
        }
        if (!again) {
            give_version(st, f);
        }
    }
    PyObject *result = plain_call(callable, args, nargsf, kwnames);
    if (again && f->vectorcall == plain_call) {
        PyFunction_SetVectorcall(f, first_call);
    }
    return result;
}

/* 3.13's CALL_ALLOC_AND_ENTER_INIT runs a class's __init__ straight from the call site, past
 * the function's vectorcall and without checking its version: such a function cannot wait for
 * its first call (above).  Known by the name a class body gives it.  A call site runs its first
 * call generically (through the vectorcall) and specializes on its second, so a function made
 * __init__ under another name is seen too, unless it became __init__ between a site's first and
 * second call: docs/semantics.md. */
static int
called_past_vectorcall(PyFunctionObject *func)
{
#if PY_VERSION_HEX >= 0x030D0000
    return PyUnicode_Check(func->func_name)
           && PyUnicode_CompareWithASCIIString(func->func_name, "__init__") == 0;
#else
    (void)func;
    return 0;
#endif
}

/* Whether f can be called through first_call() (it is already, or called the plain way). */
static int
can_wait_for_first_call(PyFunctionObject *f)
{
    return plain_call != NULL && (f->vectorcall == plain_call || f->vectorcall == first_call)
           && !called_past_vectorcall(f);
}

int
can_add_hook_on_first_call(State *st, PyFunctionObject *f)
{
    return !st->audit_hook_added && !st->audit_hook_refused && can_wait_for_first_call(f);
}

void
call_through_first_call(PyFunctionObject *f)
{
    if (f->vectorcall != first_call) {
        PyFunction_SetVectorcall(f, first_call);
    }
}

int
watch_first_call(State *st, PyFunctionObject *f, PyObject *learn)
{
    if (!can_wait_for_first_call(f)) {
        return 0;
    }
    Py_XSETREF(st->first_call_learn, Py_NewRef(learn));
    call_through_first_call(f);
    return 1;
}

/* A frame already running the specialized code keeps running it after an invalidation.  Code
 * inlined from another function is exact only while that function is unchanged, so each inlined
 * call site tests the specialization's flag, a list bound to a global name (the optimizer's
 * fatopt.passes.inline_functions), before running its copy, and makes the real call when the
 * flag is empty.  A list because 3.13 tests its truth in one specialized instruction
 * (TO_BOOL_LIST) and because its size can be flipped here without allocating or running
 * anything: its one slot holds True (immortal: no reference count to keep) and stays allocated;
 * only the visible size changes.  A flag someone else filled or emptied is left alone. */
void
show_validity(SpecObject *spec, int valid)
{
    PyObject *flag = spec->valid_flag;
    if (flag == NULL || !PyList_CheckExact(flag)) {
        return;
    }
    PyListObject *list = (PyListObject *)flag;
    if (valid && Py_SIZE(list) == 0 && list->allocated >= 1 && list->ob_item != NULL) {
        list->ob_item[0] = Py_True;
        Py_SET_SIZE(list, 1);
    }
    else if (!valid && Py_SIZE(list) == 1 && list->ob_item[0] == Py_True) {
        Py_SET_SIZE(list, 0);
    }
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
    show_validity(spec, 0);
    queue_spec(st, spec);
}

void
spec_sync(State *st, SpecObject *spec)
{
    if (spec->dead) {
        return;
    }
    if (spec->func_ref != NULL && weak_referent(spec->func_ref) == NULL) {
        /* The function is garbage: a collection clears the weakrefs to what it frees before
         * freeing anything, and calls no callback of a weakref that is garbage itself (at
         * shutdown, the registry's), so `func` may be freed memory already (a module dict
         * freed later in the same collection sends its event here). */
        return;
    }
    int valid = spec->nfailing == 0 && !spec->unknown;
    show_validity(spec, valid);
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
