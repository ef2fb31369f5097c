/* fatopt._guards: the guard runtime (the extension module's entry file).
 *
 * A *specialization* pairs a function's specialized code with its original code and the
 * conditions the specialized code relies on.  Conditions are never checked per call: the runtime
 * subscribes to the objects they depend on (one dict watcher, and lazily one function watcher and
 * one type watcher for the whole process) and swaps the function's code the moment a condition
 * changes: to the original when one breaks, back to the specialized code when all hold again.
 *
 * Rules that shape the runtime (see DESIGN.md, section 2):
 *  - Watcher callbacks run *before* a dict mutation and must not run Python code.  They derive the
 *    new state from (event, key, new_value) when that is exact; otherwise they invalidate at once
 *    (the original code is always correct) and queue a re-check that runs later as a pending call,
 *    when the mutation is complete and running code is allowed.
 *  - Swaps write the function's code field directly and reset its call-site version with
 *    PyFunction_SetVectorcall(); no audit hook or descriptor runs.
 *  - The common dict write (a key no condition depends on) costs one bit test: a filter in front
 *    of the pointer-keyed index (ptrindex.h), read by a callback that saves and calls nothing.
 *  - Nothing decrefs a user object inside a watcher callback (that could run __del__): dead
 *    specializations are torn down from the pending call.
 *
 * The parts live in fatopt/_runtime/ (state.h says which file does what); this file is the
 * module: its functions, and its state's lifetime.
 */
#include "_runtime/state.h"

#include "_runtime/conditions.h"
#include "_runtime/genexpr_traceback.h"
#include "_runtime/guard_kinds.h"
#include "_runtime/inline_traceback.h"
#include "_runtime/materialize.h"
#include "_runtime/registration.h"
#include "_runtime/swap.h"
#include "_runtime/traceback_parts.h"
#include "_runtime/watchers.h"

static State *
get_state(PyObject *module)
{
    return (State *)PyModule_GetState(module);
}

/* ------------------------------------------------------------------------ module functions -- */

PyDoc_STRVAR(register_doc,
"register(func, original, guards, conditions) -> bool\n\n"
"Register `func`, which already holds its specialized code, with its `original` code and the\n"
"conditions the specialized code relies on.  `guards` (a tuple of recipes) is kept for get().  Returns True\n"
"when the specialized code is in place, False when a condition fails now (the original code is\n"
"installed and the specialized code comes back when the conditions hold).");

static PyObject *
guards_register(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "register() takes 4 arguments");
        return NULL;
    }
    if (check_function(args[0]) < 0) {
        return NULL;
    }
    if (!PyCode_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "original must be a code object");
        return NULL;
    }
    int r = do_register(get_state(module), (PyFunctionObject *)args[0], args[1], args[2], args[3]);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

/* The decorator the optimizer emits on each specialized function:
 *     @__fatopt_runtime__.born(f, ("builtins", "len"), ("globals", ("DEBUG", False)))
 * registers the function (which holds its specialized code) with the original code of `f` as the
 * fallback, guarded by the guards whose recipes follow (see _runtime/guard_kinds.c): constant
 * tuples, so the call builds nothing at import.  In C because it runs for every specialized
 * function at every import of an optimized module: no Python frame (tracers and debuggers
 * stepping through the module body see none of fatopt's) and no Python module to import at
 * start-up.  A failure costs that function its specialization, never the import:
 * fatopt.runtime._unoptimized warns and returns the original function. */

PyDoc_STRVAR(born_doc,
"born(original, *recipes, valid=None)\n--\n\n"
"Decorator emitted by the optimizer: register the decorated function, born holding its\n"
"specialized code, with the code of `original` as fallback, guarded by the guards whose recipes\n"
"are given: tuples (kind, *args), such as (\"builtins\", \"len\") (see fatopt.guards).\n"
"`valid`, a global name, gets the list the function's inlined call sites test: [True] while\n"
"the specialization is valid, else [].");

static PyObject *
guards_born(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *valid = Py_None;
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nkw == 1 && PyUnicode_Check(PyTuple_GET_ITEM(kwnames, 0))
        && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "valid") == 0) {
        valid = args[nargs];
    }
    else if (nkw > 0) {
        nargs = 0;  /* an unknown keyword */
    }
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "born(original, *recipes, valid=None): the original, then recipes");
        return NULL;
    }
    for (Py_ssize_t i = 1; i < nargs; i++) {
        if (!PyTuple_Check(args[i])) {
            PyErr_Format(PyExc_TypeError, "born(): a recipe is a tuple, got %.100s", Py_TYPE(args[i])->tp_name);
            return NULL;
        }
    }
    State *st = get_state(module);
    PyObject *recipes = PyTuple_New(nargs - 1);
    if (recipes == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 1; i < nargs; i++) {
        PyTuple_SET_ITEM(recipes, i - 1, Py_NewRef(args[i]));
    }
    PyObject *decorator = PyObject_CallFunctionObjArgs(st->partial, st->born_install, args[0], recipes, valid, NULL);
    Py_DECREF(recipes);
    return decorator;
}

