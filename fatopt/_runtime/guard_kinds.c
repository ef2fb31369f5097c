/* Guard kinds: the one place that turns a guard's recipe into the conditions the runtime watches.
 *
 * A recipe is a tuple (kind_name, *args) (fatopt/guards/ has one Python class per kind; the
 * optimizer emits recipes as constants: born(f, ("builtins", "len"), ("globals", ("DEBUG",
 * False)))).  Each kind has one builder here, which reads the function's namespace (its globals
 * and builtins) and appends condition tuples (see CondKind) to a list; what a name is bound to
 * is taken at that moment.  Both born() and the Python guard objects (fatopt._guards.conditions)
 * build conditions here: there is no other builder.
 *
 * Adding a kind touches three files: this one (a GuardKind value, its name in GUARD_KIND_NAMES, a
 * builder, its case in build_kind(): -Wswitch-enum names a missing case), its Python class in a
 * module of fatopt/guards/, and its tests in tests/runtime/kinds/ (an example that the tests over
 * every kind run, and its own event paths).  A kind that needs a new condition kind also touches
 * state.h, conditions.c and watchers.c (see conditions.c).
 */
#include "guard_kinds.h"

#include "conditions.h"

/* The kinds, in the order of their names (fatopt._guards.GUARD_KINDS).  Each has one builder
 * below and one class in fatopt/guards/. */
typedef enum {
    GUARD_ARG_TYPE,
    GUARD_BUILTINS,
    GUARD_CALLEE,
    GUARD_CLASS_ATTRS,
    GUARD_CLASS_ATTRS_ABSENT,
    GUARD_CLASS_CONSTANT,
    GUARD_DICT,
    GUARD_FUNC,
    GUARD_GLOBALS,
    GUARD_INSTANCE_ATTRS_ABSENT,
    GUARD_INSTANCE_CLASS,
    GUARD_MODULE_CONSTANT,
    GUARD_STATIC_CALLEE,
    GUARD_TYPE_ATTR,
} GuardKind;
#define N_GUARD_KINDS 14

static const char *const GUARD_KIND_NAMES[N_GUARD_KINDS] = {
    [GUARD_ARG_TYPE] = "arg_type",
    [GUARD_BUILTINS] = "builtins",
    [GUARD_CALLEE] = "callee",
    [GUARD_CLASS_ATTRS] = "class_attrs",
    [GUARD_CLASS_ATTRS_ABSENT] = "class_attrs_absent",
    [GUARD_CLASS_CONSTANT] = "class_constant",
    [GUARD_DICT] = "dict",
    [GUARD_FUNC] = "func",
    [GUARD_GLOBALS] = "globals",
    [GUARD_INSTANCE_ATTRS_ABSENT] = "instance_attrs_absent",
    [GUARD_INSTANCE_CLASS] = "instance_class",
    [GUARD_MODULE_CONSTANT] = "module_constant",
    [GUARD_STATIC_CALLEE] = "static_callee",
    [GUARD_TYPE_ATTR] = "type_attr",
};

/* What a builder reads and writes: the function's namespace, and the list of condition tuples. */
typedef struct {
    State *st;
    PyObject *globals;
    PyObject *builtins;
    PyObject *out;
} Build;

/* --------------------------------------------------------------------------- helpers ----- */

/* Append the condition (kind, target, x[, y[, z]]): NULL ends the arguments.  Built by hand, not
 * with Py_BuildValue: born() runs this for every guard at every import. */
static int
add(Build *b, CondKind kind, PyObject *target, PyObject *x, PyObject *y, PyObject *z)
{
    PyObject *items[5] = {NULL, target, x, y, z};
    Py_ssize_t n = 2;
    while (n < 5 && items[n] != NULL) {
        n++;
    }
    PyObject *c = PyTuple_New(n);
    if (c == NULL || (items[0] = PyLong_FromLong((long)kind)) == NULL) {
        Py_XDECREF(c);
        return -1;
    }
    PyTuple_SET_ITEM(c, 0, items[0]);
    for (Py_ssize_t i = 1; i < n; i++) {
        PyTuple_SET_ITEM(c, i, Py_NewRef(items[i]));
    }
    int r = PyList_Append(b->out, c);
    Py_DECREF(c);
    return r;
}

