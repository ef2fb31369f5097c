/* Tracebacks of code that fatopt inlined into its caller.
 *
 * Plain Python runs `eval_A(i, j)` in a frame of its own, so an exception raised in eval_A shows
 * two entries: the caller at the call, then `eval_A` at the raising line.  Inlined, the body runs
 * in the caller's frame.  The optimizer wraps the statement holding the inlined code in
 *
 *     try: <statement>
 *     except: __fatopt_runtime__.inlined_raised(NAME, LINES, STOP_MESSAGE[, SITES]); raise
 *
 * (free until something raises) and gives the handler's call the position of the call it
 * replaced, so the handler's own CALL instruction is an instruction at that position.  A callee
 * inlined at several calls of one statement has one handler, and SITES, the positions
 * ((line, end_line, col, end_col), ...) of those calls: the call a raising instruction belongs
 * to is the one whose position the nearest instruction before it has (each copy comes right
 * after its call's own instructions -- the validity flag's test, the call as written -- and
 * no copy holds another's; fatopt.passes.inline_functions makes no other).  A copy may hold
 * copies of its own callees, whose handlers run first: they move the entry to their own call
 * (after the statement's code), so the raising instruction is then the innermost callee
 * entry's (a renamed frame of this code: raising_offset).  This function
 * edits the handled exception so that the bare `raise` sends on what plain Python would have
 * raised:
 *
 *  - the exception's first traceback entry must be the current frame (raised in the statement);
 *    LINES, (first, last) of the callee's def, says whether the raising instruction (tb_lasti)
 *    is the callee's code: its line must be in that range (None: anything raised counts, for a
 *    function inlined into itself, whose lines are the caller's); otherwise it is left alone;
 *  - the entry keeps its frame but moves to the handler's CALL instruction (the call's line and,
 *    on 3.13, its carets; with SITES, to that instruction at the call's position), and is
 *    followed by a new entry for a new frame of the current code renamed NAME, at the raising
 *    instruction (positions give the text plain Python shows), then the rest of the chain (NAME
 *    may be qualified, "Cls.helper": the new code's co_qualname, its last part the co_name).
 *    Inlining inside inlined code composes: the inner handler runs first and leaves the entry at
 *    its own call, which is in the outer callee's lines;
 *  - if STOP_MESSAGE is a str and the exception a StopIteration, it is replaced as PEP 479 does in
 *    a generator or coroutine: RuntimeError(STOP_MESSAGE), its __cause__ and __context__ the
 *    StopIteration (which keeps the callee's entries; the RuntimeError starts at the call).
 *
 * The callee's frame has no locals (docs/semantics.md).  If anything here fails, the exception
 * is left as it was and the error cleared: this runs inside an except clause and must never
 * replace the user's exception with its own.
 */
#include "inline_traceback.h"
#include "traceback_parts.h"

/* The offset of the nearest instruction at or before `lasti` at one of `sites` (a tuple of
 * (line, end_line, col, end_col)); -1 if none, or a site is malformed (no exception set). */
static int
site_before(PyCodeObject *code, int lasti, PyObject *sites)
{
    Py_ssize_t n = PyTuple_GET_SIZE(sites);
    Span *spans = PyMem_New(Span, n > 0 ? n : 1);
    if (spans == NULL) {
        return -1;
    }
    int found = -1;
    Py_ssize_t parsed = 0;
    while (parsed < n && tb_parse_span(PyTuple_GET_ITEM(sites, parsed), &spans[parsed]) == 0) {
        parsed++;
    }
    if (parsed == n) {
        found = tb_offset_before(code, lasti, spans, n);
    }
    PyErr_Clear();
    PyMem_Free(spans);
    return found;
}

/* The offset of the instruction that raised: the entry's own, or, when an inner handler of the
 * statement already moved the entry to its call, that of the innermost callee entry it added
 * (entries of renamed frames of this very code follow the entry then). */
static int
raising_offset(Py_ssize_t mark, PyCodeObject *code, PyTracebackObject *entry)
{
    int lasti = entry->tb_lasti;
    for (PyTracebackObject *next = entry->tb_next;
         next != NULL && tb_renamed_from(mark, code, (PyObject *)next->tb_frame); next = next->tb_next) {
        lasti = next->tb_lasti;
    }
    return lasti;
}