static PyObject *
guards_born_install(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyTuple_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "_born_install(original, recipes, valid, func)");
        return NULL;
    }
    return born_install(get_state(module), args[0], args[1], args[2], args[3]);
}

PyDoc_STRVAR(class_born_doc,
"class_born(class_name, method, *recipes)\n--\n\n"
"Class decorator emitted by the optimizer (innermost, on a class without decorators of its own):\n"
"the method `method`, born specialized in the class body, is registered again with the guards\n"
"whose recipes are given added -- guards that name the class, which did not exist while its\n"
"body ran. The class's global name is bound first. Returns the class.");

static PyObject *
guards_class_born(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 2 || !PyUnicode_Check(args[0]) || !PyUnicode_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "class_born(class_name, method, *recipes)");
        return NULL;
    }
    for (Py_ssize_t i = 2; i < nargs; i++) {
        if (!PyTuple_Check(args[i])) {
            PyErr_Format(PyExc_TypeError, "class_born(): a recipe is a tuple, got %.100s", Py_TYPE(args[i])->tp_name);
            return NULL;
        }
    }
    State *st = get_state(module);
    PyObject *recipes = PyTuple_New(nargs - 2);
    if (recipes == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 2; i < nargs; i++) {
        PyTuple_SET_ITEM(recipes, i - 2, Py_NewRef(args[i]));
    }
    PyObject *install = PyObject_GetAttrString(module, "_class_born_install");
    PyObject *decorator = install ? PyObject_CallFunctionObjArgs(st->partial, install, args[0], args[1], recipes, NULL)
                                  : NULL;
    Py_XDECREF(install);
    Py_DECREF(recipes);
    return decorator;
}

static PyObject *
guards_class_born_install(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "_class_born_install(class_name, method, recipes, cls)");
        return NULL;
    }
    return class_born_install(get_state(module), args[0], args[1], args[2], args[3]);
}

PyDoc_STRVAR(conditions_doc,
"conditions(recipe, globals, builtins) -> list\n\n"
"The condition tuples of the guard whose recipe is given, against a function's namespace (what\n"
"names are bound to is taken now): the one builder, used by born() and by fatopt.guards.");

static PyObject *
guards_conditions(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyDict_Check(args[1]) || !PyDict_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "conditions(recipe, globals, builtins) with two dicts");
        return NULL;
    }
    PyObject *out = PyList_New(0);
    if (out != NULL && guard_conditions(get_state(module), args[0], args[1], args[2], out) < 0) {
        Py_CLEAR(out);
    }
    return out;
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
    if (check_function(args[0]) < 0) {
        return NULL;
    }
    if (!PyCode_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "code must be a code object");
        return NULL;
    }
    int r = do_specialize(get_state(module), (PyFunctionObject *)args[0], args[1], args[2], args[3]);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

PyDoc_STRVAR(respecialize_doc,
"respecialize(func, code, recipes, valid) -> bool\n\n"
"Replace func's specialization, if any, by `code` under the guards of `recipes` (tuples, as\n"
"born() takes them), with the validity flag named `valid` (a str or None): what\n"
"fatopt.first_call_types installs once a function's first call showed its argument types.\n"
"True if the new code is in place now, as specialize().");

static PyObject *
guards_respecialize(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "respecialize() takes 4 arguments");
        return NULL;
    }
    int r = respecialize(get_state(module), args[0], args[1], args[2], args[3]);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

PyDoc_STRVAR(first_call_types_doc,
"first_call_types(func, parameters, classes, digest)\n--\n\n"
"Emitted by the optimizer after a def whose parameters would gain from exact types: the types\n"
"of `parameters` at func's first call decide a specialization, when one is of the module's\n"
"`classes` (fatopt.first_call_types.watch; never raises). `digest` names the source optimized.");

