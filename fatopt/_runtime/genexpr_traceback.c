/* Tracebacks of generator expressions that fatopt turned into comprehensions.
 *
 * Plain Python runs `set(f(x) for x in xs)` in a frame of its own, so an exception raised by
 * f(x) shows two entries: the caller at the call of set(), then `<genexpr>` at f(x).  The
 * comprehension runs in the caller's frame.  The optimizer wraps the statement in
 *
 *     try: <statement>
 *     except BaseException: __fatopt_runtime__.genexpr_raised(GEN, ITER, CALL); raise
 *
 * (the try costs nothing until something raises) and this function edits the handled exception
 * so that the bare `raise` sends on what plain Python would have raised.  Which part of the
 * generator expression raised is read from the caller's traceback entry: the instruction at
 * tb_lasti, its opcode and source position (the spans are the generator expression's, its
 * outermost iterable's and the consumer call's, each (line, end_line, col, end_col)):
 *
 *  - outside GEN: not ours, left alone;
 *  - the outermost iterable and the iter() call on it (GET_ITER) run in the caller in plain
 *    Python too: left alone;
 *  - SET_ADD / LIST_APPEND (an unhashable element) happen inside set()/list() in plain Python:
 *    the caller's entry is moved to CALL;
 *  - anything else (the element, a condition, FOR_ITER calling __next__) ran in the generator:
 *    the caller's entry is moved to CALL and followed by a `<genexpr>` entry at the raising
 *    instruction.  Its frame is a new frame of the caller's code renamed `<genexpr>`, so the
 *    positions of the raising instruction (hence the text) are those of plain Python; its locals
 *    are empty (docs/semantics.md).  A StopIteration there becomes, as PEP 479 makes it in a
 *    generator, RuntimeError("generator raised StopIteration") with the StopIteration as its
 *    __cause__ and __context__.
 *
 * An instruction at CALL's position always exists: the optimizer gives the handler's call that
 * position.  If anything here fails, the exception is left as it was (the error is cleared):
 * this runs inside an except clause and must never replace the user's exception with its own.
 */
#include "genexpr_traceback.h"
#include "traceback_parts.h"

#include <opcode.h>

static int
span_within(const Span *inner, const Span *outer)
{
    if (inner->line < 0 || inner->col < 0) {
        return 0;  /* no position */
    }
    int starts_after = inner->line > outer->line
                       || (inner->line == outer->line && inner->col >= outer->col);
    int ends_before = inner->end_line < outer->end_line
                      || (inner->end_line == outer->end_line && inner->end_col <= outer->end_col);
    return starts_after && ends_before;
}

/* A frame whose code is `code` renamed as its generator expression would be named. */
static PyObject *
genexpr_frame(Py_ssize_t mark, PyFrameObject *caller, PyCodeObject *code)
{
    PyObject *result = NULL;
    PyObject *name = PyUnicode_FromString("<genexpr>");
    PyObject *qualname = PyUnicode_FromFormat("%U.<locals>.<genexpr>", code->co_qualname);
    if (name != NULL && qualname != NULL) {
        result = tb_renamed_frame(mark, caller, code, name, qualname);
    }
    Py_XDECREF(name);
    Py_XDECREF(qualname);
    return result;
}

/* 0 when done (changed or left alone), -1 with an exception set. */
static int
reshape(Py_ssize_t mark, PyObject *exc, const Span *gen, const Span *iter, const Span *call)
{
    int status = -1;
    PyFrameObject *frame = PyEval_GetFrame();  /* borrowed: the function running the handler */
    PyObject *tb = tb_own_entry(exc, frame);
    PyObject *bytecode = NULL, *gframe = NULL, *inner = NULL;
    PyCodeObject *code = NULL;
    if (tb == NULL) {
        status = 0;  /* not raised in this frame's statement */
        goto done;
    }
    PyTracebackObject *entry = (PyTracebackObject *)tb;
    code = PyFrame_GetCode(frame);
    bytecode = PyCode_GetCode(code);  /* de-specialized: base opcodes */
    if (bytecode == NULL) {
        goto done;
    }
    Py_ssize_t size = PyBytes_GET_SIZE(bytecode);
    int lasti = entry->tb_lasti;
    if (lasti < 0 || lasti >= size) {
        status = 0;
        goto done;
    }
    int opcode = (unsigned char)PyBytes_AS_STRING(bytecode)[lasti];
    Span raised = tb_position_at(code, lasti);
    if (!span_within(&raised, gen) || opcode == GET_ITER
        || (opcode != FOR_ITER && span_within(&raised, iter))) {
        status = 0;  /* the caller's own code, in plain Python too */
        goto done;
    }
    int call_offset = tb_offset_at(code, size, call);
    if (call_offset < 0) {
        status = 0;
        goto done;
    }
    PyObject *rest = (PyObject *)entry->tb_next;
    if (opcode == SET_ADD || opcode == LIST_APPEND) {
        status = tb_raised_through_call(exc, frame, call_offset, call->line, rest, NULL);
        goto done;
    }
    gframe = genexpr_frame(mark, frame, code);
    if (gframe == NULL) {
        goto done;
    }
    inner = tb_new_entry(rest, gframe, lasti, entry->tb_lineno);
    if (inner == NULL) {
        goto done;
    }
    status = tb_raised_through_call(exc, frame, call_offset, call->line, inner,
                                    "generator raised StopIteration");
done:
    Py_XDECREF(tb);
    Py_XDECREF((PyObject *)code);
    Py_XDECREF(bytecode);
    Py_XDECREF(gframe);
    Py_XDECREF(inner);
    return status;
}

PyObject *
genexpr_raised(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Span gen, iter, call;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "genexpr_raised() takes 3 spans");
        return NULL;
    }
    if (tb_parse_span(args[0], &gen) < 0 || tb_parse_span(args[1], &iter) < 0
        || tb_parse_span(args[2], &call) < 0) {
        return NULL;
    }
    PyObject *exc = PyErr_GetHandledException();
    Py_ssize_t mark = ((State *)PyModule_GetState(module))->code_mark;
    if (exc != NULL && exc != Py_None && reshape(mark, exc, &gen, &iter, &call) < 0) {
        PyErr_Clear();  /* leave the user's exception as it was */
    }
    Py_XDECREF(exc);
    Py_RETURN_NONE;
}