/* 0 when done (changed or left alone), -1 with an exception set. */
static int
reshape(Py_ssize_t mark, PyObject *exc, PyObject *name, int has_lines, int first, int last,
        const char *stop_message, PyObject *sites)
{
    int status = -1;
    PyFrameObject *frame = PyEval_GetFrame();  /* borrowed: the function running the handler */
    PyObject *tb = tb_own_entry(exc, frame);
    PyObject *callee_frame = NULL, *inner = NULL, *short_name = NULL;
    PyCodeObject *code = NULL;
    if (tb == NULL) {
        status = 0;  /* not raised in this frame's statement */
        goto done;
    }
    PyTracebackObject *entry = (PyTracebackObject *)tb;
    code = PyFrame_GetCode(frame);
    int lasti = entry->tb_lasti;
    int line = PyCode_Addr2Line(code, lasti);
    if (has_lines && (line < first || line > last)) {
        status = 0;  /* the caller's own code (an argument, another part of the statement) */
        goto done;
    }
    /* the handler's call, at the call's position; with several calls, one at the position of
     * the call whose copy raised */
    int call_offset = sites == NULL ? PyFrame_GetLasti(frame)
                                    : site_before(code, raising_offset(mark, code, entry), sites);
    if (call_offset < 0) {
        status = 0;
        goto done;
    }
    int call_line = PyCode_Addr2Line(code, call_offset);
    /* NAME is the callee's qualified name ("helper", "Cls.helper" for a staticmethod): its
     * code's co_qualname; co_name is its last part */
    Py_ssize_t dot = PyUnicode_FindChar(name, '.', 0, PyUnicode_GET_LENGTH(name), -1);
    if (dot == -2) {
        goto done;
    }
    short_name = dot < 0 ? Py_NewRef(name) : PyUnicode_Substring(name, dot + 1, PyUnicode_GET_LENGTH(name));
    if (short_name == NULL) {
        goto done;
    }
    callee_frame = tb_renamed_frame(mark, frame, code, short_name, name);
    if (callee_frame == NULL) {
        goto done;
    }
    inner = tb_new_entry((PyObject *)entry->tb_next, callee_frame, lasti, line);
    if (inner == NULL) {
        goto done;
    }
    status = tb_raised_through_call(exc, frame, call_offset, call_line, inner, stop_message);
done:
    Py_XDECREF(tb);
    Py_XDECREF((PyObject *)code);
    Py_XDECREF(callee_frame);
    Py_XDECREF(inner);
    Py_XDECREF(short_name);
    return status;
}

PyObject *
inlined_raised(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    int first = 0, last = 0;
    const char *stop_message = NULL;
    if (nargs != 3 && nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "inlined_raised() takes 3 or 4 arguments");
        return NULL;
    }
    PyObject *name = args[0], *lines = args[1], *stop = args[2];
    PyObject *sites = nargs == 4 && args[3] != Py_None ? args[3] : NULL;
    if (sites != NULL && !PyTuple_Check(sites)) {
        PyErr_SetString(PyExc_TypeError, "inlined_raised(): sites must be a tuple of positions or None");
        return NULL;
    }
    if (!PyUnicode_Check(name)) {
        PyErr_SetString(PyExc_TypeError, "inlined_raised(): name must be a str");
        return NULL;
    }
    if (lines != Py_None && !PyArg_ParseTuple(lines, "ii;lines is (first_line, last_line) or None", &first, &last)) {
        return NULL;
    }
    if (stop != Py_None) {
        if (!PyUnicode_Check(stop)) {
            PyErr_SetString(PyExc_TypeError, "inlined_raised(): stop_message must be a str or None");
            return NULL;
        }
        stop_message = PyUnicode_AsUTF8(stop);
        if (stop_message == NULL) {
            return NULL;
        }
    }
    PyObject *exc = PyErr_GetHandledException();
    if (exc != NULL && exc != Py_None
        && reshape(((State *)PyModule_GetState(module))->code_mark, exc, name, lines != Py_None, first, last,
                   stop_message, sites) < 0) {
        PyErr_Clear();  /* leave the user's exception as it was */
    }
    Py_XDECREF(exc);
    Py_RETURN_NONE;
}

PyObject *
raise_exception(PyObject *module, PyObject *exc)
{
    (void)module;
    /* what the interpreter's `raise exc` does (ceval's do_raise, without a cause) */
    PyObject *value;
    if (PyExceptionClass_Check(exc)) {
        value = PyObject_CallNoArgs(exc);
        if (value == NULL) {
            return NULL;
        }
        if (!PyExceptionInstance_Check(value)) {
            PyErr_Format(PyExc_TypeError, "calling %R should have returned an instance of BaseException, not %R",
                         exc, Py_TYPE(value));
            Py_DECREF(value);
            return NULL;
        }
    }
    else if (PyExceptionInstance_Check(exc)) {
        value = Py_NewRef(exc);
    }
    else {
        PyErr_SetString(PyExc_TypeError, "exceptions must derive from BaseException");
        return NULL;
    }
    PyErr_SetObject((PyObject *)Py_TYPE(value), value);  /* chains the handled exception as __context__ */
    Py_DECREF(value);
    return NULL;
}
