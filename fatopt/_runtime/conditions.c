/* The condition kinds (see CondKind in state.h): parsing a condition tuple, evaluating a
 * condition now or from a watcher event's data.  Adding a kind: a CondKind value, its case in
 * each switch here (the compiler lists them with -Wswitch-enum), its arming in watchers.c. */
#include "conditions.h"

#include <string.h>

#include "registration.h"

WatcherKind
cond_watcher(CondKind kind)
{
    switch (kind) {
    case COND_DICT_IS:
    case COND_DICT_CONST:
    case COND_DICT_ABSENT:
        return WATCH_DICT;
    case COND_FUNC:
        return WATCH_FUNC;
    case COND_TYPE_ATTR:
    case COND_TYPE_ATTR_ABSENT:
    case COND_TYPE_ATTR_CONST:
    case COND_INSTANCE_CLASS:  /* the audit hook, through the type's entry in the index */
    case COND_INSTANCE_ATTR_ABSENT:  /* the dict watcher, through watched instance dicts */
        return WATCH_TYPE;
    case COND_NEVER:
        return WATCH_NONE;
    }
    Py_UNREACHABLE();
}

int
cond_owns_target(CondKind kind)
{
    switch (kind) {
    case COND_DICT_IS:
    case COND_DICT_CONST:
    case COND_DICT_ABSENT:
        return 0;
    case COND_FUNC:
    case COND_TYPE_ATTR:
    case COND_TYPE_ATTR_ABSENT:
    case COND_TYPE_ATTR_CONST:
    case COND_INSTANCE_CLASS:
    case COND_INSTANCE_ATTR_ABSENT:
        return 0;  /* followed by a weakref (target_ref): see Condition */
    case COND_NEVER:
        return 0;  /* it has none */
    }
    Py_UNREACHABLE();
}

/* The object a weakref refers to (borrowed), or NULL once it is gone.  Runs no Python code. */
PyObject *
weak_referent(PyObject *ref)
{
#if PY_VERSION_HEX >= 0x030D0000
    PyObject *obj;
    if (PyWeakref_GetRef(ref, &obj) != 1) {
        return NULL;  /* gone (0); -1 cannot happen: `ref` is a weakref */
    }
    Py_DECREF(obj);  /* never the last reference: the referent is alive, held elsewhere */
    return obj;
#else
    PyObject *obj = PyWeakref_GetObject(ref);
    return obj == Py_None ? NULL : obj;
#endif
}

/* Objects that may refer to a module's namespace (a Python function through __globals__, a
 * class through its methods, a module) are held weakly by conditions; the rest (constants, builtins,
 * codes) strongly. */
static int
held_weakly(PyObject *v)
{
    return PyFunction_Check(v) || PyModule_Check(v)
           || (PyType_Check(v) && PyType_HasFeature((PyTypeObject *)v, Py_TPFLAGS_HEAPTYPE));
}

/* The function an exact staticmethod wraps (new reference), or NULL (no exception): a read of
 * its __func__ member, which runs no Python code. */
PyObject *
static_function(PyObject *v)
{
    if (!Py_IS_TYPE(v, &PyStaticMethod_Type)) {
        return NULL;
    }
    PyObject *f = PyObject_GetAttrString(v, "__func__");
    if (f == NULL) {
        PyErr_Clear();
    }
    return f;
}

static int
hold_expected(Condition *c, PyObject *v)
{
    if (c->kind == COND_TYPE_ATTR && v != NULL && Py_IS_TYPE(v, &PyStaticMethod_Type)) {
        /* held through its function: the staticmethod refers to the function, which refers to
         * its module's namespace, and a staticmethod cannot be weakly referenced */
        PyObject *f = static_function(v);
        if (f != NULL && PyFunction_Check(f)) {
            c->expected = PyWeakref_NewRef(f, NULL);
            c->expected_weak = c->expected_static = 1;
            Py_DECREF(f);
            return c->expected != NULL ? 0 : -1;
        }
        Py_XDECREF(f);
    }
    if (v != NULL && held_weakly(v)) {
        c->expected = PyWeakref_NewRef(v, NULL);
        c->expected_weak = 1;
        return c->expected != NULL ? 0 : -1;
    }
    c->expected = Py_XNewRef(v);
    return 0;
}

