/* Specializations: the Specialization type, registering one (checking that its two codes are
 * interchangeable, parsing and indexing its conditions), born()'s registration from the recipes
 * the optimizer emits (their conditions come from guard_kinds.c), and detaching one. */
#include "registration.h"

#include "conditions.h"
#include "guard_kinds.h"
#include "swap.h"
#include "watchers.h"

int
check_function(PyObject *f)
{
    if (!PyFunction_Check(f)) {
        PyErr_Format(PyExc_TypeError, "expected a Python function, got %.100s",
                     Py_TYPE(f)->tp_name);
        return -1;
    }
    return 0;
}

SpecObject *
spec_of(State *st, PyFunctionObject *f)
{
    PyObject *k = PyLong_FromVoidPtr(f);
    if (k == NULL) {
        return NULL;
    }
    PyObject *spec = PyDict_GetItemWithError(st->registry, k);  /* int keys: no Python code */
    Py_DECREF(k);
    return (SpecObject *)spec;
}

SpecObject *
lookup_spec(State *st, PyObject *func)
{
    SpecObject *s = spec_of(st, (PyFunctionObject *)func);
    if (s == NULL) {
        return NULL;
    }
    PyObject *cur = ((PyFunctionObject *)func)->func_code;
    if (s->dead || (cur != s->original && cur != s->specialized)) {
        /* The user assigned __code__ since: the specialization is gone for good. */
        spec_detach(st, s);
        return NULL;
    }
    return s;
}

/* Callers may hold only a borrowed reference (from the registry): the registry entry is dropped
 * last, and `spec` is not touched after it, since that may free it. */
void
spec_detach(State *st, SpecObject *spec)
{
    spec->dead = 1;
    show_validity(spec, 0);
    spec_unindex(st, spec);
    PyObject *ref = spec->func_ref;     /* ours now: released at the end */
    spec->func_ref = NULL;
    PyFunctionObject *func = spec->func;
    spec->func = NULL;
    if (ref != NULL && st->refs != NULL && PyDict_Contains(st->refs, ref) == 1
        && PyDict_DelItem(st->refs, ref) < 0) {
        PyErr_Clear();
    }
    PyErr_Clear();
    if (func != NULL) {
        PyObject *k = PyLong_FromVoidPtr(func);
        if (k != NULL) {
            PyObject *cur = PyDict_GetItemWithError(st->registry, k);
            if (cur == (PyObject *)spec && PyDict_DelItem(st->registry, k) < 0) {   /* may free spec */
                PyErr_Clear();
            }
            Py_DECREF(k);
        }
        PyErr_Clear();
    }
    Py_XDECREF(ref);
}

/* ------------------------------------------------------------------ Specialization type ----- */

static int
spec_traverse(SpecObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->func_ref);
    Py_VISIT(self->original);
    Py_VISIT(self->specialized);
    Py_VISIT(self->guards);
    Py_VISIT(self->valid_flag);
    for (Py_ssize_t i = 0; i < self->nconds; i++) {
        Condition *c = &self->conds[i];
        if (cond_owns_target(c->kind)) {
            Py_VISIT(c->target);
        }
        Py_VISIT(c->target_ref);
        Py_VISIT(c->expected);
        Py_VISIT(c->defaults);
        Py_VISIT(c->kwdefaults);
    }
    return 0;
}

static int
spec_clear(SpecObject *self)
{
    /* The type holds the module, so its state is there; the registry is gone once the module
     * was cleared (it detached every specialization then).  At shutdown the last collection
     * may clear the type itself first (a program holding every object, gc.get_objects()): it
     * has no module then, and asking raises, which must not escape (nor replace an exception
     * already set when this runs from dealloc). */
    PyObject *raised = PyErr_GetRaisedException();
    State *st = PyType_GetModuleState(Py_TYPE(self));
    if (st == NULL) {
        PyErr_Clear();
    }
    PyErr_SetRaisedException(raised);
    if (st != NULL && st->registry != NULL && (self->indexed || self->func_ref != NULL)) {
        spec_detach(st, self);
    }
    self->indexed = 0;
    Py_CLEAR(self->func_ref);
    Py_CLEAR(self->original);
    Py_CLEAR(self->specialized);
    Py_CLEAR(self->guards);
    Py_CLEAR(self->valid_flag);
    conds_free(self->conds, self->nconds);
    self->conds = NULL;
    self->nconds = 0;
    return 0;
}