static PyObject *
guards_first_call_types(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "first_call_types() takes 4 arguments");
        return NULL;
    }
    /* never break an import: a failure here only costs the watch */
    PyObject *watcher = PyImport_ImportModule("fatopt.first_call_types");
    PyObject *watch = watcher ? PyObject_GetAttrString(watcher, "watch") : NULL;
    PyObject *r = watch ? PyObject_Vectorcall(watch, args, 4, NULL) : NULL;
    Py_XDECREF(watch);
    Py_XDECREF(watcher);
    if (r == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_Exception)) {
            return NULL;
        }
        PyErr_Clear();  /* watch() warns of its own failures; nothing else can fail here */
    }
    Py_XDECREF(r);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(watch_first_call_doc,
"watch_first_call(func, learn) -> bool\n\n"
"Until func's first call that binds its arguments, call it through a hook that first calls\n"
"learn(func, types): `types` the exact types the call binds to func's named parameters\n"
"(co_varnames[:co_argcount + co_kwonlyargcount], defaults included), or None when the call\n"
"cannot bind; a true result watches the next call too.  No instrumentation: the hook is func's\n"
"vectorcall, and calls after the first are plain.  False where func cannot be watched so\n"
"(another extension's vectorcall; on 3.13, a function named __init__).");

static PyObject *
guards_watch_first_call(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "watch_first_call() takes 2 arguments");
        return NULL;
    }
    if (check_function(args[0]) < 0) {
        return NULL;
    }
    if (!PyCallable_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "learn must be callable");
        return NULL;
    }
    return PyBool_FromLong(watch_first_call(get_state(module), (PyFunctionObject *)args[0], args[1]));
}

PyDoc_STRVAR(unregister_doc,
"unregister(func) -> bool\n\n"
"Drop func's specialization and put its original code back.  False if it had none.");

static PyObject *
guards_unregister(PyObject *module, PyObject *func)
{
    if (check_function(func) < 0) {
        return NULL;
    }
    State *st = get_state(module);
    SpecObject *spec = lookup_spec(st, func);
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
    if (check_function(func) < 0) {
        return NULL;
    }
    State *st = get_state(module);
    process_pending(st);
    SpecObject *spec = lookup_spec(st, func);
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
    int need[N_WATCHER_KINDS] = {0};
    Py_ssize_t n;
    Condition *conds = conds_parse(conditions, &n, need);
    if (conds == NULL) {
        return NULL;
    }
    int ok = 1;
    for (Py_ssize_t i = 0; i < n && ok == 1; i++) {
        ok = cond_eval_now(st, &conds[i]);
    }
    conds_free(conds, n);
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
"runtime_info() -> dict\n\nWatcher ids, whether swaps give functions a valid version (3.13+),\n"
"whether dict watchers see every write to an instance's dict (not 3.13.0) and whether unshadowed()\n"
"takes objects with a dict (3.13.0: by closing their class's shared keys),\n"
"whether the __class__ audit hook is in place (added on the first call of a function that needs it),\n"
"index and registry sizes: for tests and diagnostics.");

static PyObject *
guards_runtime_info(PyObject *module, PyObject *unused)
{
    State *st = get_state(module);
    return Py_BuildValue("{s:i,s:i,s:i,s:O,s:O,s:O,s:O,s:n,s:n,s:n,s:n}",
                         "dict_watcher", st->dict_watcher, "func_watcher", st->func_watcher,
                         "type_watcher", st->type_watcher,
                         "sets_function_versions", st->set_func_version ? Py_True : Py_False,
                         "instance_dicts_notify", instance_dicts_notify() ? Py_True : Py_False,
                         "instance_attrs_checkable", instance_attrs_checkable() ? Py_True : Py_False,
                         "audit_hook", st->audit_hook_added ? Py_True : Py_False,
                         "index_entries", (Py_ssize_t)st->index.used,
                         "specializations", PyDict_GET_SIZE(st->registry),
                         "pending", PyList_GET_SIZE(st->pending),
                         "total_registered", st->total_registered);
}

PyDoc_STRVAR(unshadowed_doc,
"unshadowed(obj, names) -> bool\n\n"
"Whether obj has none of names (a tuple of interned str) as an instance attribute. When it has\n"
"none, its instance dict is watched for them from now on: writing one there fails, for good, the\n"
"specializations guarded by ('instance_attrs_absent', class, name) of obj's class. Optimized code\n"
"calls it at a function's entry, beside `type(obj) is C`, before it calls C's methods on obj\n"
"directly (fatopt/_runtime/watchers.c).");

static PyObject *
guards_unshadowed(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyTuple_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "unshadowed(obj, names): names is a tuple of str");
        return NULL;
    }
    int r = instance_unshadowed(get_state(module), args[0], args[1]);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