/* What the condition expects (borrowed): NULL for none (ABSENT) or once a weakly held expected
 * object is gone (it can never be bound again). */
static inline PyObject *
cond_expected(Condition *c)
{
    return c->expected_weak ? weak_referent(c->expected) : c->expected;
}

/* Whether `v`, found along the MRO, is what a COND_TYPE_ATTR expects: the same object, or, for
 * a staticmethod, a staticmethod (exactly) of the same function (what a call through the class
 * gets either way). */
static int
type_attr_is(Condition *c, PyObject *v)
{
    PyObject *expected = cond_expected(c);
    if (!c->expected_static) {
        return v == expected;
    }
    if (expected == NULL) {
        return 0;
    }
    PyObject *f = static_function(v);
    Py_XDECREF(f);  /* the staticmethod in the type's dict keeps it alive */
    return f != NULL && f == expected;
}

PyObject *
cond_target(Condition *c)
{
    if (c->dead) {
        return NULL;
    }
    if (c->target_ref != NULL && weak_referent(c->target_ref) == NULL) {
        c->dead = 1;  /* gone: nothing can bring it back */
        return NULL;
    }
    return c->target;
}

/* ------------------------------------------------------------------------ evaluation ----- */

/* Same constant, as the compiler would merge it: same exact type and value; floats compare by
 * bits so 0.0 and -0.0 differ and a NaN equals itself.  Never runs Python code. */
static int
same_constant(PyObject *a, PyObject *b)
{
    if (a == b) {
        return 1;
    }
    PyTypeObject *t = Py_TYPE(a);
    if (t != Py_TYPE(b)) {
        return 0;
    }
    if (t == &PyLong_Type) {
        return PyObject_RichCompareBool(a, b, Py_EQ) == 1;
    }
    if (t == &PyUnicode_Type) {
        return PyUnicode_Compare(a, b) == 0;
    }
    if (t == &PyBytes_Type) {
        return PyBytes_GET_SIZE(a) == PyBytes_GET_SIZE(b)
               && memcmp(PyBytes_AS_STRING(a), PyBytes_AS_STRING(b), PyBytes_GET_SIZE(a)) == 0;
    }
    if (t == &PyFloat_Type) {
        double x = PyFloat_AS_DOUBLE(a), y = PyFloat_AS_DOUBLE(b);
        return memcmp(&x, &y, sizeof(double)) == 0;
    }
    if (t == &PyComplex_Type) {
        Py_complex x = ((PyComplexObject *)a)->cval, y = ((PyComplexObject *)b)->cval;
        return memcmp(&x, &y, sizeof(Py_complex)) == 0;
    }
    if (t == &PyTuple_Type) {
        Py_ssize_t n = PyTuple_GET_SIZE(a);
        if (n != PyTuple_GET_SIZE(b)) {
            return 0;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            if (!same_constant(PyTuple_GET_ITEM(a, i), PyTuple_GET_ITEM(b, i))) {
                return 0;
            }
        }
        return 1;
    }
    return 0;  /* bool, None, Ellipsis, frozenset, anything else: identity only */
}

int
is_constant(PyObject *v)
{
    PyTypeObject *t = Py_TYPE(v);
    if (v == Py_None || v == Py_Ellipsis || t == &PyBool_Type || t == &PyLong_Type
        || t == &PyUnicode_Type || t == &PyBytes_Type || t == &PyFloat_Type
        || t == &PyComplex_Type) {
        return 1;
    }
    if (t == &PyTuple_Type) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(v); i++) {
            if (!is_constant(PyTuple_GET_ITEM(v, i))) {
                return 0;
            }
        }
        return 1;
    }
    return 0;
}