static void
spec_dealloc(SpecObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    spec_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *
spec_repr(SpecObject *self)
{
    const char *state = self->dead ? "detached"
                        : (self->nfailing || self->unknown) ? "invalidated" : "active";
    if (self->specialized == NULL) {
        return PyUnicode_FromFormat("<fatopt specialization (%s)>", state);
    }
    return PyUnicode_FromFormat("<fatopt specialization of %R (%s)>",
                                ((PyCodeObject *)self->specialized)->co_qualname, state);
}

static PyType_Slot spec_slots[] = {
    {Py_tp_doc, "A function's specialized code, its original code and the guards in between."},
    {Py_tp_dealloc, spec_dealloc},
    {Py_tp_traverse, spec_traverse},
    {Py_tp_clear, spec_clear},
    {Py_tp_repr, spec_repr},
    {0, NULL},
};

PyType_Spec spec_type_spec = {
    .name = "fatopt._guards.Specialization",
    .basicsize = sizeof(SpecObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION
             | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = spec_slots,
};

/* ------------------------------------------------------------------------ registration ----- */

static int
flags_kind(PyCodeObject *co)
{
    return co->co_flags & (CO_VARARGS | CO_VARKEYWORDS | CO_GENERATOR | CO_COROUTINE
                           | CO_ASYNC_GENERATOR | CO_ITERABLE_COROUTINE);
}

/* Original and specialized code must be interchangeable for every caller of the function. */
static int
check_compatible(PyCodeObject *a, PyCodeObject *b)
{
    const char *what = NULL;
    if (a->co_argcount != b->co_argcount || a->co_posonlyargcount != b->co_posonlyargcount
        || a->co_kwonlyargcount != b->co_kwonlyargcount) {
        what = "argument counts";
    }
    else if (flags_kind(a) != flags_kind(b)) {
        what = "kind (generator/coroutine/async generator, *args/**kwargs)";
    }
    else if (a->co_nfreevars != b->co_nfreevars) {
        what = "free variables";
    }
    if (what == NULL) {
        PyObject *fa = PyCode_GetFreevars(a), *fb = PyCode_GetFreevars(b);
        PyObject *va = PyCode_GetVarnames(a), *vb = PyCode_GetVarnames(b);
        int ok = -1;
        if (fa && fb && va && vb) {
            ok = PyObject_RichCompareBool(fa, fb, Py_EQ);
            Py_ssize_t nargs = a->co_argcount + a->co_kwonlyargcount
                               + !!(a->co_flags & CO_VARARGS) + !!(a->co_flags & CO_VARKEYWORDS);
            if (ok == 1) {
                PyObject *sa = PyTuple_GetSlice(va, 0, nargs), *sb = PyTuple_GetSlice(vb, 0, nargs);
                ok = (sa && sb) ? PyObject_RichCompareBool(sa, sb, Py_EQ) : -1;
                Py_XDECREF(sa);
                Py_XDECREF(sb);
                if (ok == 0) {
                    what = "argument names";
                }
            }
            else if (ok == 0) {
                what = "free variables";
            }
        }
        Py_XDECREF(fa);
        Py_XDECREF(fb);
        Py_XDECREF(va);
        Py_XDECREF(vb);
        if (ok < 0) {
            return -1;
        }
    }
    if (what != NULL) {
        PyErr_Format(PyExc_ValueError,
                     "original and specialized code of %R differ in %s", a->co_qualname, what);
        return -1;
    }
    return 0;
}

int
do_register(State *st, PyFunctionObject *func, PyObject *original, PyObject *guards,
            PyObject *conditions)
{
    PyObject *key = NULL, *ref = NULL;
    SpecObject *spec = NULL;
    int need[N_WATCHER_KINDS] = {0};
    Py_ssize_t nconds = 0;
    Condition *conds = NULL;

    if (lookup_spec(st, (PyObject *)func) != NULL) {
        PyErr_Format(PyExc_ValueError, "%R is already specialized", func);
        return -1;
    }
    if (PyErr_Occurred()) {
        return -1;
    }
    if (check_compatible((PyCodeObject *)original, (PyCodeObject *)func->func_code) < 0) {
        return -1;
    }
    if (!PyTuple_Check(guards)) {
        PyErr_SetString(PyExc_TypeError, "guards must be a tuple");
        return -1;
    }
    if ((conds = conds_parse(conditions, &nconds, need)) == NULL) {
        return -1;
    }
    spec = PyObject_GC_New(SpecObject, st->spec_type);
    if (spec == NULL) {
        conds_free(conds, nconds);
        return -1;
    }
    spec->func = func;
    spec->func_ref = NULL;
    spec->original = Py_NewRef(original);
    spec->specialized = Py_NewRef(func->func_code);
    spec->guards = Py_NewRef(guards);
    spec->valid_flag = NULL;
    spec->conds = conds;
    spec->nconds = nconds;
    spec->nfailing = 0;
    spec->unknown = spec->indexed = spec->dead = spec->queued = 0;
    spec->invalidations = spec->revalidations = 0;
    for (Py_ssize_t i = 0; i < nconds; i++) {
        conds[i].spec = spec;
    }
    PyObject_GC_Track(spec);

    int have = ensure_watchers(st, need);
    if (have < 0) {
        goto error;
    }
    if (have == 0) {
        /* No watcher: run the original code, unguarded specialization is never an option. */
        install_code(st, func, original);
        spec->func = NULL;
        Py_DECREF(spec);
        return 0;
    }
    /* the __class__ audit hook, added on the function's first call where it can be (swap.c) */
    int hook_on_first_call = 0;
    for (Py_ssize_t i = 0; i < nconds; i++) {
        if (conds[i].kind == COND_INSTANCE_CLASS) {
            if (can_add_hook_on_first_call(st, func)) {
                hook_on_first_call = 1;
            }
            else if (!ensure_audit_hook(st)) {
                conds[i].dead = 1;  /* no hook sees __class__ assignments: never holds */
            }
        }
        int h = cond_eval_now(st, &conds[i]);
        if (h < 0) {
            goto error;
        }
        conds[i].holds = (char)h;
        spec->nfailing += !h;
    }
    spec->indexed = 1;
    for (Py_ssize_t i = 0; i < nconds; i++) {
        if (cond_index(st, &conds[i]) < 0) {
            goto error;
        }
    }
    if ((ref = PyWeakref_NewRef((PyObject *)func, st->died)) == NULL) {
        goto error;
    }
    spec->func_ref = ref;
    if ((key = PyLong_FromVoidPtr(func)) == NULL
        || PyDict_SetItem(st->registry, key, (PyObject *)spec) < 0
        || PyDict_SetItem(st->refs, ref, key) < 0) {  /* hashes ref while alive: cached */
        goto error;
    }
    Py_DECREF(key);
    st->total_registered++;
    spec_sync(st, spec);
    if (hook_on_first_call) {
        call_through_first_call(func);
    }
    int active = func->func_code == spec->specialized;
    Py_DECREF(spec);
    return active;

error:
    Py_XDECREF(key);
    PyObject *exc = PyErr_GetRaisedException();  /* spec_detach clears errors as it goes */
    spec_detach(st, spec);
    Py_DECREF(spec);
    PyErr_SetRaisedException(exc);
    return -1;
}

int
do_specialize(State *st, PyFunctionObject *f, PyObject *code, PyObject *guards,
              PyObject *conditions)
{
    if (lookup_spec(st, (PyObject *)f) != NULL) {
        PyErr_Format(PyExc_ValueError, "%R is already specialized", f);
        return -1;
    }
    if (PyErr_Occurred() || check_compatible((PyCodeObject *)f->func_code,
                                             (PyCodeObject *)code) < 0) {
        return -1;
    }
    PyObject *original = Py_NewRef(f->func_code);
    install_code(st, f, code);
    int r = do_register(st, f, original, guards, conditions);
    if (r < 0 && f->func_code == code) {
        install_code(st, f, original);
    }
    Py_DECREF(original);
    return r;
}

/* ------------------------------------------------------------------------------- born ----- */

/* The fallback code: the original's, named as the function (tracebacks name the right one). */
static PyObject *
fallback_code(State *st, PyObject *func, PyObject *original)
{
    if (PyCode_Check(original)) {
        return Py_NewRef(original);
    }
    if (!PyFunction_Check(original)) {
        PyErr_Format(PyExc_TypeError, "original must be a code object or a function, got %.100s",
                     Py_TYPE(original)->tp_name);
        return NULL;
    }
    PyCodeObject *code = (PyCodeObject *)PyFunction_GET_CODE(original);
    PyCodeObject *target = (PyCodeObject *)PyFunction_GET_CODE(func);
    int same_name = PyObject_RichCompareBool(code->co_name, target->co_name, Py_EQ);
    int same_qualname = same_name > 0 ? PyObject_RichCompareBool(code->co_qualname, target->co_qualname, Py_EQ) : 0;
    if (same_name < 0 || same_qualname < 0) {
        return NULL;
    }
    if (same_name && same_qualname) {
        return Py_NewRef(code);
    }
    PyObject *replace = PyObject_GetAttr((PyObject *)code, st->str_replace);
    if (replace == NULL) {
        return NULL;
    }
    PyObject *names = Py_BuildValue("{sOsO}", "co_name", target->co_name, "co_qualname", target->co_qualname);
    PyObject *noargs = PyTuple_New(0);
    PyObject *renamed = names && noargs ? PyObject_Call(replace, noargs, names) : NULL;
    Py_XDECREF(noargs);
    Py_XDECREF(names);
    Py_DECREF(replace);
    return renamed;
}

/* A guard of a function on its own global name (a recursive function inlined into itself):
 * while born() runs, the name holds the fallback function the optimizer emitted first, about to
 * be replaced by `func` when the `def` completes.  Conditions on that binding are about `func`:
 * "name is the fallback" becomes "name is func" (and the fallback's code and defaults, func's:
 * its swaps between its own two codes are no change), and the name is bound to func now, so
 * they hold from the start (a function born failing would have its code swapped at once, which
 * on 3.13 leaves its call sites unspecialized for good).  A user decorator applied after born()
 * rebinds the name to something else: the condition fails then, as it should. */
static int
about_to_be_bound(PyFunctionObject *func, PyObject *fallback_func, PyObject *conditions)
{
    PyObject *bind_dict = NULL, *bind_key = NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(conditions); i++) {
        PyObject *c = PyList_GET_ITEM(conditions, i);
        Py_ssize_t n = PyTuple_GET_SIZE(c);
        long kind = PyLong_AsLong(PyTuple_GET_ITEM(c, 0));
        PyObject *replacement = NULL;
        if (kind == COND_DICT_IS && n == 4 && PyTuple_GET_ITEM(c, 3) == fallback_func) {
            bind_dict = PyTuple_GET_ITEM(c, 1);
            bind_key = PyTuple_GET_ITEM(c, 2);
            replacement = Py_BuildValue("(OOOO)", PyTuple_GET_ITEM(c, 0), bind_dict, bind_key, (PyObject *)func);
        }
        else if (kind == COND_FUNC && n == 5 && PyTuple_GET_ITEM(c, 1) == fallback_func) {
            replacement = Py_BuildValue("(OOOOO)", PyTuple_GET_ITEM(c, 0), (PyObject *)func, func->func_code,
                                        func->func_defaults ? func->func_defaults : Py_None,
                                        func->func_kwdefaults ? func->func_kwdefaults : Py_None);
        }
        else {
            continue;
        }
        if (replacement == NULL || PyList_SetItem(conditions, i, replacement) < 0) {
            return -1;
        }
    }
    if (bind_dict != NULL) {
        Py_INCREF(bind_dict);
        Py_INCREF(bind_key);
        int r = PyDict_SetItem(bind_dict, bind_key, (PyObject *)func);
        Py_DECREF(bind_dict);
        Py_DECREF(bind_key);
        return r;
    }
    return 0;
}

/* born()'s registration: the conditions of each recipe (guard_kinds.c) against func's namespace.
 * The recipes are kept as the guards, turned into guard objects only if get_specialized() asks. */
static int
born_register(State *st, PyObject *original, PyObject *recipes, PyObject *func)
{
    if (check_function(func) < 0) {
        return -1;
    }
    PyFunctionObject *f = (PyFunctionObject *)func;
    if (PyTuple_GET_SIZE(recipes) == 0) {
        PyErr_SetString(PyExc_ValueError, "a specialization needs at least one guard");
        return -1;
    }
    PyObject *conditions = PyList_New(0);
    PyObject *fallback = NULL;
    int r = -1;
    if (conditions == NULL) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(recipes); i++) {
        if (guard_conditions(st, PyTuple_GET_ITEM(recipes, i), f->func_globals, f->func_builtins,
                             conditions) < 0) {
            goto done;
        }
    }
    if ((fallback = fallback_code(st, func, original)) == NULL) {
        goto done;
    }
    if (PyFunction_Check(original) && about_to_be_bound(f, original, conditions) < 0) {
        goto done;
    }
    r = do_register(st, f, fallback, recipes, conditions) < 0 ? -1 : 0;
done:
    Py_DECREF(conditions);
    Py_XDECREF(fallback);
    return r;
}

