/* An object that fatopt's scalar replacement did not make, made when the code as written needs
 * it after all (see materialize.c). */
#ifndef FATOPT_MATERIALIZE_H
#define FATOPT_MATERIALIZE_H

#include "state.h"

/* materialize(cls, names, values): a new instance of `cls` whose __dict__ holds names[i] ->
 * values[i], in that order, made as object.__new__ makes it, no __init__ or __setattr__ run. */
PyObject *materialize(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

#endif
