/* Scalar replacement (fatopt/passes/scalar_replacement.py) keeps the attributes of an object the
 * function made, `v = C(a, b)`, in locals instead of making it, while only their values are
 * read. When the specialization's validity flag fails later in the frame, the code as written
 * runs on and needs the object itself: this makes it as plain Python had it at that point, an
 * instance of the class the function made it from whose __dict__ holds what C.__init__ stored
 * (the guards held then: that __init__ only stored those values), in the order it stored them.
 * Made as object.__new__ makes an instance (tp_alloc), the values put straight into its
 * __dict__: no __init__, __setattr__ or descriptor of the class as it is now runs, since plain
 * Python ran them (as they were then) when it made the object. */
#include "materialize.h"

PyObject *
materialize(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3 || !PyType_Check(args[0]) || !PyTuple_Check(args[1]) || !PyTuple_Check(args[2])
        || PyTuple_GET_SIZE(args[1]) != PyTuple_GET_SIZE(args[2])) {
        PyErr_SetString(PyExc_TypeError, "materialize(cls, names, values): a class and two tuples of one length");
        return NULL;
    }
    PyTypeObject *cls = (PyTypeObject *)args[0];
    PyObject *names = args[1], *values = args[2];
    if (cls->tp_alloc == NULL) {
        PyErr_Format(PyExc_TypeError, "cannot make an instance of %R", cls);
        return NULL;
    }
    PyObject *obj = cls->tp_alloc(cls, 0);
    if (obj == NULL) {
        return NULL;
    }
    if (PyTuple_GET_SIZE(names) == 0) {
        return obj;
    }
    PyObject *dict = PyObject_GenericGetDict(obj, NULL);
    if (dict == NULL) {
        Py_DECREF(obj);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names); i++) {
        if (PyDict_SetItem(dict, PyTuple_GET_ITEM(names, i), PyTuple_GET_ITEM(values, i)) < 0) {
            Py_DECREF(dict);
            Py_DECREF(obj);
            return NULL;
        }
    }
    Py_DECREF(dict);
    return obj;
}