/* The condition that never holds: the recipe cannot apply to this namespace (the function
 * keeps its original code), `why` says what was found. */
static int
add_never(Build *b, PyObject *recipe, const char *why)
{
    PyObject *reason = PyUnicode_FromFormat("%R: %s", recipe, why);
    if (reason == NULL) {
        return -1;
    }
    int r = add(b, COND_NEVER, reason, NULL, NULL, NULL);
    Py_DECREF(reason);
    return r;
}

static int
check_name(PyObject *name, PyObject *recipe)
{
    if (!PyUnicode_CheckExact(name)) {
        PyErr_Format(PyExc_TypeError, "%R: names must be str, not %.100s", recipe, Py_TYPE(name)->tp_name);
        return -1;
    }
    return 0;
}

static int
check_arity(PyObject *recipe, Py_ssize_t min, Py_ssize_t max)
{
    Py_ssize_t n = PyTuple_GET_SIZE(recipe) - 1;
    if (n < min || (max >= 0 && n > max)) {
        PyErr_Format(PyExc_TypeError, "%R: wrong number of arguments", recipe);
        return -1;
    }
    return 0;
}

/* A recipe (kind, name, attribute, constant), as class_constant and module_constant take. */
static int
check_name_attribute_constant(PyObject *recipe)
{
    if (check_arity(recipe, 3, 3) < 0 || check_name(PyTuple_GET_ITEM(recipe, 1), recipe) < 0
        || check_name(PyTuple_GET_ITEM(recipe, 2), recipe) < 0) {
        return -1;
    }
    if (!is_constant(PyTuple_GET_ITEM(recipe, 3))) {
        PyErr_Format(PyExc_TypeError, "%R: not a constant: %R", recipe, PyTuple_GET_ITEM(recipe, 3));
        return -1;
    }
    return 0;
}

/* globals[name] captured now: (COND_DICT_IS, globals, name, value), or COND_DICT_ABSENT. */
static int
add_binding(Build *b, PyObject *dict, PyObject *name)
{
    PyObject *value = PyDict_GetItemWithError(dict, name);  /* borrowed */
    if (value == NULL && PyErr_Occurred()) {
        return -1;
    }
    return value ? add(b, COND_DICT_IS, dict, name, value, NULL) : add(b, COND_DICT_ABSENT, dict, name, NULL, NULL);
}

/* The class bound to globals[name], if it is one whose metaclass is type (its __class__ cannot be
 * assigned, so it stays so), with the condition that the name keeps it; else NULL and a never
 * condition (NULL and -1 in *error on failure).  Borrowed. */
static PyObject *
plain_class(Build *b, PyObject *recipe, PyObject *name, int *error)
{
    *error = 0;
    PyObject *cls = PyDict_GetItemWithError(b->globals, name);
    if (cls == NULL && PyErr_Occurred()) {
        *error = 1;
        return NULL;
    }
    if (cls == NULL || !PyType_Check(cls) || Py_TYPE(cls) != &PyType_Type
        || ((PyTypeObject *)cls)->tp_mro == NULL) {
        *error = add_never(b, recipe, "the name is not bound to a class whose metaclass is type") < 0;
        return NULL;
    }
    if (add(b, COND_DICT_IS, b->globals, name, cls, NULL) < 0) {
        *error = 1;
        return NULL;
    }
    return cls;
}

/* A recipe (kind, class_name, name, ...): at least one name after the class, every one a str;
 * the class bound to class_name as plain_class() gives it (borrowed; NULL with *error set as
 * plain_class does, and 1 in *error for a malformed recipe, its exception set). */
static PyObject *
class_and_names(Build *b, PyObject *recipe, int *error)
{
    *error = 1;
    if (check_arity(recipe, 2, -1) < 0) {
        return NULL;
    }
    for (Py_ssize_t i = 1; i < PyTuple_GET_SIZE(recipe); i++) {
        if (check_name(PyTuple_GET_ITEM(recipe, i), recipe) < 0) {
            return NULL;
        }
    }
    return plain_class(b, recipe, PyTuple_GET_ITEM(recipe, 1), error);
}