/* The validity flag of a specialization whose code inlines other functions (swap.c's
 * show_validity): a new list, empty until the specialization is registered valid, bound to
 * `name` in the function's globals, where its inlined call sites load it. */
static PyObject *
new_validity_flag(PyObject *func, PyObject *name)
{
    if (!PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError, "born(): valid must be a str, got %.100s", Py_TYPE(name)->tp_name);
        return NULL;
    }
    if (check_function(func) < 0) {
        return NULL;
    }
    PyObject *flag = PyList_New(1);
    if (flag == NULL) {
        return NULL;
    }
    PyList_SET_ITEM(flag, 0, Py_True);  /* immortal: the slot needs no reference of its own */
    Py_SET_SIZE(flag, 0);
    if (PyDict_SetItem(((PyFunctionObject *)func)->func_globals, name, flag) < 0) {
        Py_DECREF(flag);
        return NULL;
    }
    return flag;
}

/* Give func's specialization, just registered, the validity flag `flag`, shown at once by
 * spec_sync (none was registered when no watcher was free: the flag stays empty). */
static void
attach_validity(State *st, PyFunctionObject *func, PyObject *flag)
{
    SpecObject *spec = spec_of(st, func);
    if (spec == NULL) {
        PyErr_Clear();
        return;
    }
    Py_XSETREF(spec->valid_flag, Py_NewRef(flag));
    spec_sync(st, spec);
}

