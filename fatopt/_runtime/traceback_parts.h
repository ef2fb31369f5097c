/* What the traceback editors (genexpr_traceback.c, inline_traceback.c) share: source positions
 * of instructions, new traceback entries, frames of a renamed code, PEP 479's replacement, and
 * the first and last steps of their handlers (the entry of the running frame; the traceback
 * made to pass through the call). */
#ifndef FATOPT_TRACEBACK_PARTS_H
#define FATOPT_TRACEBACK_PARTS_H

#include "state.h"

#include <frameobject.h>

/* A source position: (line, end_line, col, end_col); line -1: none. */
typedef struct {
    int line, end_line, col, end_col;
} Span;

/* The position of the instruction at byte `offset` of `code`. */
Span tb_position_at(PyCodeObject *code, int offset);

/* `obj`, a tuple (line, end_line, col, end_col), into `span`: 0, or -1 with TypeError set. */
int tb_parse_span(PyObject *obj, Span *span);

/* The byte offset of the first instruction of `code` (`code_size` bytes) at exactly `span`;
 * -1 if none. */
int tb_offset_at(PyCodeObject *code, Py_ssize_t code_size, const Span *span);

/* The byte offset of the nearest instruction at or before `offset` at exactly one of the `n`
 * `spans`; -1 if none. */
int tb_offset_before(PyCodeObject *code, int offset, const Span *spans, Py_ssize_t n);

/* A new traceback entry (`next` may be NULL). */
PyObject *tb_new_entry(PyObject *next, PyObject *frame, int lasti, int lineno);

/* A new frame (globals of `caller`, no locals) of `code` renamed co_name=`name`,
 * co_qualname=`qualname`: the positions of its instructions are those of `code`, so a
 * traceback entry of it at an offset shows the text that offset shows, under the new name.
 * The renamed code holds `code` at the code-extra index `mark` (tb_renamed_from). */
PyObject *tb_renamed_frame(Py_ssize_t mark, PyFrameObject *caller, PyCodeObject *code, PyObject *name,
                           PyObject *qualname);

/* Whether `frame` is one tb_renamed_frame made of `code` (an inner handler's callee entry: its
 * offsets are offsets of `code`); never an error. */
int tb_renamed_from(Py_ssize_t mark, PyCodeObject *code, PyObject *frame);

/* The code-extra index tb_renamed_frame marks its codes with (once per module instance); -1
 * with an exception set. */
Py_ssize_t tb_code_mark_index(void);

/* PEP 479: RuntimeError(message) with `exc` as its __cause__ and __context__. */
PyObject *tb_stop_iteration_error(PyObject *exc, const char *message);

/* `exc`'s traceback (a new reference) if its first entry is of `frame` (the frame running the
 * handler: raised in its statement); NULL, no exception set, otherwise. */
PyObject *tb_own_entry(PyObject *exc, PyFrameObject *frame);

/* Makes the handled `exc`, raised in `frame`, look raised through the call at `call_offset`
 * (`call_line`): its traceback becomes an entry of `frame` at the call followed by `inner` (the
 * callee's entries and the rest; NULL: none).  If `stop_message` is not NULL and `exc` is a
 * StopIteration, the handled exception becomes PEP 479's RuntimeError(stop_message) instead,
 * starting at the call, and `exc` keeps `inner`.  0 when done, -1 with an exception set. */
int tb_raised_through_call(PyObject *exc, PyFrameObject *frame, int call_offset, int call_line,
                           PyObject *inner, const char *stop_message);

#endif