PyDoc_STRVAR(exact_types_doc,
"exact_types(cls, obj, ...) -> bool\n\n"
"Whether the type of every obj is cls itself (`type(obj) is cls` for each, in one call).\n"
"Optimized code tests the operands of an operation this way where it would test them one by\n"
"one (fatopt/passes/merge_type_tests.py): fewer instructions for the interpreter to dispatch.");

static PyObject *
guards_exact_types(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 2) {
        PyErr_SetString(PyExc_TypeError, "exact_types(cls, obj, ...) takes a class and objects");
        return NULL;
    }
    for (Py_ssize_t i = 1; i < nargs; i++) {
        if ((PyObject *)Py_TYPE(args[i]) != args[0]) {
            Py_RETURN_FALSE;
        }
    }
    Py_RETURN_TRUE;
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

PyDoc_STRVAR(genexpr_raised_doc,
"genexpr_raised(genexpr_span, iter_span, call_span)\n\n"
"Called by an optimized function's handler around a statement whose generator expression became\n"
"a comprehension: gives the exception being handled the traceback (and, for a StopIteration, the\n"
"RuntimeError) that plain Python would raise. See fatopt/_runtime/genexpr_traceback.c.");

PyDoc_STRVAR(inlined_raised_doc,
"inlined_raised(name, lines, stop_message, sites=None)\n\n"
"Called by an optimized function's handler around a statement holding inlined code: gives the\n"
"exception being handled the callee's traceback entry (and, if stop_message is a str, turns a\n"
"StopIteration into PEP 479's RuntimeError) as plain Python would; sites, the positions of the\n"
"calls of a callee inlined several times in the statement, tell its copies apart. See\n"
"fatopt/_runtime/inline_traceback.c.");

PyDoc_STRVAR(materialize_doc,
"materialize(cls, names, values)\n\n"
"A new instance of cls (as object.__new__ makes one) whose __dict__ holds names[i] -> values[i],\n"
"in order, running no __init__, __setattr__ or descriptor: the object that scalar replacement\n"
"did not make, made where the code as written needs it (fatopt/passes/scalar_replacement.py).");

PyDoc_STRVAR(raise_exception_doc,
"raise_exception(exc)\n\n"
"Raises exc as the statement `raise exc` does (a class is called for its instance; the exception\n"
"being handled becomes its __context__). Where fatopt inlines a method whose `raise` became part\n"
"of an expression. See fatopt/_runtime/inline_traceback.c.");

static PyMethodDef guards_methods[] = {
    {"register", (PyCFunction)(void (*)(void))guards_register, METH_FASTCALL, register_doc},
    {"born", (PyCFunction)(void (*)(void))guards_born, METH_FASTCALL | METH_KEYWORDS, born_doc},
    {"class_born", (PyCFunction)(void (*)(void))guards_class_born, METH_FASTCALL, class_born_doc},
    {"_class_born_install", (PyCFunction)(void (*)(void))guards_class_born_install, METH_FASTCALL, "class_born's decorator (internal)"},
    {"conditions", (PyCFunction)(void (*)(void))guards_conditions, METH_FASTCALL, conditions_doc},
    {"_born_install", (PyCFunction)(void (*)(void))guards_born_install, METH_FASTCALL, "born's decorator (internal)"},
    {"specialize", (PyCFunction)(void (*)(void))guards_specialize, METH_FASTCALL, specialize_doc},
    {"unregister", guards_unregister, METH_O, unregister_doc},
    {"respecialize", (PyCFunction)(void (*)(void))guards_respecialize, METH_FASTCALL, respecialize_doc},
    {"first_call_types", (PyCFunction)(void (*)(void))guards_first_call_types, METH_FASTCALL, first_call_types_doc},
    {"watch_first_call", (PyCFunction)(void (*)(void))guards_watch_first_call, METH_FASTCALL, watch_first_call_doc},
    {"get", guards_get, METH_O, get_doc},
    {"specializations", guards_specializations, METH_NOARGS, all_doc},
    {"check", guards_check, METH_O, check_doc},
    {"flush", guards_flush, METH_NOARGS, flush_doc},
    {"runtime_info", guards_runtime_info, METH_NOARGS, info_doc},
    {"genexpr_raised", (PyCFunction)(void (*)(void))genexpr_raised, METH_FASTCALL, genexpr_raised_doc},
    {"inlined_raised", (PyCFunction)(void (*)(void))inlined_raised, METH_FASTCALL, inlined_raised_doc},
    {"raise_exception", (PyCFunction)raise_exception, METH_O, raise_exception_doc},
    {"materialize", (PyCFunction)(void (*)(void))materialize, METH_FASTCALL, materialize_doc},
    {"unshadowed", (PyCFunction)(void (*)(void))guards_unshadowed, METH_FASTCALL, unshadowed_doc},
    {"exact_types", (PyCFunction)(void (*)(void))guards_exact_types, METH_FASTCALL, exact_types_doc},
    {"_died", guards_died, METH_O, "weakref callback (internal)"},
    {NULL, NULL, 0, NULL},
};