int
dict_cond_holds(Condition *c, PyObject *value)
{
    switch (c->kind) {
    case COND_DICT_IS:
        return value != NULL && value == cond_expected(c);
    case COND_DICT_CONST:
        return value != NULL && same_constant(value, c->expected);
    case COND_DICT_ABSENT:
        return value == NULL;
    case COND_FUNC:
    case COND_TYPE_ATTR:
    case COND_TYPE_ATTR_ABSENT:
    case COND_TYPE_ATTR_CONST:
    case COND_INSTANCE_CLASS:
    case COND_INSTANCE_ATTR_ABSENT:  /* a shadow proxy's writes: watchers.c, on_binding() */
    case COND_NEVER:
        return 0;  /* not a dict condition */
    }
    return 0;
}

static inline PyObject *
none_to_null(PyObject *v)
{
    return v == Py_None ? NULL : v;
}

/* Does `code` count as the expected code of `f`?  A registered function's original and
 * specialized codes are interchangeable: it swaps between them by itself. */
static int
func_code_matches(State *st, PyFunctionObject *f, PyObject *code, PyObject *expected)
{
    if (code == expected) {
        return 1;
    }
    SpecObject *s = spec_of(st, f);  /* int keys: no Python code */
    if (s == NULL) {
        PyErr_Clear();
        return 0;
    }
    return !s->dead && (code == s->original || code == s->specialized)
           && (expected == s->original || expected == s->specialized);
}

int
func_cond_holds(State *st, Condition *c, PyObject *code, PyObject *defaults, PyObject *kwdefaults)
{
    return cond_target(c) != NULL && func_code_matches(st, (PyFunctionObject *)c->target, code, c->expected)
           && none_to_null(defaults) == c->defaults && none_to_null(kwdefaults) == c->kwdefaults;
}

/* Look `name` up along a type's MRO without running code.  Returns a borrowed reference or NULL
 * (not found); -1 in *error on failure. */
static PyObject *
mro_lookup(PyObject *mro, PyObject *name, int *error)
{
    *error = 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mro); i++) {
        PyObject *dict = PyType_GetDict((PyTypeObject *)PyTuple_GET_ITEM(mro, i));
        if (dict == NULL) {
            continue;
        }
        PyObject *v = PyDict_GetItemWithError(dict, name);
        Py_DECREF(dict);  /* the type keeps its dict alive, and so `v` */
        if (v != NULL) {
            return v;
        }
        if (PyErr_Occurred()) {
            *error = 1;
            return NULL;
        }
    }
    return NULL;
}

PyTypeObject *
cond_live_type(Condition *c)
{
    PyTypeObject *t = (PyTypeObject *)cond_target(c);
    if (t == NULL) {
        return NULL;
    }
    /* The same types, by identity (a metaclass's __eq__ never runs). */
    PyObject *mro = t->tp_mro;
    int same = mro != NULL && PyTuple_GET_SIZE(mro) == c->nmro;
    for (Py_ssize_t i = 0; same && i < c->nmro; i++) {
        same = PyTuple_GET_ITEM(mro, i) == c->mro[i];
    }
    if (!same) {
        c->dead = 1;  /* the hierarchy changed under us: we no longer watch the right types */
        return NULL;
    }
    return t;
}

PyObject *
type_lookup(PyTypeObject *t, PyObject *name, int *error)
{
    *error = 0;
    return t->tp_mro != NULL ? mro_lookup(t->tp_mro, name, error) : NULL;
}