PyObject *
born_install(State *st, PyObject *original, PyObject *recipes, PyObject *valid, PyObject *func)
{
    PyObject *flag = valid == Py_None ? NULL : new_validity_flag(func, valid);
    int registered = (valid == Py_None || flag != NULL) ? born_register(st, original, recipes, func) : -1;
    if (registered == 0 && flag != NULL) {
        attach_validity(st, (PyFunctionObject *)func, flag);
    }
    Py_XDECREF(flag);
    if (registered == 0) {
        return Py_NewRef(func);
    }
    if (!PyErr_ExceptionMatches(PyExc_Exception)) {
        return NULL;
    }
    /* never break an import: the original function, dressed as func, with a warning */
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *runtime = PyImport_Import(st->str_runtime);
    PyObject *result = runtime ? PyObject_CallMethodObjArgs(runtime, st->str_unoptimized, func, original, exc, NULL)
                               : NULL;
    Py_XDECREF(runtime);
    Py_DECREF(exc);
    return result;
}

/* ----------------------------------------------------------------------- respecialize ----- */

int
respecialize(State *st, PyObject *func, PyObject *code, PyObject *recipes, PyObject *valid)
{
    if (check_function(func) < 0) {
        return -1;
    }
    if (!PyCode_Check(code) || !PyTuple_Check(recipes) || PyTuple_GET_SIZE(recipes) == 0) {
        PyErr_SetString(PyExc_TypeError, "respecialize(func, code, recipes, valid): a code object and recipes");
        return -1;
    }
    PyFunctionObject *f = (PyFunctionObject *)func;
    PyObject *conditions = PyList_New(0);
    if (conditions == NULL) {
        return -1;
    }
    /* the conditions first: a recipe that cannot be built leaves everything as it was */
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(recipes); i++) {
        if (guard_conditions(st, PyTuple_GET_ITEM(recipes, i), f->func_globals, f->func_builtins,
                             conditions) < 0) {
            Py_DECREF(conditions);
            return -1;
        }
    }
    SpecObject *old = lookup_spec(st, func);
    if (old == NULL && PyErr_Occurred()) {
        Py_DECREF(conditions);
        return -1;
    }
    if (old != NULL) {
        Py_INCREF(old);
        if (old->func->func_code == old->specialized) {
            install_code(st, old->func, old->original);
        }
        spec_detach(st, old);
        Py_DECREF(old);
    }
    PyObject *flag = valid == Py_None ? NULL : new_validity_flag(func, valid);
    int r = -1;
    if (valid == Py_None || flag != NULL) {
        r = do_specialize(st, f, code, recipes, conditions);
    }
    if (r >= 0 && flag != NULL) {
        attach_validity(st, f, flag);
    }
    Py_XDECREF(flag);
    Py_DECREF(conditions);
    return r;
}