/* --------------------------------------------------------------------------- builders ---- */

/* ("builtins", *names): each name is the original builtin in the function's builtins, and no
 * global shadows it. */
static int
build_builtins(Build *b, PyObject *recipe)
{
    if (check_arity(recipe, 1, -1) < 0) {
        return -1;
    }
    for (Py_ssize_t i = 1; i < PyTuple_GET_SIZE(recipe); i++) {
        PyObject *name = PyTuple_GET_ITEM(recipe, i);
        if (check_name(name, recipe) < 0) {
            return -1;
        }
        PyObject *value = PyDict_GetItemWithError(b->st->original_builtins, name);  /* borrowed */
        if (value == NULL) {
            if (!PyErr_Occurred()) {
                PyErr_Format(PyExc_KeyError, "%R is not a builtin", name);
            }
            return -1;
        }
        if (add(b, COND_DICT_IS, b->builtins, name, value, NULL) < 0
            || add(b, COND_DICT_ABSENT, b->globals, name, NULL, NULL) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ("globals", *entries): name (its binding now), (name, object) or (name, constant, "constant"). */
static int
build_globals(Build *b, PyObject *recipe)
{
    if (check_arity(recipe, 1, -1) < 0) {
        return -1;
    }
    for (Py_ssize_t i = 1; i < PyTuple_GET_SIZE(recipe); i++) {
        PyObject *entry = PyTuple_GET_ITEM(recipe, i);
        if (PyUnicode_CheckExact(entry)) {
            if (add_binding(b, b->globals, entry) < 0) {
                return -1;
            }
            continue;
        }
        Py_ssize_t n = PyTuple_Check(entry) ? PyTuple_GET_SIZE(entry) : 0;
        int constant = n == 3 && PyUnicode_Check(PyTuple_GET_ITEM(entry, 2))
                       && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(entry, 2), "constant") == 0;
        if (n != 2 && !constant) {
            PyErr_Format(PyExc_TypeError,
                         "%R: an entry is name, (name, object) or (name, constant, \"constant\")", recipe);
            return -1;
        }
        PyObject *name = PyTuple_GET_ITEM(entry, 0);
        if (check_name(name, recipe) < 0
            || add(b, constant ? COND_DICT_CONST : COND_DICT_IS, b->globals, name,
                   PyTuple_GET_ITEM(entry, 1), NULL) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ("dict", mapping, *keys): each key keeps the object it has now, or stays unbound. */
static int
build_dict(Build *b, PyObject *recipe)
{
    if (check_arity(recipe, 2, -1) < 0) {
        return -1;
    }
    PyObject *mapping = PyTuple_GET_ITEM(recipe, 1);
    if (!PyDict_CheckExact(mapping)) {
        PyErr_Format(PyExc_TypeError, "GuardDict needs a dict, got %.100s", Py_TYPE(mapping)->tp_name);
        return -1;
    }
    for (Py_ssize_t i = 2; i < PyTuple_GET_SIZE(recipe); i++) {
        PyObject *key = PyTuple_GET_ITEM(recipe, i);
        if (check_name(key, recipe) < 0 || add_binding(b, mapping, key) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The function keeps the code and defaults it has now. */
static int
add_function(Build *b, PyFunctionObject *f)
{
    PyObject *defaults = f->func_defaults ? f->func_defaults : Py_None;
    PyObject *kwdefaults = f->func_kwdefaults ? f->func_kwdefaults : Py_None;
    return add(b, COND_FUNC, (PyObject *)f, f->func_code, defaults, kwdefaults);
}

/* ("func", function): its code, defaults and keyword defaults stay as they are now. */
static int
build_func(Build *b, PyObject *recipe)
{
    if (check_arity(recipe, 1, 1) < 0) {
        return -1;
    }
    PyObject *f = PyTuple_GET_ITEM(recipe, 1);
    if (!PyFunction_Check(f)) {
        PyErr_Format(PyExc_TypeError, "GuardFunc needs a Python function, got %.100s", Py_TYPE(f)->tp_name);
        return -1;
    }
    return add_function(b, (PyFunctionObject *)f);
}

/* ("type_attr", type, *names): each attribute, along the MRO, stays the object it is now. */
static int
build_type_attr(Build *b, PyObject *recipe)
{
    if (check_arity(recipe, 2, -1) < 0) {
        return -1;
    }
    PyObject *type = PyTuple_GET_ITEM(recipe, 1);
    if (!PyType_Check(type)) {
        PyErr_Format(PyExc_TypeError, "GuardTypeAttr needs a type, got %.100s", Py_TYPE(type)->tp_name);
        return -1;
    }
    for (Py_ssize_t i = 2; i < PyTuple_GET_SIZE(recipe); i++) {
        PyObject *name = PyTuple_GET_ITEM(recipe, i);
        int error;
        PyObject *value = check_name(name, recipe) < 0 ? NULL : type_lookup((PyTypeObject *)type, name, &error);
        if (value == NULL) {
            if (!PyErr_Occurred()) {
                PyErr_Format(PyExc_ValueError, "GuardTypeAttr: %s has no attribute %R",
                             ((PyTypeObject *)type)->tp_name, name);
            }
            return -1;
        }
        if (add(b, COND_TYPE_ATTR, type, name, value, NULL) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ("arg_type", index, types): checked inline by the specialized code; no condition. */
static int
build_arg_type(Build *b, PyObject *recipe)
{
    if (check_arity(recipe, 2, 2) < 0) {
        return -1;
    }
    PyObject *index = PyTuple_GET_ITEM(recipe, 1), *types = PyTuple_GET_ITEM(recipe, 2);
    if (!PyLong_CheckExact(index) || PyLong_AsSsize_t(index) < 0 || !PyTuple_Check(types)
        || PyTuple_GET_SIZE(types) == 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%R: (\"arg_type\", index >= 0, (type, ...))", recipe);
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(types); i++) {
        if (!PyType_Check(PyTuple_GET_ITEM(types, i))) {
            PyErr_Format(PyExc_TypeError, "%R: (\"arg_type\", index >= 0, (type, ...))", recipe);
            return -1;
        }
    }
    return 0;
}

/* ("callee", name): the global name keeps the function it holds now, whose code and defaults stay
 * as they are now (__globals__ and __closure__ are read-only).  Not a Python function now: never. */
static int
build_callee(Build *b, PyObject *recipe)
{
    if (check_arity(recipe, 1, 1) < 0) {
        return -1;
    }
    PyObject *name = PyTuple_GET_ITEM(recipe, 1);
    if (check_name(name, recipe) < 0) {
        return -1;
    }
    PyObject *f = PyDict_GetItemWithError(b->globals, name);  /* borrowed */
    if (f == NULL && PyErr_Occurred()) {
        return -1;
    }
    if (f == NULL || !PyFunction_Check(f)) {
        return add_never(b, recipe, "the name is not bound to a Python function");
    }
    if (add(b, COND_DICT_IS, b->globals, name, f, NULL) < 0) {
        return -1;
    }
    return add_function(b, (PyFunctionObject *)f);
}

/* ("class_attrs", class_name, *attributes): the global name keeps its class (metaclass type); each
 * attribute resolves along the MRO to what it resolves to now (a Python function keeps its code
 * and defaults); __getattribute__ stays object's
 * and no __getattr__ appears.  Not such a class, or an attribute missing now: never. */
static int add_generic_attribute_access(Build *b, PyObject *cls);

static int
build_class_attrs(Build *b, PyObject *recipe)
{
    int error;
    PyObject *cls = class_and_names(b, recipe, &error);
    if (cls == NULL) {
        return error ? -1 : 0;
    }
    PyTypeObject *t = (PyTypeObject *)cls;
    for (Py_ssize_t i = 2; i < PyTuple_GET_SIZE(recipe); i++) {
        PyObject *name = PyTuple_GET_ITEM(recipe, i);
        PyObject *value = type_lookup(t, name, &error);
        if (value == NULL) {
            return error ? -1 : add_never(b, recipe, "an attribute is missing");
        }
        if (add(b, COND_TYPE_ATTR, cls, name, value, NULL) < 0) {
            return -1;
        }
        /* a Python function: its code and defaults too (its body may be inlined) */
        if (PyFunction_Check(value) && add_function(b, (PyFunctionObject *)value) < 0) {
            return -1;
        }
    }
    return add_generic_attribute_access(b, cls);
}

/* ("class_attrs_absent", class_name, *names): the global name keeps its class (metaclass type),
 * no class of its MRO gains one of the names, __getattribute__ stays object's and no __getattr__
 * appears: loading such a name from an instance runs no Python code (the instance's own value,
 * or AttributeError).  Not such a class, or a name found along the MRO now: never. */
static int
build_class_attrs_absent(Build *b, PyObject *recipe)
{
    int error;
    PyObject *cls = class_and_names(b, recipe, &error);
    if (cls == NULL) {
        return error ? -1 : 0;
    }
    for (Py_ssize_t i = 2; i < PyTuple_GET_SIZE(recipe); i++) {
        PyObject *name = PyTuple_GET_ITEM(recipe, i);
        if (type_lookup((PyTypeObject *)cls, name, &error) != NULL) {
            return add_never(b, recipe, "a class of the MRO has the attribute");
        }
        if (error) {
            return -1;
        }
        if (add(b, COND_TYPE_ATTR_ABSENT, cls, name, NULL, NULL) < 0) {
            return -1;
        }
    }
    return add_generic_attribute_access(b, cls);
}

/* The conditions both class builders end with: __getattribute__ stays object's, no __getattr__
 * appears along the MRO. */
static int
add_generic_attribute_access(Build *b, PyObject *cls)
{
    int error;
    PyObject *getattribute = PyUnicode_InternFromString("__getattribute__");
    PyObject *getattr = PyUnicode_InternFromString("__getattr__");
    PyObject *generic = getattribute ? type_lookup(&PyBaseObject_Type, getattribute, &error) : NULL;
    int r = -1;
    if (generic != NULL && getattr != NULL) {
        r = add(b, COND_TYPE_ATTR, cls, getattribute, generic, NULL) < 0
            || add(b, COND_TYPE_ATTR_ABSENT, cls, getattr, NULL, NULL) < 0 ? -1 : 0;
    }
    else if (!PyErr_Occurred()) {
        PyErr_SetString(PyExc_RuntimeError, "object has no __getattribute__");
    }
    Py_XDECREF(getattribute);
    Py_XDECREF(getattr);
    return r;
}

/* ("instance_class", class_name): the global name keeps its class (metaclass type), and no
 * instance of the class has its __class__ assigned (for good once one has): code that checked
 * `type(x) is Class` at its entry may go on assuming it.  Not such a class now: never. */
static int
build_instance_class(Build *b, PyObject *recipe)
{
    if (check_arity(recipe, 1, 1) < 0 || check_name(PyTuple_GET_ITEM(recipe, 1), recipe) < 0) {
        return -1;
    }
    int error;
    PyObject *cls = plain_class(b, recipe, PyTuple_GET_ITEM(recipe, 1), &error);
    if (cls == NULL) {
        return error ? -1 : 0;
    }
    return add(b, COND_INSTANCE_CLASS, cls, NULL, NULL, NULL);
}

/* ("instance_attrs_absent", class_name, *names): the global name keeps its class (metaclass
 * type), and no instance of it that passed the runtime's unshadowed() check gains one of the
 * names as an instance attribute (for good once one has): code that checked at its entry that an
 * object's dict lacks them may call the class's methods of those names directly.  Not such a
 * class now: never. */
static int
build_instance_attrs_absent(Build *b, PyObject *recipe)
{
    int error;
    PyObject *cls = class_and_names(b, recipe, &error);
    if (cls == NULL) {
        return error ? -1 : 0;
    }
    for (Py_ssize_t i = 2; i < PyTuple_GET_SIZE(recipe); i++) {
        if (add(b, COND_INSTANCE_ATTR_ABSENT, cls, PyTuple_GET_ITEM(recipe, i), NULL, NULL) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ("static_callee", class_name, attribute): the global name keeps its class (metaclass type), the
 * attribute resolves along the MRO to a staticmethod of the same function (COND_TYPE_ATTR holds a
 * staticmethod through its function: conditions.c), which keeps its code and defaults.  Not such
 * a class, or not exactly a staticmethod of a Python function whose code is named
 * class_name.attribute (what the class body's def made, not something a hook put there while the
 * class was built): never. */
static int
build_static_callee(Build *b, PyObject *recipe)
{
    if (check_arity(recipe, 2, 2) < 0 || check_name(PyTuple_GET_ITEM(recipe, 1), recipe) < 0
        || check_name(PyTuple_GET_ITEM(recipe, 2), recipe) < 0) {
        return -1;
    }
    int error;
    PyObject *class_name = PyTuple_GET_ITEM(recipe, 1), *name = PyTuple_GET_ITEM(recipe, 2);
    PyObject *cls = plain_class(b, recipe, class_name, &error);
    if (cls == NULL) {
        return error ? -1 : 0;
    }
    PyObject *sm = type_lookup((PyTypeObject *)cls, name, &error);  /* borrowed */
    if (sm == NULL) {
        return error ? -1 : add_never(b, recipe, "the attribute is missing");
    }
    if (!Py_IS_TYPE(sm, &PyStaticMethod_Type)) {
        return add_never(b, recipe, "the attribute is not a staticmethod");
    }
    Py_INCREF(sm);
    PyObject *f = static_function(sm);
    PyObject *qualname = PyUnicode_FromFormat("%U.%U", class_name, name);
    int r = -1;
    if (qualname != NULL) {
        if (f == NULL || !PyFunction_Check(f)) {
            r = add_never(b, recipe, "the staticmethod does not wrap a Python function");
        }
        else {
            PyObject *code = PyFunction_GET_CODE(f);
            int same = PyUnicode_Compare(((PyCodeObject *)code)->co_qualname, qualname) == 0;
            if (PyErr_Occurred()) {
                r = -1;
            }
            else if (!same) {
                r = add_never(b, recipe, "the staticmethod's function is not the class body's def");
            }
            else {
                r = add(b, COND_TYPE_ATTR, cls, name, sm, NULL) < 0 ? -1 : add_function(b, (PyFunctionObject *)f);
            }
        }
    }
    Py_XDECREF(f);
    Py_XDECREF(qualname);
    Py_DECREF(sm);
    return r;
}

/* ("class_constant", class_name, attribute, value): the global name keeps its class (metaclass
 * type) and the attribute resolves along the MRO to the same constant.  Not such a class: never. */
static int
build_class_constant(Build *b, PyObject *recipe)
{
    if (check_name_attribute_constant(recipe) < 0) {
        return -1;
    }
    int error;
    PyObject *cls = plain_class(b, recipe, PyTuple_GET_ITEM(recipe, 1), &error);
    if (cls == NULL) {
        return error ? -1 : 0;
    }
    return add(b, COND_TYPE_ATTR_CONST, cls, PyTuple_GET_ITEM(recipe, 2), PyTuple_GET_ITEM(recipe, 3), NULL);
}

/* ("module_constant", module_name, attribute, value): the global name keeps the module object it
 * holds now (exactly a module: no subclass defining the attribute's lookup) and the module's
 * __dict__ binds the attribute to the same constant (or waits for it).  Not a module now: never. */
static int
build_module_constant(Build *b, PyObject *recipe)
{
    if (check_name_attribute_constant(recipe) < 0) {
        return -1;
    }
    PyObject *name = PyTuple_GET_ITEM(recipe, 1);
    PyObject *module = PyDict_GetItemWithError(b->globals, name);  /* borrowed */
    if (module == NULL && PyErr_Occurred()) {
        return -1;
    }
    if (module == NULL || !PyModule_CheckExact(module)) {
        return add_never(b, recipe, "the name is not bound to a module");
    }
    PyObject *dict = PyModule_GetDict(module);  /* borrowed; never NULL for a module object */
    if (dict == NULL || !PyDict_CheckExact(dict)) {
        return add_never(b, recipe, "the module has no namespace dict");
    }
    if (add(b, COND_DICT_IS, b->globals, name, module, NULL) < 0) {
        return -1;
    }
    return add(b, COND_DICT_CONST, dict, PyTuple_GET_ITEM(recipe, 2), PyTuple_GET_ITEM(recipe, 3), NULL);
}

/* ----------------------------------------------------------------------------- dispatch ---- */

static int
build_kind(Build *b, GuardKind kind, PyObject *recipe)
{
    switch (kind) {
    case GUARD_ARG_TYPE:
        return build_arg_type(b, recipe);
    case GUARD_BUILTINS:
        return build_builtins(b, recipe);
    case GUARD_CALLEE:
        return build_callee(b, recipe);
    case GUARD_CLASS_ATTRS:
        return build_class_attrs(b, recipe);
    case GUARD_CLASS_ATTRS_ABSENT:
        return build_class_attrs_absent(b, recipe);
    case GUARD_CLASS_CONSTANT:
        return build_class_constant(b, recipe);
    case GUARD_DICT:
        return build_dict(b, recipe);
    case GUARD_FUNC:
        return build_func(b, recipe);
    case GUARD_GLOBALS:
        return build_globals(b, recipe);
    case GUARD_INSTANCE_ATTRS_ABSENT:
        return build_instance_attrs_absent(b, recipe);
    case GUARD_INSTANCE_CLASS:
        return build_instance_class(b, recipe);
    case GUARD_MODULE_CONSTANT:
        return build_module_constant(b, recipe);
    case GUARD_STATIC_CALLEE:
        return build_static_callee(b, recipe);
    case GUARD_TYPE_ATTR:
        return build_type_attr(b, recipe);
    }
    Py_UNREACHABLE();
}

/* The kind a recipe names.  Names in emitted code are interned constants, so most comparisons
 * end at the first differing character. */
static int
recipe_kind(PyObject *recipe, GuardKind *kind)
{
    if (!PyTuple_Check(recipe) || PyTuple_GET_SIZE(recipe) == 0
        || !PyUnicode_Check(PyTuple_GET_ITEM(recipe, 0))) {
        PyErr_Format(PyExc_TypeError, "a guard recipe is a tuple (kind, *args), got %R", recipe);
        return -1;
    }
    PyObject *name = PyTuple_GET_ITEM(recipe, 0);
    for (int k = 0; k < N_GUARD_KINDS; k++) {
        if (PyUnicode_CompareWithASCIIString(name, GUARD_KIND_NAMES[k]) == 0) {
            *kind = (GuardKind)k;
            return 0;
        }
    }
    PyErr_Format(PyExc_ValueError, "unknown guard kind %R", name);
    return -1;
}

int
guard_conditions(State *st, PyObject *recipe, PyObject *globals, PyObject *builtins, PyObject *out)
{
    GuardKind kind;
    if (!PyDict_Check(globals) || !PyDict_Check(builtins)) {
        PyErr_SetString(PyExc_TypeError, "a namespace is two dicts: globals and builtins");
        return -1;
    }
    if (recipe_kind(recipe, &kind) < 0) {
        return -1;
    }
    Build b = {.st = st, .globals = globals, .builtins = builtins, .out = out};
    return build_kind(&b, kind, recipe);
}

PyObject *
guard_kind_names(void)
{
    PyObject *names = PyTuple_New(N_GUARD_KINDS);
    for (int k = 0; names != NULL && k < N_GUARD_KINDS; k++) {
        PyObject *name = PyUnicode_InternFromString(GUARD_KIND_NAMES[k]);
        if (name == NULL) {
            Py_CLEAR(names);
            break;
        }
        PyTuple_SET_ITEM(names, k, name);
    }
    return names;
}
