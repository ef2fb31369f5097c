/* An exception leaving code that fatopt inlined into its caller: give its traceback the callee's
 * entry plain Python shows (see inline_traceback.c). */
#ifndef FATOPT_INLINE_TRACEBACK_H
#define FATOPT_INLINE_TRACEBACK_H

#include "state.h"

/* inlined_raised(name, lines, stop_message[, sites]): called from the handler around the statement(s)
 * holding inlined code, before a bare `raise`. */
PyObject *inlined_raised(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

/* raise_exception(exc): raises `exc` as the statement `raise exc` does; the `raise` of a method
 * inlined as one expression (`E if C else raise_exception(X)`), called at the statement's
 * position, so that its traceback entry shows what plain Python shows. */
PyObject *raise_exception(PyObject *module, PyObject *exc);

#endif
