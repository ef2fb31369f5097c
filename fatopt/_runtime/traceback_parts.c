/* Helpers of the traceback editors (see traceback_parts.h). */
#include "traceback_parts.h"

Span
tb_position_at(PyCodeObject *code, int offset)
{
    Span span;
    if (!PyCode_Addr2Location(code, offset, &span.line, &span.col, &span.end_line, &span.end_col)) {
        span.line = span.col = -1;
    }
    return span;
}

int
tb_parse_span(PyObject *obj, Span *span)
{
    if (!PyTuple_Check(obj)) {
        PyErr_SetString(PyExc_TypeError, "a span is a tuple (line, end_line, col, end_col)");
        return -1;
    }
    if (!PyArg_ParseTuple(obj, "iiii;a span is (line, end_line, col, end_col)",
                          &span->line, &span->end_line, &span->col, &span->end_col)) {
        return -1;
    }
    return 0;
}

static int
same_span(const Span *a, const Span *b)
{
    return a->line == b->line && a->end_line == b->end_line && a->col == b->col && a->end_col == b->end_col;
}

int
tb_offset_at(PyCodeObject *code, Py_ssize_t code_size, const Span *span)
{
    for (int offset = 0; offset < code_size; offset += 2) {
        Span here = tb_position_at(code, offset);
        if (same_span(&here, span)) {
            return offset;
        }
    }
    return -1;
}

int
tb_offset_before(PyCodeObject *code, int offset, const Span *spans, Py_ssize_t n)
{
    /* backwards from `offset`: the instruction sought is near it, and each lookup decodes the
     * location table from its start (one pass over co_positions() measured far slower) */
    for (; offset >= 0; offset -= 2) {
        Span here = tb_position_at(code, offset);
        for (Py_ssize_t i = 0; i < n; i++) {
            if (same_span(&here, &spans[i])) {
                return offset;
            }
        }
    }
    return -1;
}

PyObject *
tb_new_entry(PyObject *next, PyObject *frame, int lasti, int lineno)
{
    return PyObject_CallFunction((PyObject *)&PyTraceBack_Type, "OOii",
                                 next == NULL ? Py_None : next, frame, lasti, lineno);
}

/* the code-extra slot of a renamed code: the code it was renamed from (strong) */
static void
release_origin(void *origin)
{
    Py_XDECREF((PyObject *)origin);
}

Py_ssize_t
tb_code_mark_index(void)
{
    Py_ssize_t index = PyUnstable_Eval_RequestCodeExtraIndex(release_origin);
    if (index < 0 && !PyErr_Occurred()) {
        PyErr_SetString(PyExc_RuntimeError, "fatopt._guards: no code-extra index left");
    }
    return index;
}

int
tb_renamed_from(Py_ssize_t mark, PyCodeObject *code, PyObject *frame)
{
    PyCodeObject *other = PyFrame_GetCode((PyFrameObject *)frame);
    void *origin = NULL;
    if (other != code && PyUnstable_Code_GetExtra((PyObject *)other, mark, &origin) < 0) {
        PyErr_Clear();
        origin = NULL;
    }
    Py_DECREF(other);
    return origin == (void *)code;
}

PyObject *
tb_renamed_frame(Py_ssize_t mark, PyFrameObject *caller, PyCodeObject *code, PyObject *name, PyObject *qualname)
{
    PyObject *result = NULL, *replace = NULL, *kwargs = NULL, *renamed = NULL;
    PyObject *empty = PyTuple_New(0);
    PyObject *globals = PyFrame_GetGlobals(caller);
    if (empty == NULL || globals == NULL) {
        goto done;
    }
    replace = PyObject_GetAttrString((PyObject *)code, "replace");
    if (replace == NULL) {
        goto done;
    }
    kwargs = Py_BuildValue("{s:O,s:O}", "co_name", name, "co_qualname", qualname);
    if (kwargs == NULL) {
        goto done;
    }
    renamed = PyObject_Call(replace, empty, kwargs);
    if (renamed == NULL) {
        goto done;
    }
    if (PyUnstable_Code_SetExtra(renamed, mark, Py_NewRef(code)) < 0) {
        Py_DECREF(code);
        goto done;
    }
    result = (PyObject *)PyFrame_New(PyThreadState_Get(), (PyCodeObject *)renamed, globals, NULL);
done:
    Py_XDECREF(empty);
    Py_XDECREF(globals);
    Py_XDECREF(replace);
    Py_XDECREF(kwargs);
    Py_XDECREF(renamed);
    return result;
}

PyObject *
tb_stop_iteration_error(PyObject *exc, const char *message)
{
    PyObject *error = PyObject_CallFunction(PyExc_RuntimeError, "s", message);
    if (error == NULL) {
        return NULL;
    }
    PyException_SetCause(error, Py_NewRef(exc));
    PyException_SetContext(error, Py_NewRef(exc));
    return error;
}

PyObject *
tb_own_entry(PyObject *exc, PyFrameObject *frame)
{
    PyObject *tb = PyException_GetTraceback(exc);
    if (tb != NULL && (!PyTraceBack_Check(tb) || frame == NULL
                       || ((PyTracebackObject *)tb)->tb_frame != frame)) {
        Py_CLEAR(tb);
    }
    return tb;
}

int
tb_raised_through_call(PyObject *exc, PyFrameObject *frame, int call_offset, int call_line,
                       PyObject *inner, const char *stop_message)
{
    int status = -1;
    PyObject *outer = NULL, *replacement = NULL;
    if (stop_message != NULL && PyErr_GivenExceptionMatches(exc, PyExc_StopIteration)) {
        /* plain: the RuntimeError starts in the caller (the callee re-raises it, which adds no
         * entry); the StopIteration keeps the callee's entries */
        replacement = tb_stop_iteration_error(exc, stop_message);
        outer = tb_new_entry(NULL, (PyObject *)frame, call_offset, call_line);
        if (replacement == NULL || outer == NULL
            || PyException_SetTraceback(exc, inner) < 0
            || PyException_SetTraceback(replacement, outer) < 0) {
            goto done;
        }
        PyErr_SetHandledException(replacement);  /* what the bare `raise` raises */
        status = 0;
        goto done;
    }
    outer = tb_new_entry(inner, (PyObject *)frame, call_offset, call_line);
    if (outer == NULL || PyException_SetTraceback(exc, outer) < 0) {
        goto done;
    }
    status = 0;
done:
    Py_XDECREF(outer);
    Py_XDECREF(replacement);
    return status;
}