/* ------------------------------------------------------------------------- module init ----- */

static int
guards_exec(PyObject *module)
{
    State *st = get_state(module);
    if (watchers_state() != NULL) {
        PyErr_SetString(PyExc_ImportError,
                        "fatopt._guards is already loaded in this process (one runtime only)");
        return -1;
    }
    st->dict_watcher = st->func_watcher = st->type_watcher = -1;
    st->spec_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &spec_type_spec, NULL);
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
        || (st->str_class = PyUnicode_InternFromString("__class__")) == NULL
        || (st->str_runtime = PyUnicode_InternFromString("fatopt.runtime")) == NULL
        || (st->str_unoptimized = PyUnicode_InternFromString("_unoptimized")) == NULL
        || (st->code_mark = tb_code_mark_index()) < 0) {
        return -1;
    }
    if (find_set_version(st) < 0) {
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
        || PyModule_AddIntConstant(module, "COND_TYPE_ATTR_ABSENT", COND_TYPE_ATTR_ABSENT) < 0
        || PyModule_AddIntConstant(module, "COND_TYPE_ATTR_CONST", COND_TYPE_ATTR_CONST) < 0
        || PyModule_AddIntConstant(module, "COND_INSTANCE_CLASS", COND_INSTANCE_CLASS) < 0
        || PyModule_AddIntConstant(module, "COND_INSTANCE_ATTR_ABSENT", COND_INSTANCE_ATTR_ABSENT) < 0
        || PyModule_AddIntConstant(module, "COND_NEVER", COND_NEVER) < 0
        || PyModule_AddType(module, st->spec_type) < 0) {
        return -1;
    }
    PyObject *kinds = guard_kind_names();
    int added = kinds != NULL ? PyModule_AddObjectRef(module, "GUARD_KINDS", kinds) : -1;
    Py_XDECREF(kinds);
    if (added < 0) {
        return -1;
    }
    /* object.__new__, for inlined constructors (`__fatopt_runtime__.object_new(C)`): a module
     * attribute loads in a few instructions, `object.__new__` in some 300 (3.13: not
     * specialized) */
    PyObject *object_new = PyObject_GetAttrString((PyObject *)&PyBaseObject_Type, "__new__");
    added = object_new != NULL ? PyModule_AddObjectRef(module, "object_new", object_new) : -1;
    Py_XDECREF(object_new);
    if (added < 0) {
        return -1;
    }
    watchers_attach(st);
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
    Py_VISIT(st->first_call_learn);
    return 0;
}

/* Shutting down: put every original code back (nobody will watch the guards any more), drop the
 * watchers, free the index. */
static int
guards_clear(PyObject *module)
{
    State *st = get_state(module);
    if (watchers_state() == st && st->registry != NULL) {
        PyObject *specs = PyDict_Values(st->registry);
        if (specs != NULL) {
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(specs); i++) {
                SpecObject *s = (SpecObject *)PyList_GET_ITEM(specs, i);
                /* (a function freed earlier in this collection: see spec_sync) */
                int alive = s->func != NULL && (s->func_ref == NULL || weak_referent(s->func_ref) != NULL);
                if (!s->dead && alive && s->func->func_code == s->specialized) {
                    install_code(st, s->func, s->original);
                }
                spec_detach(st, s);
            }
            Py_DECREF(specs);
        }
        PyErr_Clear();
    }
    watchers_detach(st);
    Py_CLEAR(st->registry);
    Py_CLEAR(st->refs);
    Py_CLEAR(st->pending);
    Py_CLEAR(st->died);
    Py_CLEAR(st->born_install);
    Py_CLEAR(st->partial);
    Py_CLEAR(st->original_builtins);
    Py_CLEAR(st->first_call_learn);
    Py_CLEAR(st->str_replace);
    Py_CLEAR(st->str_class);
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
    /* Watchers and their callbacks are per interpreter but carry no user data (see watchers.c). */
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