int
cond_eval_now(State *st, Condition *c)
{
    if (c->dead) {
        return 0;
    }
    switch (c->kind) {
    case COND_DICT_IS:
    case COND_DICT_CONST:
    case COND_DICT_ABSENT: {
        PyObject *v = PyDict_GetItemWithError(c->target, c->key);
        if (v == NULL && PyErr_Occurred()) {
            return -1;
        }
        return dict_cond_holds(c, v);
    }
    case COND_FUNC: {
        PyFunctionObject *f = (PyFunctionObject *)cond_target(c);
        return f != NULL && func_cond_holds(st, c, f->func_code, f->func_defaults, f->func_kwdefaults);
    }
    case COND_TYPE_ATTR:
    case COND_TYPE_ATTR_ABSENT:
    case COND_TYPE_ATTR_CONST: {
        PyTypeObject *t = cond_live_type(c);
        if (t == NULL) {
            return 0;
        }
        int error;
        PyObject *v = mro_lookup(t->tp_mro, c->key, &error);
        if (error) {
            return -1;
        }
        return c->kind == COND_TYPE_ATTR ? v != NULL && type_attr_is(c, v)
               : c->kind == COND_TYPE_ATTR_CONST ? v != NULL && same_constant(v, c->expected)
               : v == NULL;
    }
    case COND_INSTANCE_CLASS:
    case COND_INSTANCE_ATTR_ABSENT:
        /* an assignment seen by the audit hook or the dict watcher marks it dead (above): only
         * the type can go */
        return cond_live_type(c) != NULL;
    case COND_NEVER:
        return 0;
    }
    return 0;
}

/* --------------------------------------------------------------------------- parsing ----- */

static PyObject *
intern_key(PyObject *key)
{
    if (!PyUnicode_CheckExact(key)) {
        PyErr_Format(PyExc_TypeError, "guard keys must be str, not %.100s", Py_TYPE(key)->tp_name);
        return NULL;
    }
    Py_INCREF(key);
    PyUnicode_InternInPlace(&key);
    return key;
}

