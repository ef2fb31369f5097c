/* An exception leaving a generator expression that fatopt turned into a comprehension: give its
 * traceback the shape plain Python gives it (see genexpr_traceback.c). */
#ifndef FATOPT_GENEXPR_TRACEBACK_H
#define FATOPT_GENEXPR_TRACEBACK_H

#include "state.h"

/* genexpr_raised(genexpr_span, iter_span, call_span): called from the handler around the
 * statement, before a bare `raise`. */
PyObject *genexpr_raised(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

#endif