/* --------------------------------------------------------------------------- class_born ----- */

/* class_born()'s decorator at work: `cls` was just created by a class statement whose method
 * `method` was born specialized with guards that could not be built then (they name the class,
 * which did not exist yet while its body ran).  Bind the class's global name now (the statement
 * binds it right after this innermost decorator: the optimizer emits class_born only on classes
 * without decorators of their own) and register the method again with its guards plus
 * `recipes`.  Never breaks the class statement: on any failure the method gets its original
 * code back, unguarded specialized code never runs. */
PyObject *
class_born_install(State *st, PyObject *class_name, PyObject *method, PyObject *recipes, PyObject *cls)
{
    if (!PyType_Check(cls) || !PyUnicode_Check(class_name) || !PyTuple_Check(recipes)) {
        return Py_NewRef(cls);
    }
    PyObject *dict = PyType_GetDict((PyTypeObject *)cls);
    PyObject *f = dict ? PyDict_GetItemWithError(dict, method) : NULL;  /* the type keeps it alive */
    Py_XDECREF(dict);
    /* a staticmethod or classmethod (exactly: no code runs) holds the function born */
    PyObject *wrapped = NULL;
    if (f != NULL && (Py_IS_TYPE(f, &PyStaticMethod_Type) || Py_IS_TYPE(f, &PyClassMethod_Type))) {
        f = wrapped = PyObject_GetAttrString(f, "__func__");
    }
    SpecObject *spec = f != NULL && PyFunction_Check(f) ? lookup_spec(st, f) : NULL;
    if (spec == NULL) {
        PyErr_Clear();
        Py_XDECREF(wrapped);
        return Py_NewRef(cls);
    }
    PyFunctionObject *func = (PyFunctionObject *)f;
    Py_INCREF(func);
    Py_XDECREF(wrapped);
    PyObject *original = Py_NewRef(spec->original);
    PyObject *specialized = Py_NewRef(spec->specialized);
    PyObject *all = PySequence_Concat(spec->guards, recipes);
    PyObject *flag = Py_XNewRef(spec->valid_flag);
    /* detached before the name is bound: a guard of the method on the name's old binding (a
     * module run again) would otherwise fail and swap its code back first */
    spec_detach(st, spec);  /* may free spec */
    PyObject *conditions = PyList_New(0);
    int ok = all != NULL && conditions != NULL
             && PyDict_SetItem(func->func_globals, class_name, cls) == 0;
    for (Py_ssize_t i = 0; ok && i < PyTuple_GET_SIZE(all); i++) {
        ok = guard_conditions(st, PyTuple_GET_ITEM(all, i), func->func_globals, func->func_builtins,
                              conditions) == 0;
    }
    if (ok) {
        if (func->func_code != specialized) {
            install_code(st, func, specialized);
        }
        ok = do_register(st, func, original, all, conditions) >= 0;
        if (ok && flag != NULL) {
            attach_validity(st, func, flag);
        }
    }
    if (!ok) {
        PyErr_Clear();
        install_code(st, func, original);
    }
    Py_XDECREF(all);
    Py_XDECREF(flag);
    Py_XDECREF(conditions);
    Py_DECREF(original);
    Py_DECREF(specialized);
    Py_DECREF(func);
    return Py_NewRef(cls);
}