/* Fill `c` from a condition tuple (kind, target, ...).  Returns -1 with an exception set. */
static int
cond_parse(Condition *c, PyObject *t)
{
    if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) < 2 || !PyLong_Check(PyTuple_GET_ITEM(t, 0))) {
        PyErr_SetString(PyExc_TypeError, "a condition is a tuple (kind, target, ...)");
        return -1;
    }
    long number = PyLong_AsLong(PyTuple_GET_ITEM(t, 0));
    if (number == -1 && PyErr_Occurred()) {
        PyErr_Clear();
    }
    Py_ssize_t n = PyTuple_GET_SIZE(t);
    PyObject *target = PyTuple_GET_ITEM(t, 1);
    CondKind kind = (CondKind)number;
    if (number < COND_DICT_IS || number > COND_INSTANCE_ATTR_ABSENT) {
        PyErr_Format(PyExc_ValueError, "unknown condition kind %ld", number);
        return -1;
    }
    c->kind = kind;
    switch (kind) {
    case COND_DICT_IS:
    case COND_DICT_CONST:
    case COND_DICT_ABSENT:
        if (n != (kind == COND_DICT_ABSENT ? 3 : 4) || !PyDict_CheckExact(target)) {
            PyErr_SetString(PyExc_TypeError,
                            "dict condition: (kind, dict, key[, expected]) with an exact dict");
            return -1;
        }
        if (kind == COND_DICT_CONST && !is_constant(PyTuple_GET_ITEM(t, 3))) {
            PyErr_Format(PyExc_TypeError, "not a constant: %R", PyTuple_GET_ITEM(t, 3));
            return -1;
        }
        c->target = target;  /* borrowed: see Condition */
        if ((c->key = intern_key(PyTuple_GET_ITEM(t, 2))) == NULL) {
            return -1;
        }
        return hold_expected(c, kind == COND_DICT_ABSENT ? NULL : PyTuple_GET_ITEM(t, 3));
    case COND_FUNC:
        if (n != 5 || !PyFunction_Check(target) || !PyCode_Check(PyTuple_GET_ITEM(t, 2))) {
            PyErr_SetString(PyExc_TypeError,
                            "function condition: (kind, function, code, defaults, kwdefaults)");
            return -1;
        }
        c->target = target;  /* borrowed: see Condition */
        if ((c->target_ref = PyWeakref_NewRef(target, NULL)) == NULL) {
            return -1;
        }
        c->expected = Py_NewRef(PyTuple_GET_ITEM(t, 2));  /* a code object refers to no namespace */
        c->defaults = Py_XNewRef(none_to_null(PyTuple_GET_ITEM(t, 3)));
        c->kwdefaults = Py_XNewRef(none_to_null(PyTuple_GET_ITEM(t, 4)));
        return 0;
    case COND_TYPE_ATTR:
    case COND_TYPE_ATTR_ABSENT:
    case COND_TYPE_ATTR_CONST:
    case COND_INSTANCE_CLASS:
    case COND_INSTANCE_ATTR_ABSENT:
        if (n != (kind == COND_INSTANCE_CLASS ? 2 : kind == COND_TYPE_ATTR_ABSENT || kind == COND_INSTANCE_ATTR_ABSENT ? 3 : 4)
            || !PyType_Check(target)) {
            PyErr_SetString(PyExc_TypeError, kind == COND_INSTANCE_CLASS
                            ? "instance class condition: (kind, type)"
                            : "type condition: (kind, type, name[, expected])");
            return -1;
        }
        if (((PyTypeObject *)target)->tp_mro == NULL) {
            PyErr_SetString(PyExc_ValueError, "type is not ready");
            return -1;
        }
        if (kind == COND_TYPE_ATTR_CONST && !is_constant(PyTuple_GET_ITEM(t, 3))) {
            PyErr_Format(PyExc_TypeError, "not a constant: %R", PyTuple_GET_ITEM(t, 3));
            return -1;
        }
        c->target = target;  /* borrowed: see Condition */
        if ((c->target_ref = PyWeakref_NewRef(target, NULL)) == NULL) {
            return -1;
        }
        if (kind != COND_INSTANCE_CLASS
            && ((c->key = intern_key(PyTuple_GET_ITEM(t, 2))) == NULL
                || hold_expected(c, kind == COND_TYPE_ATTR_ABSENT || kind == COND_INSTANCE_ATTR_ABSENT
                                    ? NULL : PyTuple_GET_ITEM(t, 3)) < 0)) {
            return -1;
        }
        /* COND_INSTANCE_CLASS keeps the MRO too: cond_live_type() and rearm_types() read it */
        PyObject *mro = ((PyTypeObject *)target)->tp_mro;
        c->nmro = PyTuple_GET_SIZE(mro);
        if ((c->mro = PyMem_Malloc(c->nmro * sizeof(PyObject *))) == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t i = 0; i < c->nmro; i++) {
            c->mro[i] = PyTuple_GET_ITEM(mro, i);
        }
        return 0;
    case COND_NEVER:
        /* (COND_NEVER, why): nothing to watch, nothing to keep */
        if (n != 2 || !PyUnicode_Check(target)) {
            PyErr_SetString(PyExc_TypeError, "never condition: (kind, reason)");
            return -1;
        }
        c->dead = 1;
        return 0;
    }
    Py_UNREACHABLE();
}

Condition *
conds_parse(PyObject *conditions, Py_ssize_t *n_out, int need[N_WATCHER_KINDS])
{
    PyObject *seq = PySequence_Fast(conditions, "conditions must be a sequence");
    if (seq == NULL) {
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    Condition *conds = PyMem_Calloc(n ? n : 1, sizeof(Condition));
    if (conds == NULL) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (cond_parse(&conds[i], PySequence_Fast_GET_ITEM(seq, i)) < 0) {
            Py_DECREF(seq);
            conds_free(conds, n);
            return NULL;
        }
        need[cond_watcher(conds[i].kind)] = 1;
    }
    Py_DECREF(seq);
    *n_out = n;
    return conds;
}

void
conds_free(Condition *conds, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        Condition *c = &conds[i];
        if (c->target != NULL && cond_owns_target(c->kind)) {
            Py_CLEAR(c->target);
        }
        c->target = NULL;
        Py_CLEAR(c->target_ref);
        Py_CLEAR(c->key);
        Py_CLEAR(c->expected);
        Py_CLEAR(c->defaults);
        Py_CLEAR(c->kwdefaults);
        PyMem_Free(c->mro);
        c->mro = NULL;
        c->nmro = 0;
    }
    PyMem_Free(conds);
}
