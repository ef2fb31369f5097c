/* _fatopt_importhook: the import hook's warm path, in C (source fatopt/_importhook.c).
 *
 * Every `python -X fatopt` process runs this at start-up and for every source module it
 * imports, so it is written to cost what plain Python's own import costs, and to be invisible:
 *
 *  - No Python frame of fatopt's runs while a module is loaded from fatopt's cache.  Debuggers
 *    (bdb's `skip`), profilers and tracebacks see importlib's frames only, as with plain Python.
 *    When the cache misses, the optimizer (Python) runs with tracing and monitoring suspended.
 *  - Loaders stay plain: FileFinder makes them with a factory that returns an ordinary
 *    `SourceFileLoader` and records its path.  Its `get_code` and `create_module` are
 *    looked up on the class, where `install()` puts two `HookMethod` descriptors; they handle
 *    the recorded modules and call importlib's own methods for every other loader.  A loader's
 *    type, repr and instance dict (which `FileLoader.__eq__` compares, and `ModuleSpec.__eq__`
 *    through it) are exactly plain Python's.
 *  - At start-up it loads no Python module, not even the fatopt package: it is a top-level
 *    module (each module imported at start-up costs about 0.1-0.2 ms besides its content, and
 *    a submodule imports its package first).  The options in the common case (`-X fatopt`,
 *    `PYTHONFATOPT=1`) are read here; anything else is parsed by fatopt.importer.  It also takes
 *    the snapshot of the builtins that fatopt's guards compare with (fatopt._ORIGINAL_BUILTINS),
 *    before sitecustomize or the program can patch one.
 *
 * What a cache miss does (optimize, write the cache) is fatopt.cache_miss; the cache format is
 * fatopt.cache (which reads through `read_cache` here, so there is one reader).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <marshal.h>
#include <stddef.h>
#include <string.h>
#ifndef MS_WINDOWS
#include <sys/stat.h>
#endif

#if PY_VERSION_HEX < 0x030C0000
#error "_fatopt_importhook needs CPython 3.12 or newer"
#endif
#ifndef FATOPT_VERSION
#error "FATOPT_VERSION (fatopt.__version__, a C string) must be defined by the build"
#endif

#ifdef MS_WINDOWS
#    define PATH_SEP '\\'
#else
#    define PATH_SEP '/'
#endif
#define FLAG_HASH 0x1
#define FLAG_CHECK_SOURCE 0x2
#define STAMP_FILE "fatopt/_build_stamp.txt" /* beside this module, in site-packages */

typedef struct {
    int enabled;                /* options installed: registered modules load optimized */
    int verbose;
    /* What became of the modules handled (-X fatopt=stats): served from the cache, optimized now
     * (a miss), loaded plain.  Counting costs an increment per import. */
    Py_ssize_t n_cached, n_optimized, n_plain;
    int runtime_ok;             /* -1 not known yet, 0 the guard runtime cannot load, 1 it can */
    PyObject *bypass;           /* set of thread ids importing the optimizer (their imports load plain) */
    PyObject *tag;              /* str: names this configuration's cache files */
    PyObject *plain_suffix;     /* str: the normal .pyc's ending, ".pyc" or ".opt-N.pyc" (-O) */
    PyObject *exclude;          /* tuple of str: modules (and their submodules) left alone */
    PyObject *quiet;            /* tuple of str: directories (ending with a separator) whose
                                 * modules verbose mode does not log (fatopt.user_code) */
    PyObject *cache_dir;        /* str: fatopt's own cache directory (cache_dir=PATH), or NULL */
    PyObject *path_abspath;     /* importlib's _path_abspath (for cache_dir) */
    Py_ssize_t busy;            /* optimizations running, all threads: the optimizer is dropped
                                 * only at 0 and with no import in progress
                                 * (import_in_progress) */
    int optimizer_used;         /* a cache miss ran since the optimizer was last dropped */
    PyObject *on_gc;            /* _on_gc, bound: in gc.callbacks while the optimizer may be loaded */
    PyObject *registered;       /* set of source paths: modules found by the hooked FileFinders */
    PyObject *stash;            /* dict loader -> code prepared by create_module, or None (plain) */
    PyObject *loaded_plain;     /* list of (loader, name) loaded plain while the optimizer loaded */
    PyObject *source_loader;    /* importlib's SourceFileLoader class */
    PyObject *orig_get_code;    /* SourceLoader.get_code */
    PyObject *orig_create_module; /* _LoaderBasics.create_module */
    PyObject *cache_from_source;
    PyObject *optimization_kwnames; /* ("optimization",), for cache_from_source */
    PyObject *magic;            /* bytes: importlib.util.MAGIC_NUMBER */
    PyObject *imp;              /* the _imp module */
    PyObject *stat;             /* os.stat */
    PyObject *factory;          /* the loader factory of fatopt's FileFinders (a HookMethod) */
    PyObject *original_builtins; /* the builtins dict as it was when this module was loaded */
    PyObject *gettrace;         /* sys.gettrace, sys.getprofile, sys.monitoring.get_tool: the */
    PyObject *getprofile;       /* builtins themselves, taken at load (see "tracers") */
    PyObject *get_tool;
    int told_tracing;           /* verbose mode said once that a tracer makes imports plain */
    int activated;              /* activate() ran (site may process fatopt.pth twice: a venv's
                                 * site-packages can be added both as the venv's and as global) */
    int main_tool;              /* the sys.monitoring tool id watching for the main script, or -1 */
    PyObject *start_optimized;  /* exception type: raised where the plain main script starts */
    PyObject *on_py_start;      /* these module functions, bound */
    PyObject *exit_like_sigint;
    PyObject *main_trampoline;
    int audit_hook_added;       /* the cpython.run_file audit hook is installed (for good) */
    int audit_hook_armed;       /* ... and has not caught the script's start yet */
    /* What main_trampoline runs, set by start_main (see "the main script"). */
    PyObject *armed_code;       /* the optimized module code */
    PyObject *armed_globals;    /* the fresh __main__.__dict__ */
    PyObject *armed_hook;       /* the sys.excepthook to put back */
    PyObject *path_hook;        /* the FileFinder path hook installed, or NULL */
    PyObject *get_code;         /* HookMethod descriptors */
    PyObject *create_module;
    PyTypeObject *hook_method_type;
    /* Attribute names used on every import, made once (see fatopt/_runtime/state.h's State for why). */
    PyObject *str_path, *str_get_data, *str_name, *str_read, *str_close, *str_source_hash, *str_initializing;
} HookState;

static int flag(const char *name);
static void watch_collections(HookState *st);
static int tracing_now(HookState *st);

static inline HookState *
get_state(PyObject *module)
{
    return (HookState *)PyModule_GetState(module);
}

/* An Exception (not a BaseException such as KeyboardInterrupt) is a cache miss, never an
 * import error: returns 0 after clearing it, -1 to let a BaseException through. */
static int
clear_if_exception(void)
{
    if (PyErr_ExceptionMatches(PyExc_Exception)) {
        PyErr_Clear();
        return 0;
    }
    return -1;
}

/* ------------------------------------------------------------------ the cache, read -------- */

static uint32_t
read_le32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] | ((uint32_t)u[1] << 8) | ((uint32_t)u[2] << 16) | ((uint32_t)u[3] << 24);
}

/* The source's hash as a hash-based .pyc stores it (PEP 552). New reference. */
static PyObject *
source_hash(HookState *st, PyObject *source)
{
    const char *m = PyBytes_AS_STRING(st->magic);
    PyObject *key = PyLong_FromUnsignedLong(read_le32(m));
    if (key == NULL) {
        return NULL;
    }
    PyObject *h = PyObject_CallMethodObjArgs(st->imp, st->str_source_hash, key, source, NULL);
    Py_DECREF(key);
    return h;
}

#ifndef MS_WINDOWS
#  if defined(__APPLE__)
#    define MTIME_NS(sb) ((long long)(sb).st_mtimespec.tv_sec * 1000000000LL + (sb).st_mtimespec.tv_nsec)
#  else
#    define MTIME_NS(sb) ((long long)(sb).st_mtim.tv_sec * 1000000000LL + (sb).st_mtim.tv_nsec)
#  endif
#endif

/* The source's mtime as int(os.stat(path).st_mtime) and its size.  A stat call of every import:
 * in C, not through os.stat (whose stat_result costs more than the system call). */
static int
source_stat(HookState *st, PyObject *source_path, unsigned long long *mtime, unsigned long long *size)
{
#ifndef MS_WINDOWS
    PyObject *encoded = PyUnicode_EncodeFSDefault(source_path);
    if (encoded == NULL) {
        return -1;
    }
    struct stat sb;
    int failed = stat(PyBytes_AS_STRING(encoded), &sb) != 0;
    Py_DECREF(encoded);
    if (failed) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, source_path);
        return -1;
    }
    long long seconds = MTIME_NS(sb) / 1000000000LL; /* toward zero, as int() */
    *mtime = (unsigned long long)seconds;
    *size = (unsigned long long)sb.st_size;
    return 0;
#else
    PyObject *sr = PyObject_CallOneArg(st->stat, source_path);
    if (sr == NULL) {
        return -1;
    }
    /* stat_result[8] is st_mtime as an int, [6] st_size */
    *mtime = PyLong_AsUnsignedLongLongMask(PyTuple_GET_ITEM(sr, 8));
    *size = PyLong_AsUnsignedLongLongMask(PyTuple_GET_ITEM(sr, 6));
    Py_DECREF(sr);
    return PyErr_Occurred() ? -1 : 0;
#endif
}

/* Whether `data` (a whole cache file) is valid for the source.  1 valid, 0 not, -1 error. */
static int
header_valid(HookState *st, const char *data, Py_ssize_t size, PyObject *source_path, PyObject *get_source)
{
    if (size < 16 || memcmp(data, PyBytes_AS_STRING(st->magic), 4) != 0) {
        return 0;
    }
    uint32_t flags = read_le32(data + 4);
    if (flags & ~(uint32_t)(FLAG_HASH | FLAG_CHECK_SOURCE)) {
        return 0;
    }
    if (flags & FLAG_HASH) {
        PyObject *check = PyObject_GetAttrString(st->imp, "check_hash_based_pycs");
        if (check == NULL) {
            return -1;
        }
        int always = PyUnicode_Check(check) && PyUnicode_CompareWithASCIIString(check, "always") == 0;
        int never = PyUnicode_Check(check) && PyUnicode_CompareWithASCIIString(check, "never") == 0;
        Py_DECREF(check);
        if (!(always || (!never && (flags & FLAG_CHECK_SOURCE)))) {
            return 1;
        }
        PyObject *source = PyObject_CallOneArg(get_source, source_path);
        if (source == NULL) {
            return -1;
        }
        PyObject *h = PyBytes_Check(source) ? source_hash(st, source) : NULL;
        Py_DECREF(source);
        if (h == NULL) {
            return PyErr_Occurred() ? -1 : 0;
        }
        int same = PyBytes_Check(h) && PyBytes_GET_SIZE(h) == 8 && memcmp(PyBytes_AS_STRING(h), data + 8, 8) == 0;
        Py_DECREF(h);
        return same;
    }
    /* source mtime (int(st_mtime), as importlib takes it) and size, mod 2**32 */
    unsigned long long mtime, fsize;
    if (source_stat(st, source_path, &mtime, &fsize) < 0) {
        return -1;
    }
    return read_le32(data + 8) == (uint32_t)(mtime & 0xFFFFFFFFu)
           && read_le32(data + 12) == (uint32_t)(fsize & 0xFFFFFFFFu);
}

/* The code object cached at `path` if it is valid for the source, else NULL without an error.
 * Missing, truncated, corrupted or stale files and another Python's magic number are misses.
 * `*mtime_ns` (if given) gets the file's modification time, or -1 if unknown. */
static PyObject *
read_cache_file(HookState *st, PyObject *path, PyObject *source_path, PyObject *get_source, long long *mtime_ns)
{
    if (mtime_ns != NULL) {
        *mtime_ns = -1;
    }
    PyObject *file = PyFile_OpenCodeObject(path); /* io.open_code: the PEP 578 hook sees it */
    if (file == NULL) {
        clear_if_exception();
        return NULL;
    }
#ifndef MS_WINDOWS
    if (mtime_ns != NULL) {
        int fd = PyObject_AsFileDescriptor(file);
        struct stat sb;
        if (fd >= 0 && fstat(fd, &sb) == 0) {
            *mtime_ns = MTIME_NS(sb);
        }
        PyErr_Clear();
    }
#endif
    PyObject *data = PyObject_CallMethodNoArgs(file, st->str_read);
    PyObject *closed = PyObject_CallMethodNoArgs(file, st->str_close);
    Py_DECREF(file);
    Py_XDECREF(closed);
    if (data == NULL || closed == NULL || !PyBytes_Check(data)) {
        Py_XDECREF(data);
        if (PyErr_Occurred()) {
            clear_if_exception();
        }
        return NULL;
    }
    PyObject *code = NULL;
    int valid = header_valid(st, PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data), source_path, get_source);
    if (valid > 0) {
        code = PyMarshal_ReadObjectFromString(PyBytes_AS_STRING(data) + 16, PyBytes_GET_SIZE(data) - 16);
        if (code != NULL && !PyCode_Check(code)) {
            Py_CLEAR(code);
        }
    }
    Py_DECREF(data);
    if (code == NULL && PyErr_Occurred()) {
        clear_if_exception();
    }
    return code;
}

/* Index just past the last path separator of `path` (0 if none). */
static Py_ssize_t
after_last_separator(PyObject *path)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(path);
    Py_ssize_t at = PyUnicode_FindChar(path, '/', 0, n, -1);
#ifdef MS_WINDOWS
    Py_ssize_t back = PyUnicode_FindChar(path, '\\', 0, n, -1);
    if (back > at) {
        at = back;
    }
#endif
    return at < 0 ? 0 : at + 1;
}

/* With cache_dir=DIR, fatopt's file for /abs/dir/mod.py is DIR/abs/dir/<its usual name>, the
 * layout of sys.pycache_prefix (fatopt.importer.cache_path computes the same in Python).  NULL
 * without an error if the path cannot be made. */
static PyObject *
in_cache_dir(HookState *st, PyObject *source_path, PyObject *usual)
{
    PyObject *name = PyUnicode_Substring(usual, after_last_separator(usual), PyUnicode_GET_LENGTH(usual));
    PyObject *absolute = name ? PyObject_CallOneArg(st->path_abspath, source_path) : NULL;
    PyObject *result = NULL;
    if (absolute != NULL && PyUnicode_Check(absolute)) {
        Py_ssize_t end = after_last_separator(absolute);
        Py_ssize_t start = 0;
#ifdef MS_WINDOWS
        if (end > 1 && PyUnicode_READ_CHAR(absolute, 1) == ':') {
            start = 2; /* the drive, as cache_from_source drops it */
        }
#endif
        while (start < end && (PyUnicode_READ_CHAR(absolute, start) == '/' || PyUnicode_READ_CHAR(absolute, start) == '\\')) {
            start++;
        }
        PyObject *head = PyUnicode_Substring(absolute, start, end);
        if (head != NULL) {
            result = PyUnicode_FromFormat("%U%c%U%U", st->cache_dir, (int)PATH_SEP, head, name);
            Py_DECREF(head);
        }
    }
    Py_XDECREF(absolute);
    Py_XDECREF(name);
    if (result == NULL) {
        clear_if_exception();
    }
    return result;
}

/* fatopt's cache file for `source_path`, or NULL without an error when this interpreter keeps
 * no bytecode cache.  importlib's own cache_from_source: __pycache__, pycache_prefix, -O; or
 * under fatopt's own cache directory. */
static PyObject *
cache_file(HookState *st, PyObject *source_path)
{
    PyObject *args[2] = {source_path, st->tag};
    PyObject *path = PyObject_Vectorcall(st->cache_from_source, args, 1, st->optimization_kwnames);
    if (path == NULL) {
        clear_if_exception();
    }
    else if (st->cache_dir != NULL) {
        Py_SETREF(path, in_cache_dir(st, source_path, path));
    }
    return path;
}

/* Whether a module's code holds specialized functions: it imports the guard runtime. */
static int
needs_runtime(PyObject *code)
{
    PyObject *names = ((PyCodeObject *)code)->co_names;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names); i++) {
        /* fatopt.emit.RUNTIME_MODULE: what optimized modules with specialized functions import */
        if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(names, i), "fatopt._guards") == 0) {
            return 1;
        }
    }
    return 0;
}

/* Whether the guard runtime can load (checked once, by the first module that needs it: modules
 * without specialized functions never load the C runtime).  0 means fatopt turns itself off. */
static int
runtime_available(HookState *st, PyObject *code)
{
    if (st->runtime_ok >= 0) {
        return st->runtime_ok;
    }
    if (!needs_runtime(code)) {
        return 1;
    }
    PyThreadState *tstate = PyThreadState_Get();
    PyThreadState_EnterTracing(tstate); /* no fatopt frame for tracers (see code_on_miss) */
    PyObject *fatopt = PyImport_ImportModule("fatopt");
    PyObject *reason = fatopt ? PyObject_CallMethod(fatopt, "unavailable_reason", NULL) : NULL;
    Py_XDECREF(fatopt);
    PyThreadState_LeaveTracing(tstate);
    if (reason == NULL) {
        return -1;
    }
    st->runtime_ok = reason == Py_None;
    if (!st->runtime_ok) {
        if (st->verbose) {
            PySys_FormatStderr("fatopt: %S\n", reason);
        }
        st->enabled = 0;
    }
    Py_DECREF(reason);
    return st->runtime_ok;
}

/* Verbose mode: one line for a module loaded from fatopt's cache (what a cold start says comes
 * from fatopt.compiler), unless the module lies in a directory verbose mode leaves out (the
 * standard library's and site-packages, unless verbose=all: fatopt.user_code).  The count of
 * specialized functions is not known here without the optimizer, so the line says whether
 * there are any. */
static void
log_cache_hit(HookState *st, PyObject *loader, PyObject *code)
{
    if (!st->verbose || !PyCode_Check(code)) {
        return;
    }
    PyObject *path = PyObject_GetAttr(loader, st->str_path);
    if (path == NULL || !PyUnicode_Check(path)) {
        Py_XDECREF(path);
        PyErr_Clear();
        return;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(st->quiet); i++) {
        if (PyUnicode_Tailmatch(path, PyTuple_GET_ITEM(st->quiet, i), 0, PY_SSIZE_T_MAX, -1) == 1) {
            Py_DECREF(path);
            return;
        }
    }
    PyErr_Clear();
    PySys_FormatStderr("fatopt: %U: from cache, %s\n", path,
                       needs_runtime(code) ? "with specialized functions" : "no function specialized");
    Py_DECREF(path);
}

/* ------------------------------------------------------------------ tracers -------------- */
/* Debuggers, profilers and coverage see plain code: a module imported while the importing thread
 * has a trace or profile function (pdb, bdb, coverage's default core, trace, IDE debuggers), or
 * while a sys.monitoring tool is registered (cProfile and coverage's sysmon core on 3.12+,
 * debuggers built on PEP 669), loads exactly as plain Python loads it: importlib's own get_code,
 * nothing of fatopt's read or written.  Functions specialized before the tool started keep their
 * code (docs/semantics.md, "Debuggers, profilers and coverage").
 *
 * Asked through sys.gettrace(), sys.getprofile() and sys.monitoring.get_tool(0..5): the C API
 * has setters only (PyEval_SetTrace), and the PyThreadState fields behind them are not public.
 * The three builtins are kept from when this module loads, so that a program or library that
 * replaces sys.gettrace cannot hide a tracer.  Cost: eight calls of C functions per handled
 * import, before its cache file is even opened; nothing for the modules fatopt does not handle. */

enum { TOOL_ERROR = -4, TOOL_NONE = -3, TOOL_TRACE = -2, TOOL_PROFILE = -1 }; /* >= 0: a monitoring tool id */

/* The first tool found active: its kind, and in *found (if given) a new reference to the trace
 * or profile object or the tool's name.  An error is taken for "none" (never fail an import for
 * this); TOOL_ERROR lets a BaseException through. */
static int
active_tool(HookState *st, PyObject **found)
{
    PyObject *getters[2] = {st->gettrace, st->getprofile};
    for (int i = 0; i < 2; i++) {
        if (getters[i] == NULL) {
            continue;
        }
        PyObject *obj = PyObject_CallNoArgs(getters[i]);
        if (obj == NULL) {
            if (clear_if_exception() < 0) {
                return TOOL_ERROR;
            }
            continue;
        }
        if (obj != Py_None) {
            if (found != NULL) {
                *found = obj;
            }
            else {
                Py_DECREF(obj);
            }
            return i == 0 ? TOOL_TRACE : TOOL_PROFILE;
        }
        Py_DECREF(obj);
    }
    if (st->get_tool == NULL) {
        return TOOL_NONE;
    }
    for (int tool = 0; tool < 6; tool++) { /* ids 0..5; 6 and 7 are settrace's and setprofile's */
        if (tool == st->main_tool) {
            continue; /* fatopt's own watcher for the main script's start */
        }
        PyObject *id = PyLong_FromLong(tool);
        PyObject *name = id ? PyObject_CallOneArg(st->get_tool, id) : NULL;
        Py_XDECREF(id);
        if (name == NULL) {
            if (clear_if_exception() < 0) {
                return TOOL_ERROR;
            }
            continue;
        }
        if (name != Py_None && !(PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "fatopt") == 0)) {
            /* (a tool named "fatopt" is fatopt's own, as the main script's watcher is) */
            if (found != NULL) {
                *found = name;
            }
            else {
                Py_DECREF(name);
            }
            return tool;
        }
        Py_DECREF(name);
    }
    return TOOL_NONE;
}

/* What a trace or profile object is, for people: "module.qualname" of a function or method,
 * else its type's name.  New reference. */
static PyObject *
describe_callable(PyObject *obj)
{
    PyObject *qualname = PyObject_GetAttrString(obj, "__qualname__");
    PyObject *module = qualname ? PyObject_GetAttrString(obj, "__module__") : NULL;
    PyErr_Clear();
    PyObject *text;
    if (qualname != NULL && PyUnicode_Check(qualname) && module != NULL && PyUnicode_Check(module)) {
        text = PyUnicode_FromFormat("%U.%U", module, qualname);
    }
    else {
        text = PyUnicode_FromString(Py_TYPE(obj)->tp_name);
    }
    Py_XDECREF(qualname);
    Py_XDECREF(module);
    return text;
}

/* Which tool makes imports load plain now, as a str ("sys.settrace: bdb.Bdb.trace_dispatch",
 * "sys.monitoring tool 2: 'cProfile'"), or None.  New reference; NULL on a BaseException. */
static PyObject *
describe_active_tool(HookState *st)
{
    PyObject *found = NULL;
    int kind = active_tool(st, &found);
    if (kind == TOOL_ERROR) {
        return NULL;
    }
    if (kind == TOOL_NONE) {
        Py_RETURN_NONE;
    }
    PyObject *text;
    if (kind >= 0) {
        text = PyUnicode_FromFormat("sys.monitoring tool %d: %R", kind, found);
    }
    else {
        PyObject *what = describe_callable(found);
        text = what ? PyUnicode_FromFormat("%s: %U", kind == TOOL_TRACE ? "sys.settrace" : "sys.setprofile", what) : NULL;
        Py_XDECREF(what);
    }
    Py_DECREF(found);
    if (text == NULL && clear_if_exception() == 0) {
        text = PyUnicode_FromString("a tracer, profiler or sys.monitoring tool");
    }
    return text;
}

/* 1 if the module being imported must load plain because a tool is active; says so once in
 * verbose mode.  -1 on a BaseException. */
static int
tracing_now(HookState *st)
{
    int kind = active_tool(st, NULL);
    if (kind == TOOL_ERROR) {
        return -1;
    }
    if (kind == TOOL_NONE) {
        return 0;
    }
    if (st->verbose && !st->told_tracing) {
        st->told_tracing = 1;
        PyObject *which = describe_active_tool(st);
        if (which == NULL) {
            return -1;
        }
        PySys_FormatStderr("fatopt: a tracer/profiler/monitoring tool is active (%S): modules imported now "
                           "run unoptimized\n", which);
        Py_DECREF(which);
    }
    return 1;
}

/* ------------------------------------------------------------------ the loaders ------------ */

/* A loader's source path, which is also what `registered` holds for it (a str, which the garbage
 * collector does not track: a registry of tuples would add a tracked object per module, and
 * collections). */
static PyObject *
loader_key(HookState *st, PyObject *loader)
{
    return PyObject_GetAttr(loader, st->str_path);
}

/* 1 if fatopt handles this loader's module: a plain SourceFileLoader found by a hooked
 * FileFinder (or registered), while fatopt is on and the module is not excluded. */
static int
handles(HookState *st, PyObject *loader, PyObject *fullname)
{
    if (!st->enabled || (PyObject *)Py_TYPE(loader) != st->source_loader || !PyUnicode_Check(fullname)) {
        return 0;
    }
    PyObject *key = loader_key(st, loader);
    if (key == NULL) {
        return clear_if_exception();
    }
    int found = PySet_Contains(st->registered, key);
    Py_DECREF(key);
    if (found <= 0) {
        return found < 0 ? clear_if_exception() : 0;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(st->exclude); i++) {
        PyObject *name = PyTuple_GET_ITEM(st->exclude, i);
        Py_ssize_t n = PyUnicode_GET_LENGTH(name);
        if (PyUnicode_Tailmatch(fullname, name, 0, n, -1) == 1
            && (PyUnicode_GET_LENGTH(fullname) == n || PyUnicode_READ_CHAR(fullname, n) == '.')) {
            return 0;
        }
    }
    return 1;
}

/* The normal .pyc, as plain Python keeps it, on a warm start (one stat):
 *  - missing: plain Python would write it, so importlib's own get_code writes it (not under -B),
 *    and fatopt's file is dated after it;
 *  - newer than fatopt's file: something rewrote it since fatopt compiled the module (plain
 *    Python, compileall, a tool writing its own bytecode): returns 1, and the module is taken as
 *    a miss, where fatopt checks it against the source (a .pyc that is not the source's
 *    compilation runs as plain Python runs it, see fatopt.cache_miss).
 * Returns 0 otherwise. */
static int
plain_bytecode_changed(HookState *st, PyObject *loader, PyObject *fullname, PyObject *source_path, PyObject *path,
                       long long ours_ns)
{
    PyObject *plain;
    if (st->cache_dir != NULL) {
        plain = PyObject_CallOneArg(st->cache_from_source, source_path);
    }
    else {
        /* ".../mod.cpython-313.opt-fatoptXXXXXXXX.pyc" -> ".../mod.cpython-313[.opt-N].pyc" */
        Py_ssize_t cut = PyUnicode_GET_LENGTH(path) - PyUnicode_GET_LENGTH(st->tag) - 9; /* ".opt-" ".pyc" */
        if (cut <= 0) {
            return 0;
        }
        PyObject *base = PyUnicode_Substring(path, 0, cut);
        plain = base ? PyUnicode_Concat(base, st->plain_suffix) : NULL;
        Py_XDECREF(base);
    }
    if (plain == NULL) {
        PyErr_Clear();
        return 0;
    }
    int exists = 0, newer = 0;
#ifndef MS_WINDOWS
    PyObject *encoded = PyUnicode_EncodeFSDefault(plain);
    if (encoded != NULL) {
        struct stat sb;
        if (stat(PyBytes_AS_STRING(encoded), &sb) == 0) {
            exists = 1;
            newer = ours_ns >= 0 && MTIME_NS(sb) > ours_ns;
        }
        Py_DECREF(encoded);
    }
#else
    PyObject *sr = PyObject_CallOneArg(st->stat, plain);
    exists = sr != NULL;
    Py_XDECREF(sr);
#endif
    Py_DECREF(plain);
    PyErr_Clear();
    if (newer) {
        return 1;
    }
    PyObject *dont_write = PySys_GetObject("dont_write_bytecode"); /* borrowed */
    if (exists || (dont_write != NULL && PyObject_IsTrue(dont_write) != 0)) {
        PyErr_Clear();
        return 0;
    }
    /* importlib compiles the source and writes it, honouring everything plain Python does */
    PyObject *code = PyObject_CallFunctionObjArgs(st->orig_get_code, loader, fullname, NULL);
    if (code != NULL) {
        /* That .pyc is the source's own compilation, written after fatopt's file: date fatopt's
         * file now, or the next start would take the new .pyc for a foreign one and compile the
         * module again (a script run as the main script, then imported). */
        PyObject *os = PyImport_ImportModule("os");
        PyObject *done = os ? PyObject_CallMethod(os, "utime", "O", path) : NULL;
        Py_XDECREF(done);
        Py_XDECREF(os);
        Py_DECREF(code);
    }
    PyErr_Clear();
    return 0;
}

/* The module's code from fatopt's cache, or NULL without an error (miss). */
static PyObject *
cached_code(HookState *st, PyObject *loader, PyObject *fullname, int check_plain)
{
    PyObject *source_path = loader_key(st, loader);
    if (source_path == NULL) {
        clear_if_exception();
        return NULL;
    }
    PyObject *path = cache_file(st, source_path);
    PyObject *code = NULL;
    if (path != NULL) {
        PyObject *get_source = PyObject_GetAttr(loader, st->str_get_data);
        long long ours_ns = -1;
        if (get_source != NULL) {
            code = read_cache_file(st, path, source_path, get_source, &ours_ns);
            Py_DECREF(get_source);
        }
        else {
            clear_if_exception();
        }
        if (code != NULL) {
            int ok = runtime_available(st, code);
            if (ok <= 0) {
                Py_CLEAR(code);
                if (ok < 0) {
                    clear_if_exception();
                }
            }
            else if (check_plain && PyUnicode_CompareWithASCIIString(fullname, "__main__") != 0
                     && plain_bytecode_changed(st, loader, fullname, source_path, path, ours_ns)) {
                Py_CLEAR(code);
            }
        }
        Py_DECREF(path);
    }
    Py_DECREF(source_path);
    return code;
}

/* The cache missed: fatopt.cache_miss.code_for() (Python: import the optimizer, optimize, write
 * the cache) with tracing and monitoring suspended, so no debugger or profiler stops in fatopt.
 * Returns code, a module (create_module: reuse it), or None (load plain).  Never raises an
 * Exception. */
static PyObject *
code_on_miss(HookState *st, PyObject *loader, PyObject *fullname, int creating)
{
    PyThreadState *tstate = PyThreadState_Get();
    PyThreadState_EnterTracing(tstate);
    PyObject *result = NULL;
    st->busy++;
    st->optimizer_used = 1;
    watch_collections(st);
    PyObject *miss = PyImport_ImportModule("fatopt.cache_miss");
    if (miss != NULL) {
        result = PyObject_CallMethod(miss, "code_for", "OOO", loader, fullname, creating ? Py_True : Py_False);
        Py_DECREF(miss);
    }
    st->busy--;
    PyThreadState_LeaveTracing(tstate);
    if (result == NULL) {
        if (clear_if_exception() < 0) {
            return NULL;
        }
        result = Py_NewRef(Py_None);
    }
    else if (PyCode_Check(result)) {
        int ok = runtime_available(st, result); /* as for cached code */
        if (ok <= 0) {
            if (ok < 0 && clear_if_exception() < 0) {
                Py_DECREF(result);
                return NULL;
            }
            Py_SETREF(result, Py_NewRef(Py_None));
        }
    }
    return result;
}

/* The code a handled module runs: prepared by create_module, cached, or freshly optimized. NULL
 * without an error means: importlib's own get_code. */
static PyObject *
handled_get_code(HookState *st, PyObject *loader, PyObject *fullname)
{
    PyObject *stashed = PyDict_GET_SIZE(st->stash) ? PyDict_GetItemWithError(st->stash, loader) : NULL; /* borrowed */
    if (stashed == NULL && PyErr_Occurred()) {
        return NULL;
    }
    if (stashed != NULL) {
        Py_INCREF(stashed);
        if (PyDict_DelItem(st->stash, loader) < 0) {
            Py_DECREF(stashed);
            return NULL;
        }
        if (stashed == Py_None) {
            Py_DECREF(stashed);
            return NULL;
        }
        return stashed;
    }
    int traced = tracing_now(st);
    if (traced != 0) {
        st->n_plain += traced > 0;
        return NULL; /* plain (or a BaseException) */
    }
    PyObject *code = cached_code(st, loader, fullname, 1);
    if (code != NULL || PyErr_Occurred()) {
        if (code != NULL) {
            st->n_cached++;
            log_cache_hit(st, loader, code);
        }
        return code;
    }
    if (!st->enabled) {
        st->n_plain++;
        return NULL; /* turned off just now (the guard runtime cannot load): plain */
    }
    code = code_on_miss(st, loader, fullname, 0);
    if (code == NULL) {
        return NULL;
    }
    if (!PyCode_Check(code)) {
        st->n_plain++;
        Py_DECREF(code);
        return NULL;
    }
    st->n_optimized++;
    return code;
}

/* Whether this thread is importing the optimizer (fatopt.cache_miss.ensure_optimizer). */
static int
in_bypass(HookState *st)
{
    if (PySet_GET_SIZE(st->bypass) == 0) {
        return 0;
    }
    PyObject *me = PyLong_FromUnsignedLong(PyThread_get_thread_ident());
    int found = me ? PySet_Contains(st->bypass, me) : -1;
    Py_XDECREF(me);
    if (found < 0) {
        PyErr_Clear();
        return 0;
    }
    return found;
}

/* ------------------------------------------------------------------ dropping the optimizer -- */

/* The optimizer, once loaded by a cache miss, is objects that the garbage collector would
 * traverse for the rest of the run, and memory.  Its cost is paid through collections, so that
 * is where it goes: at the start of the first collection that finds no module being optimized
 * (st->busy) or imported (import_in_progress) on any thread, its
 * modules (fatopt.cache_miss.optimizer_modules()) leave sys.modules and their packages, and
 * the next cache miss imports them again.  Between imports with no work in between (a script's
 * import lines; a cold start importing 200 modules) no collection finds it idle: loaded once.
 * The removal holds the GIL throughout (no Python code runs between the last check and the
 * end), so a thread starting a miss meanwhile never sees half of it.  Returns 1 if dropped. */
/* 1 if a module is being imported, on any thread: importlib marks a module's spec _initializing
 * while its code runs (_bootstrap._load_unlocked).  Asked this way rather than by wrapping
 * exec_module, which would hide a program's own patch of SourceLoader.exec_module (CPython's
 * test_import patches it).  No Python code runs: borrowed references, a dict walk. */
static int
import_in_progress(PyObject *st_initializing)
{
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    Py_ssize_t pos = 0;
    PyObject *name, *module;
    while (modules != NULL && PyDict_Next(modules, &pos, &name, &module)) {
        if (!PyModule_Check(module)) {
            continue;
        }
        PyObject *spec = PyDict_GetItemString(PyModule_GetDict(module), "__spec__"); /* borrowed */
        /* importlib's own ModuleSpec only: an attribute of another type could run code.  Read
         * as an attribute, not through spec.__dict__, which would make each spec's dict a
         * dict object of its own (3.13 keeps instance attributes inline until asked) */
        if (spec == NULL || strcmp(Py_TYPE(spec)->tp_name, "ModuleSpec") != 0) {
            continue;
        }
        PyObject *initializing = PyObject_GetAttr(spec, st_initializing);
        if (initializing == NULL) {
            PyErr_Clear();
            continue;
        }
        Py_DECREF(initializing);
        if (initializing == Py_True) {
            return 1;
        }
    }
    return 0;
}

static int
maybe_drop_optimizer(HookState *st)
{
    if (st->busy != 0 || !st->optimizer_used || import_in_progress(st->str_initializing)) {
        return 0;
    }
    int dropped = 0;
    PyObject *exc = PyErr_GetRaisedException();
    PyThreadState *tstate = PyThreadState_Get();
    PyThreadState_EnterTracing(tstate); /* no fatopt frame for tracers (see code_on_miss) */
    PyObject *names = NULL, *held = NULL;
    PyObject *miss = PyImport_ImportModule("fatopt.cache_miss");
    if (miss != NULL) {
        names = PyObject_CallMethod(miss, "optimizer_modules", NULL);
        Py_DECREF(miss);
    }
    PyThreadState_LeaveTracing(tstate);
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    if (names == NULL || !PyList_Check(names) || st->busy != 0 || (held = PyList_New(0)) == NULL) {
        goto done; /* a miss started meanwhile (another thread): the next import's end drops it */
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(names); i++) {
        PyObject *name = PyList_GET_ITEM(names, i);
        PyObject *module = PyDict_GetItemWithError(modules, name); /* borrowed */
        if (module == NULL || PyList_Append(held, module) < 0 || PyDict_DelItem(modules, name) < 0) {
            PyErr_Clear();
            continue;
        }
        /* the package's attribute (fatopt.optimizer): held above, so no code runs */
        Py_ssize_t dot = PyUnicode_FindChar(name, '.', 0, PyUnicode_GET_LENGTH(name), -1);
        PyObject *parent_name = dot > 0 ? PyUnicode_Substring(name, 0, dot) : NULL;
        PyObject *child = dot > 0 ? PyUnicode_Substring(name, dot + 1, PyUnicode_GET_LENGTH(name)) : NULL;
        PyObject *parent = parent_name ? PyDict_GetItemWithError(modules, parent_name) : NULL; /* borrowed */
        if (parent != NULL && child != NULL && PyModule_Check(parent)) {
            PyObject *dict = PyModule_GetDict(parent); /* borrowed */
            if (PyDict_GetItemWithError(dict, child) == module) {
                PyDict_DelItem(dict, child);
            }
        }
        Py_XDECREF(parent_name);
        Py_XDECREF(child);
        PyErr_Clear();
    }
    st->optimizer_used = 0;
    dropped = 1;
done:
    Py_XDECREF(names);
    Py_XDECREF(held); /* the modules go (with this collection, for their cycles) */
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
    return dropped;
}

/* The gc.callbacks entry (see maybe_drop_optimizer).  It takes itself out once the optimizer
 * is gone if it is the last callback (removing another position would make the collector skip
 * the next one this time); otherwise it stays, doing nothing, until a later collection. */
static PyObject *
on_gc(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    HookState *st = get_state(module);
    if (nargs < 1 || !PyUnicode_Check(args[0]) || PyUnicode_CompareWithASCIIString(args[0], "start") != 0) {
        Py_RETURN_NONE;
    }
    maybe_drop_optimizer(st);
    if (!st->optimizer_used) {
        PyObject *gc = PyImport_ImportModule("gc");
        PyObject *callbacks = gc ? PyObject_GetAttrString(gc, "callbacks") : NULL;
        Py_ssize_t n = callbacks && PyList_Check(callbacks) ? PyList_GET_SIZE(callbacks) : 0;
        if (n > 0 && PyList_GET_ITEM(callbacks, n - 1) == st->on_gc) {
            PyList_SetSlice(callbacks, n - 1, n, NULL);
        }
        Py_XDECREF(callbacks);
        Py_XDECREF(gc);
        PyErr_Clear();
    }
    Py_RETURN_NONE;
}

/* Have the next idle collection drop the optimizer (a cache miss is about to load it). */
static void
watch_collections(HookState *st)
{
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *callbacks = gc ? PyObject_GetAttrString(gc, "callbacks") : NULL;
    if (callbacks != NULL && PyList_Check(callbacks)) {
        int found = PySequence_Contains(callbacks, st->on_gc);
        if (found == 0) {
            PyList_Append(callbacks, st->on_gc);
        }
    }
    Py_XDECREF(callbacks);
    Py_XDECREF(gc);
    PyErr_Clear();
}

/* ------------------------------------------------------------------ HookMethod ------------- */

/* HookMethod: importlib's get_code and create_module as fatopt's hook takes them over, and
 * the loader factory of fatopt's FileFinders.  Instances of a type of their own, not
 * builtin functions: profilers (cProfile) report the builtin functions Python code calls, and an
 * import under a profiler must show the calls a plain import shows. */
enum { HOOK_GET_CODE, HOOK_CREATE_MODULE, HOOK_LOADER_FACTORY };

typedef struct {
    PyObject_HEAD
    PyObject *module;   /* this extension module (its state) */
    PyObject *wrapped;  /* importlib's own method; for the factory, SourceFileLoader */
    int kind;
    vectorcallfunc vectorcall;
} HookMethod;

static PyObject *make_loader(HookState *st, PyObject *fullname, PyObject *path);

static PyObject *
hook_call_original(HookMethod *self, PyObject *loader, PyObject *arg)
{
    return PyObject_CallFunctionObjArgs(self->wrapped, loader, arg, NULL);
}

static PyObject *
hook_get_code(HookMethod *self, HookState *st, PyObject *loader, PyObject *fullname)
{
    if (handles(st, loader, fullname) > 0
        && !in_bypass(st)) {
        PyObject *code = handled_get_code(st, loader, fullname);
        if (code != NULL || PyErr_Occurred()) {
            return code;
        }
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    return hook_call_original(self, loader, fullname);
}

/* Where the work happens for an import: before the module object exists, so that when the
 * optimizer must first be imported (a cache miss) and needs this very module, it can load it
 * plain and this import reuses that module instead of executing the code twice. */
static PyObject *
hook_create_module(HookMethod *self, HookState *st, PyObject *loader, PyObject *spec)
{
    PyObject *fullname = PyObject_GetAttr(spec, st->str_name);
    if (fullname == NULL) {
        return NULL;
    }
    PyObject *result = NULL;
    int handled = handles(st, loader, fullname);
    if (handled < 0) {
        goto done;
    }
    if (handled && in_bypass(st)) {
        /* loaded plain now; cached optimized once the optimizer is in (fatopt.cache_miss) */
        PyObject *item = PyTuple_Pack(2, loader, fullname);
        if (item == NULL || PyList_Append(st->loaded_plain, item) < 0) {
            Py_XDECREF(item);
            goto done;
        }
        Py_DECREF(item);
        st->n_plain++;
    }
    else if (handled) {
        int traced = tracing_now(st);
        if (traced < 0) {
            goto done;
        }
        /* Under a tracer: plain, and nothing stashed (get_code asks again, and counts it: a stash
         * entry would cost the loader's __hash__, a Python call a profiler would see). */
        if (!traced) {
            PyObject *code = cached_code(st, loader, fullname, 1);
            if (code == NULL && PyErr_Occurred()) {
                goto done;
            }
            if (code != NULL) {
                st->n_cached++;
                log_cache_hit(st, loader, code);
            }
            else if (!st->enabled) {
                code = Py_NewRef(Py_None); /* turned off just now (the guard runtime cannot load) */
                st->n_plain++;
            }
            else {
                code = code_on_miss(st, loader, fullname, 1);
                if (code == NULL) {
                    goto done;
                }
                if (PyModule_Check(code)) {
                    st->n_plain++;
                    result = code; /* reuse the module the optimizer's import loaded */
                    goto done;
                }
                if (!PyCode_Check(code)) {
                    Py_SETREF(code, Py_NewRef(Py_None)); /* plain: importlib's get_code raises what plain raises */
                    st->n_plain++;
                }
                else {
                    st->n_optimized++;
                }
            }
            int failed = PyDict_SetItem(st->stash, loader, code);
            Py_DECREF(code);
            if (failed) {
                goto done;
            }
        }
    }
    result = hook_call_original(self, loader, spec);
done:
    Py_DECREF(fullname);
    return result;
}

static PyObject *
hook_method_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    HookMethod *self = (HookMethod *)callable;
    if ((kwnames != NULL && PyTuple_GET_SIZE(kwnames)) || PyVectorcall_NARGS(nargsf) != 2) {
        /* an unusual call: importlib's own method handles it (or says what is wrong with it) */
        return PyObject_Vectorcall(self->wrapped, args, nargsf, kwnames);
    }
    HookState *st = get_state(self->module);
    switch (self->kind) {
    case HOOK_GET_CODE:
        return hook_get_code(self, st, args[0], args[1]);
    case HOOK_CREATE_MODULE:
        return hook_create_module(self, st, args[0], args[1]);
    case HOOK_LOADER_FACTORY:
        return make_loader(st, args[0], args[1]);
    }
    PyErr_SetString(PyExc_SystemError, "_fatopt_importhook: unknown HookMethod kind");
    return NULL;
}

static PyObject *
hook_method_get(PyObject *self, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None) {
        return Py_NewRef(self);
    }
    return PyMethod_New(self, obj);
}

/* inspect and pydoc see importlib's method: name, docs, signature (through __wrapped__) */
static PyObject *
hook_method_getattro(PyObject *self, PyObject *name)
{
    PyObject *value = PyObject_GenericGetAttr(self, name);
    if (value != NULL || !PyErr_ExceptionMatches(PyExc_AttributeError)) {
        return value;
    }
    if (PyUnicode_Check(name) && (PyUnicode_CompareWithASCIIString(name, "__name__") == 0
                                  || PyUnicode_CompareWithASCIIString(name, "__qualname__") == 0
                                  || PyUnicode_CompareWithASCIIString(name, "__module__") == 0)) {
        PyErr_Clear();
        return PyObject_GetAttr(((HookMethod *)self)->wrapped, name);
    }
    return NULL;
}

static PyObject *
hook_method_doc(HookMethod *self, void *closure)
{
    return PyObject_GetAttrString(self->wrapped, "__doc__");
}

static PyObject *
hook_method_repr(HookMethod *self)
{
    return PyUnicode_FromFormat("<fatopt import hook for %R>", self->wrapped);
}

static int
hook_method_traverse(HookMethod *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->module);
    Py_VISIT(self->wrapped);
    return 0;
}

static int
hook_method_clear(HookMethod *self)
{
    Py_CLEAR(self->module);
    Py_CLEAR(self->wrapped);
    return 0;
}

static void
hook_method_dealloc(HookMethod *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    hook_method_clear(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMemberDef hook_method_members[] = {
    {"__wrapped__", Py_T_OBJECT_EX, offsetof(HookMethod, wrapped), Py_READONLY, NULL},
    {"__vectorcalloffset__", Py_T_PYSSIZET, offsetof(HookMethod, vectorcall), Py_READONLY, NULL},
    {NULL},
};

static PyGetSetDef hook_method_getset[] = {
    {"__doc__", (getter)hook_method_doc, NULL, NULL, NULL},
    {NULL},
};

static PyType_Slot hook_method_slots[] = {
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_descr_get, hook_method_get},
    {Py_tp_getattro, hook_method_getattro},
    {Py_tp_repr, hook_method_repr},
    {Py_tp_traverse, hook_method_traverse},
    {Py_tp_clear, hook_method_clear},
    {Py_tp_dealloc, hook_method_dealloc},
    {Py_tp_members, hook_method_members},
    {Py_tp_getset, hook_method_getset},
    {0, NULL},
};

static PyType_Spec hook_method_spec = {
    .name = "_fatopt_importhook.HookMethod",
    .basicsize = sizeof(HookMethod),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION
             | Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = hook_method_slots,
};

static PyObject *
new_hook_method(PyObject *module, PyObject *wrapped, int kind)
{
    HookMethod *self = PyObject_GC_New(HookMethod, get_state(module)->hook_method_type);
    if (self == NULL) {
        return NULL;
    }
    self->module = Py_NewRef(module);
    self->wrapped = Py_NewRef(wrapped);
    self->kind = kind;
    self->vectorcall = hook_method_vectorcall;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

/* ------------------------------------------------------------------ module functions ------- */

/* What FileFinder calls for each source module it finds (the factory, a HookMethod): a plain
 * SourceFileLoader, recorded. */
static PyObject *
make_loader(HookState *st, PyObject *fullname, PyObject *path)
{
    PyObject *args[2] = {fullname, path};
    PyObject *loader = PyObject_Vectorcall(st->source_loader, args, 2, NULL);
    if (loader == NULL) {
        return NULL;
    }
    if (PySet_Add(st->registered, path) < 0) {
        Py_DECREF(loader);
        return NULL;
    }
    return loader;
}

static PyObject *
register_loader(PyObject *module, PyObject *loader)
{
    HookState *st = get_state(module);
    PyObject *key = loader_key(st, loader);
    if (key == NULL) {
        return NULL;
    }
    int failed = PySet_Add(st->registered, key);
    Py_DECREF(key);
    return failed ? NULL : Py_NewRef(loader);
}

/* Finders already made for sys.path entries carry `old` as their source loader: give them
 * `new`, in place for plain FileFinders (dropping them would make the next import list every
 * directory on sys.path again).  None entries (paths no hook took: python3XX.zip, missing
 * directories) stay: fatopt's hook takes what the standard FileFinder hook takes, so asking
 * again would only repeat the stat calls and zipimport's probing, as plain Python does not. */
static int
swap_loaders(PyObject *file_finder, PyObject *old, PyObject *new)
{
    PyObject *cache = PySys_GetObject("path_importer_cache"); /* borrowed */
    if (cache == NULL || !PyDict_Check(cache)) {
        return 0;
    }
    PyObject *items = PyDict_Items(cache);
    if (items == NULL) {
        return -1;
    }
    int status = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items) && status == 0; i++) {
        PyObject *key = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 0);
        PyObject *finder = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 1);
        if (finder == Py_None) {
            continue;
        }
        int is_ff = PyObject_IsInstance(finder, file_finder);
        if (is_ff <= 0) {
            status = is_ff;
            continue;
        }
        PyObject *loaders = (PyObject *)Py_TYPE(finder) == file_finder
                            ? PyObject_GetAttrString(finder, "_loaders") : NULL;
        if (loaders == NULL || !PyList_Check(loaders)) {
            Py_XDECREF(loaders);
            PyErr_Clear();
            status = PyDict_DelItem(cache, key);
            continue;
        }
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(loaders); j++) {
            PyObject *pair = PyList_GET_ITEM(loaders, j);
            if (PyTuple_Check(pair) && PyTuple_GET_SIZE(pair) == 2 && PyTuple_GET_ITEM(pair, 1) == old) {
                PyObject *swapped = PyTuple_Pack(2, PyTuple_GET_ITEM(pair, 0), new);
                if (swapped == NULL || PyList_SetItem(loaders, j, swapped) < 0) {
                    status = -1;
                    break;
                }
            }
        }
        Py_DECREF(loaders);
    }
    Py_DECREF(items);
    return status;
}

static PyObject *
machinery_attr(const char *name)
{
    PyObject *m = PyImport_ImportModule("_frozen_importlib_external");
    if (m == NULL) {
        return NULL;
    }
    PyObject *value = PyObject_GetAttrString(m, name);
    Py_DECREF(m);
    return value;
}

/* The FileFinder path hook with the factory for source files; standard loaders otherwise. */
static PyObject *
make_path_hook(HookState *st)
{
    PyObject *file_finder = machinery_attr("FileFinder");
    PyObject *ext_loader = machinery_attr("ExtensionFileLoader");
    PyObject *ext_suffixes = machinery_attr("EXTENSION_SUFFIXES");
    PyObject *src_suffixes = machinery_attr("SOURCE_SUFFIXES");
    PyObject *pyc_loader = machinery_attr("SourcelessFileLoader");
    PyObject *pyc_suffixes = machinery_attr("BYTECODE_SUFFIXES");
    PyObject *hook = NULL;
    if (file_finder && ext_loader && ext_suffixes && src_suffixes && pyc_loader && pyc_suffixes) {
        hook = PyObject_CallMethod(file_finder, "path_hook", "(OO)(OO)(OO)", ext_loader, ext_suffixes,
                                   st->factory, src_suffixes, pyc_loader, pyc_suffixes);
    }
    Py_XDECREF(file_finder);
    Py_XDECREF(ext_loader);
    Py_XDECREF(ext_suffixes);
    Py_XDECREF(src_suffixes);
    Py_XDECREF(pyc_loader);
    Py_XDECREF(pyc_suffixes);
    return hook;
}

static int
all_str(PyObject *tuple, const char *what)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tuple); i++) {
        if (!PyUnicode_Check(PyTuple_GET_ITEM(tuple, i))) {
            PyErr_Format(PyExc_TypeError, "%s: a tuple of str", what);
            return -1;
        }
    }
    return 0;
}

/* `quiet` may be NULL (no directory left out of verbose mode); `cache_dir` is None (beside the
 * sources) or a str. */
static int
set_options(HookState *st, PyObject *tag, PyObject *exclude, int verbose, PyObject *quiet, PyObject *cache_dir)
{
    if (!PyUnicode_Check(tag) || !PyTuple_Check(exclude) || (quiet != NULL && !PyTuple_Check(quiet))
        || (cache_dir != Py_None && !PyUnicode_Check(cache_dir))) {
        PyErr_SetString(PyExc_TypeError,
                        "install(tag: str, exclude: tuple[str, ...], verbose: bool, quiet: tuple[str, ...] = (), "
                        "cache_dir: str | None = None)");
        return -1;
    }
    if (all_str(exclude, "exclude") < 0 || (quiet != NULL && all_str(quiet, "quiet") < 0)) {
        return -1;
    }
    if (quiet != NULL) {
        Py_XSETREF(st->quiet, Py_NewRef(quiet));
    }
    else {
        PyObject *none = PyTuple_New(0);
        if (none == NULL) {
            return -1;
        }
        Py_XSETREF(st->quiet, none);
    }
    int optimize = flag("optimize");
    PyObject *suffix = optimize ? PyUnicode_FromFormat(".opt-%d.pyc", optimize) : PyUnicode_FromString(".pyc");
    if (suffix == NULL) {
        return -1;
    }
    Py_XSETREF(st->plain_suffix, suffix);
    Py_XSETREF(st->tag, Py_NewRef(tag));
    Py_XSETREF(st->exclude, Py_NewRef(exclude));
    Py_XSETREF(st->cache_dir, cache_dir == Py_None ? NULL : Py_NewRef(cache_dir));
    st->verbose = verbose;
    st->enabled = 1;
    return 0;
}

static int
has_file_finder_name(PyObject *hook)
{
    PyObject *qualname = PyObject_GetAttrString(hook, "__qualname__");
    if (qualname == NULL) {
        PyErr_Clear();
        return 0;
    }
    int found = 0;
    if (PyUnicode_Check(qualname)) {
        PyObject *needle = PyUnicode_FromString("FileFinder");
        if (needle != NULL) {
            found = PyUnicode_Find(qualname, needle, 0, PY_SSIZE_T_MAX, 1) >= 0;
            Py_DECREF(needle);
        }
        PyErr_Clear();
    }
    Py_DECREF(qualname);
    return found;
}

/* Put the hook in place (idempotent): the path hook before the standard FileFinder one, the
 * factory into the finders already made, the two methods onto SourceFileLoader. */
static int
install_hook(HookState *st)
{
    if (st->path_hook != NULL) {
        return 0;
    }
    PyObject *hooks = PySys_GetObject("path_hooks"); /* borrowed */
    if (hooks == NULL || !PyList_Check(hooks)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.path_hooks is not a list");
        return -1;
    }
    PyObject *file_finder = machinery_attr("FileFinder");
    if (file_finder == NULL) {
        return -1;
    }
    PyObject *hook = make_path_hook(st);
    if (hook == NULL) {
        Py_DECREF(file_finder);
        return -1;
    }
    /* after zipimport (zip files keep their importer), before the standard FileFinder hook */
    Py_ssize_t position = PyList_GET_SIZE(hooks);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(hooks); i++) {
        if (has_file_finder_name(PyList_GET_ITEM(hooks, i))) {
            position = i;
            break;
        }
    }
    if (PyList_Insert(hooks, position, hook) < 0
        || PyObject_SetAttrString(st->source_loader, "get_code", st->get_code) < 0
        || PyObject_SetAttrString(st->source_loader, "create_module", st->create_module) < 0
        || swap_loaders(file_finder, st->source_loader, st->factory) < 0) {
        Py_DECREF(file_finder);
        Py_DECREF(hook);
        return -1;
    }
    Py_DECREF(file_finder);
    st->path_hook = hook;
    return 0;
}

/* Everything install_hook did, undone; modules already imported stay as they are. */
static int
uninstall_hook(HookState *st)
{
    st->enabled = 0;
    if (st->path_hook == NULL) {
        return 0;
    }
    PyObject *hooks = PySys_GetObject("path_hooks");
    if (hooks != NULL && PyList_Check(hooks)) {
        Py_ssize_t i = PySequence_Index(hooks, st->path_hook);
        if (i >= 0) {
            if (PySequence_DelItem(hooks, i) < 0) {
                return -1;
            }
        }
        else {
            PyErr_Clear();
        }
    }
    Py_CLEAR(st->path_hook);
    const char *names[] = {"get_code", "create_module"};
    PyObject *mine[] = {st->get_code, st->create_module};
    for (int i = 0; i < 2; i++) {
        PyObject *dict = PyObject_GetAttrString(st->source_loader, "__dict__");
        PyObject *current = dict ? PyMapping_GetItemString(dict, names[i]) : NULL;
        Py_XDECREF(dict);
        if (current == mine[i] && PyObject_DelAttrString(st->source_loader, names[i]) < 0) {
            Py_DECREF(current);
            return -1;
        }
        Py_XDECREF(current);
        PyErr_Clear();
    }
    PyObject *file_finder = machinery_attr("FileFinder");
    if (file_finder == NULL) {
        return -1;
    }
    int status = swap_loaders(file_finder, st->factory, st->source_loader);
    Py_DECREF(file_finder);
    return status;
}


/* ------------------------------------------------------------------ the main script -------- */
/* `python -X fatopt app.py`: the import system never sees the main script; the interpreter
 * compiles and runs it itself.  A sys.monitoring PY_START callback (or, when no tool id is free,
 * a C audit hook on cpython.run_file) catches the moment it starts and only prepares: it gets the
 * optimized code, arms main_trampoline with it, makes that sys.excepthook and raises
 * StartOptimized.  The plain frame unwinds before running an
 * instruction, the interpreter hands the exception to sys.excepthook, and the trampoline (C: no
 * frame of ours under the script's) puts the real hook back and runs the optimized code in a
 * fresh __main__.  The script does not run inside the callback: code run there is never traced,
 * so breakpoint(), sys.settrace, profilers and coverage would see nothing.  The outcome ends the
 * process as the interpreter ends it (fatopt._main reports an unhandled exception).  Anything
 * this does not handle (-i, an unreadable file, a syntax error, an internal error) leaves the
 * callback without an exception, and CPython runs the file as usual.  In C, like the rest of the
 * start-up: a script's start loads no Python module of fatopt's. */

/* sys.monitoring.<name>.  Not through an import: the PY_START callback runs in any frame, and
 * an import looks up __import__ in that frame's builtins (namedtuple's eval has none). */
static PyObject *
monitoring_attr(const char *name)
{
    PyObject *mon = PySys_GetObject("monitoring"); /* borrowed */
    if (mon == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_AttributeError, "sys.monitoring");
        }
        return NULL;
    }
    return PyObject_GetAttrString(mon, name);
}

static long
py_start_event(void)
{
    PyObject *events = monitoring_attr("events");
    PyObject *value = events ? PyObject_GetAttrString(events, "PY_START") : NULL;
    Py_XDECREF(events);
    long n = value ? PyLong_AsLong(value) : -1;
    Py_XDECREF(value);
    return n;
}

/* 1 if a monitoring tool now watches for the main script's start, 0 if none is free. */
static int
watch_main_start(HookState *st)
{
    PyObject *use = monitoring_attr("use_tool_id");
    PyObject *reg = monitoring_attr("register_callback");
    PyObject *set = monitoring_attr("set_events");
    PyObject *optimizer_id = monitoring_attr("OPTIMIZER_ID");
    long event = py_start_event();
    int found = 0;
    if (use && reg && set && optimizer_id && event >= 0) {
        long tools[] = {PyLong_AsLong(optimizer_id), 4, 3};
        for (int i = 0; i < 3 && !found; i++) {
            PyObject *r = PyObject_CallFunction(use, "ls", tools[i], "fatopt");
            if (r == NULL) {
                PyErr_Clear(); /* taken */
                continue;
            }
            Py_DECREF(r);
            PyObject *r1 = PyObject_CallFunction(reg, "llO", tools[i], event, st->on_py_start);
            PyObject *r2 = r1 ? PyObject_CallFunction(set, "ll", tools[i], event) : NULL;
            Py_XDECREF(r1);
            Py_XDECREF(r2);
            if (r2 == NULL) {
                break;
            }
            st->main_tool = (int)tools[i];
            found = 1;
        }
    }
    Py_XDECREF(use);
    Py_XDECREF(reg);
    Py_XDECREF(set);
    Py_XDECREF(optimizer_id);
    PyErr_Clear();
    return found;
}

/* Nothing stays installed once the script starts. */
static void
release_tool(HookState *st)
{
    if (st->main_tool < 0) {
        return;
    }
    long tool = st->main_tool;
    st->main_tool = -1;
    long event = py_start_event();
    PyObject *set = monitoring_attr("set_events");
    PyObject *reg = monitoring_attr("register_callback");
    PyObject *free_tool = monitoring_attr("free_tool_id");
    PyObject *r;
    if (set && (r = PyObject_CallFunction(set, "li", tool, 0))) {
        Py_DECREF(r);
    }
    if (reg && event >= 0 && (r = PyObject_CallFunction(reg, "llO", tool, event, Py_None))) {
        Py_DECREF(r);
    }
    if (free_tool && (r = PyObject_CallFunction(free_tool, "l", tool))) {
        Py_DECREF(r);
    }
    Py_XDECREF(set);
    Py_XDECREF(reg);
    Py_XDECREF(free_tool);
    PyErr_Clear();
}

/* Prepare the optimized run of the script at `path` and raise StartOptimized; or return None
 * (CPython then runs the file itself) if its code cannot be had. */
static PyObject *
start_main(HookState *st, PyObject *path)
{
    PyObject *loader = NULL, *code = NULL, *main = NULL;
    if (tracing_now(st) != 0) {
        goto plain; /* started under a tracer (a sitecustomize, coverage's process_startup) */
    }
    /* made here, not when the module loads: -c, -m and the prompt never need it (making a class
     * costs every start some dozens of microseconds) */
    if (st->start_optimized == NULL) {
        st->start_optimized = PyErr_NewException("_fatopt_importhook.StartOptimized", PyExc_BaseException, NULL);
        if (st->start_optimized == NULL) {
            goto plain;
        }
    }
    loader = PyObject_CallFunction(st->source_loader, "sO", "__main__", path);
    if (loader == NULL) {
        goto plain;
    }
    int failed = PySet_Add(st->registered, path) < 0;
    code = failed ? NULL : PyObject_CallMethod(loader, "get_code", "s", "__main__");
    if (code == NULL || !PyCode_Check(code)) {
        goto plain; /* a syntax error included: CPython reports it, as plain Python does */
    }
    /* A fresh __main__, as runpy makes for -m: the plain module frame that unwinds holds its
     * globals until the process ends; the script's objects must be freed when __main__ is. */
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    PyObject *plain_main = PyDict_GetItemString(modules, "__main__"); /* borrowed */
    main = PyModule_New("__main__");
    if (main == NULL || plain_main == NULL || !PyModule_Check(plain_main)) {
        goto plain;
    }
    PyObject *ns = PyModule_GetDict(main); /* borrowed */
    PyObject *hook = PySys_GetObject("excepthook"); /* borrowed */
    if (PyDict_Update(ns, PyModule_GetDict(plain_main)) < 0
        || PyDict_SetItemString(ns, "__cached__", Py_None) < 0
        || PyDict_SetItemString(ns, "__loader__", loader) < 0 || hook == NULL) {
        goto plain;
    }
    if (PyDict_SetItemString(modules, "__main__", main) < 0
        || PySys_SetObject("excepthook", st->main_trampoline) < 0) {
        goto plain;
    }
    Py_XSETREF(st->armed_code, Py_NewRef(code));
    Py_XSETREF(st->armed_globals, Py_NewRef(ns));
    Py_XSETREF(st->armed_hook, Py_NewRef(hook));
    Py_DECREF(loader);
    Py_DECREF(code);
    Py_DECREF(main);
    PyErr_SetNone(st->start_optimized);
    return NULL;
plain:
    Py_XDECREF(loader);
    Py_XDECREF(code);
    Py_XDECREF(main);
    if (PyErr_Occurred() && clear_if_exception() < 0) {
        return NULL; /* KeyboardInterrupt and the like: as the script's */
    }
    Py_RETURN_NONE;
}

static PyObject *
on_py_start(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || !PyCode_Check(args[0])) {
        Py_RETURN_NONE;
    }
    HookState *st = get_state(module);
    PyCodeObject *code = (PyCodeObject *)args[0];
    if (PyUnicode_CompareWithASCIIString(code->co_name, "<module>") != 0) {
        Py_RETURN_NONE;
    }
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    PyObject *plain_main = PyDict_GetItemString(modules, "__main__"); /* borrowed */
    PyObject *path = plain_main ? PyObject_GetAttrString(plain_main, "__file__") : NULL;
    int same_file = path ? PyObject_RichCompareBool(code->co_filename, path, Py_EQ) : 0;
    PyErr_Clear();
    if (same_file <= 0) {
        Py_XDECREF(path);
        return monitoring_attr("DISABLE"); /* never this code again */
    }
    PyFrameObject *frame = PyEval_GetFrame(); /* borrowed: the frame starting */
    PyObject *globals = frame ? PyFrame_GetGlobals(frame) : NULL;
    int is_main = globals != NULL && globals == PyModule_GetDict(plain_main);
    Py_XDECREF(globals);
    if (!is_main) {
        Py_DECREF(path);
        Py_RETURN_NONE;
    }
    release_tool(st);
    /* The interpreter compiled the script (a syntax error was reported as usual) and is about
     * to run its first instruction. */
    PyObject *result = start_main(st, path);
    Py_DECREF(path);
    return result;
}

/* When no sys.monitoring tool id is free: a C audit hook on cpython.run_file, which the
 * interpreter raises just before it runs the main script.  A C hook costs every audited event of
 * the process (id(), sys._getframe(), open(), ...) one character comparison, where a Python hook
 * costs a Python call (about 380 ns: it made deepcopy and pickle twice as slow).  Audit hooks
 * are process-wide and cannot be removed, and their only data is a pointer: `data` is this
 * module's state, kept valid for as long as the process runs by a reference to the module that
 * is never released (see install_main_hook). */
static int
main_script_hook(const char *event, PyObject *args, void *data)
{
    if (event[0] != 'c' || strcmp(event, "cpython.run_file") != 0
        || PyInterpreterState_Get() != PyInterpreterState_Main()) {
        return 0;
    }
    HookState *st = (HookState *)data;
    if (!st->audit_hook_armed || !PyTuple_Check(args) || PyTuple_GET_SIZE(args) < 1) {
        return 0;
    }
    st->audit_hook_armed = 0; /* once: the script may raise the event again */
    PyObject *result = start_main(st, PyTuple_GET_ITEM(args, 0));
    if (result == NULL) {
        return -1; /* StartOptimized: the plain run of the file does not start */
    }
    Py_DECREF(result);
    return 0;
}

static PyObject *
report_unhandled(PyObject *module, PyObject *exc)
{
    PyObject *m = PyImport_ImportModule("fatopt._main");
    PyObject *r = m ? PyObject_CallMethod(m, "_report_unhandled", "O", exc) : NULL;
    Py_XDECREF(m);
    return r;
}

static PyObject *
exit_like_sigint(PyObject *module, PyObject *unused)
{
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    PyObject *main_support = PyDict_GetItemString(modules, "fatopt._main"); /* borrowed */
    if (main_support == NULL) {
        Py_RETURN_NONE; /* no unhandled exception was reported */
    }
    return PyObject_CallMethod(main_support, "_exit_like_sigint", NULL);
}

static PyObject *
raise_system_exit(long status)
{
    PyObject *code = PyLong_FromLong(status);
    if (code != NULL) {
        PyErr_SetObject(PyExc_SystemExit, code);
        Py_DECREF(code);
    }
    return NULL;
}

/* sys.excepthook while the main script starts.  Armed by start_main, it puts the previous
 * excepthook back, removes the sys.last_* the interpreter set for the StartOptimized that brought
 * it here, runs the optimized code, and ends the process as the interpreter would: SystemExit(0),
 * the script's own SystemExit, or, for any other exception, reports it as CPython does
 * (fatopt._main) and SystemExit(1), which CPython exits with, atexit handlers included.  A C
 * function, so no frame of ours sits under the script's (stack inspection, external profilers).
 * When not armed, it hands the exception to sys.__excepthook__. */
static PyObject *
main_trampoline(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    HookState *st = get_state(module);
    PyObject *code = st->armed_code, *globals = st->armed_globals, *hook = st->armed_hook;
    st->armed_code = st->armed_globals = st->armed_hook = NULL; /* ours now */
    if (code == NULL) {
        PyObject *fallback = PySys_GetObject("__excepthook__"); /* borrowed */
        if (fallback == NULL) {
            Py_RETURN_NONE;
        }
        return PyObject_Vectorcall(fallback, args, nargs, NULL);
    }
    PyObject *result = NULL;
    if (PySys_SetObject("excepthook", hook) < 0) {
        goto done;
    }
    static const char *const last[] = {"last_exc", "last_type", "last_value", "last_traceback"};
    for (size_t i = 0; i < sizeof(last) / sizeof(last[0]); i++) {
        if (PySys_GetObject(last[i]) != NULL && PySys_SetObject(last[i], NULL) < 0) {
            PyErr_Clear();
        }
    }
    PyObject *value = PyEval_EvalCode(code, globals, globals);
    if (value != NULL) {
        Py_DECREF(value);
        result = raise_system_exit(0);
        goto done;
    }
    if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
        goto done; /* the script's own exit status */
    }
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *printed = report_unhandled(module, exc);
    Py_DECREF(exc);
    if (printed == NULL) {
        PyErr_WriteUnraisable(NULL);
    }
    Py_XDECREF(printed);
    result = raise_system_exit(1);
done:
    Py_DECREF(code);
    Py_DECREF(globals);
    Py_DECREF(hook);
    return result;
}

/* Arrange for the main script to run optimized. */
static int
install_main_hook(PyObject *module)
{
    HookState *st = get_state(module);
    PyObject *atexit = PyImport_ImportModule("atexit");
    /* registered first, so it runs after every handler the program registers (LIFO) */
    PyObject *r = atexit ? PyObject_CallMethod(atexit, "register", "O", st->exit_like_sigint) : NULL;
    Py_XDECREF(atexit);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    if (watch_main_start(st)) {
        return 0;
    }
    if (!st->audit_hook_added) {
        if (PySys_AddAuditHook(main_script_hook, st) < 0) {
            return -1;
        }
        st->audit_hook_added = 1;
        Py_INCREF(module); /* never released: the hook's `data` is this module's state */
    }
    st->audit_hook_armed = 1;
    return 0;
}

static PyObject *
watch_main_start_py(PyObject *module, PyObject *unused)
{
    return PyBool_FromLong(watch_main_start(get_state(module)));
}

/* ------------------------------------------------------------------ activation ------------- */

/* fatopt's code stamp from the file the build writes beside this module, or NULL without an
 * error when there is none (a development checkout, an editable install). */
static PyObject *
build_stamp(PyObject *module)
{
    PyObject *file = PyModule_GetFilenameObject(module);
    if (file == NULL) {
        PyErr_Clear();
        return NULL;
    }
    PyObject *stamp = NULL;
    PyObject *encoded = PyUnicode_EncodeFSDefault(file);
    Py_DECREF(file);
    if (encoded == NULL) {
        PyErr_Clear();
        return NULL;
    }
    const char *path = PyBytes_AS_STRING(encoded);
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    char buf[4096];
    if (dirlen + sizeof(STAMP_FILE) <= sizeof(buf)) {
        memcpy(buf, path, dirlen);
        memcpy(buf + dirlen, STAMP_FILE, sizeof(STAMP_FILE));
        FILE *f = fopen(buf, "rb");
        if (f != NULL) {
            char text[65];
            size_t n = fread(text, 1, 64, f);
            fclose(f);
            while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ')) {
                n--;
            }
            if (n > 0) {
                stamp = PyUnicode_DecodeASCII(text, (Py_ssize_t)n, "strict");
                if (stamp == NULL) {
                    PyErr_Clear();
                }
            }
        }
    }
    Py_DECREF(encoded);
    return stamp;
}

static PyObject *
call_python(const char *module_name, const char *function)
{
    PyObject *m = PyImport_ImportModule(module_name);
    if (m == NULL) {
        return NULL;
    }
    PyObject *result = PyObject_CallMethod(m, function, NULL);
    Py_DECREF(m);
    return result;
}

/* The tag of the default configuration: what fatopt.importer.Options().cache_tag() gives.  An
 * installed fatopt has a build stamp, and this build's version; a development checkout or an
 * editable install has none, and fatopt.importer computes the tag (its code may have changed
 * since this module was built). */
static PyObject *
default_tag(PyObject *module, PyObject *unused)
{
    HookState *st = get_state(module);
    PyObject *stamp = build_stamp(module);
    if (stamp == NULL) {
        return call_python("fatopt.importer", "default_tag");
    }
    PyObject *key = PyUnicode_FromFormat("%s|%S|%d", FATOPT_VERSION, stamp, flag("optimize"));
    Py_DECREF(stamp);
    PyObject *encoded = key ? PyUnicode_AsUTF8String(key) : NULL;
    Py_XDECREF(key);
    if (encoded == NULL) {
        return NULL;
    }
    PyObject *digest = PyObject_CallMethod(st->imp, "source_hash", "iO", 0xFA7, encoded);
    Py_DECREF(encoded);
    if (digest == NULL) {
        return NULL;
    }
    if (!PyBytes_Check(digest) || PyBytes_GET_SIZE(digest) < 4) {
        Py_DECREF(digest);
        PyErr_SetString(PyExc_RuntimeError, "_imp.source_hash gave no digest");
        return NULL;
    }
    const unsigned char *d = (const unsigned char *)PyBytes_AS_STRING(digest);
    PyObject *tag = PyUnicode_FromFormat("fatopt%02x%02x%02x%02x", d[0], d[1], d[2], d[3]);
    Py_DECREF(digest);
    return tag;
}

/* The -X fatopt / PYTHONFATOPT value that is on with the default configuration, which needs no
 * parsing: a bare -X fatopt (True) or "1". */
static int
is_plain_on(PyObject *value)
{
    return value == Py_True || (PyUnicode_Check(value) && PyUnicode_CompareWithASCIIString(value, "1") == 0);
}

/* sys.flags.<name> as an int (0 if it cannot be read) */
static int
flag(const char *name)
{
    PyObject *flags = PySys_GetObject("flags"); /* borrowed */
    PyObject *value = flags ? PyObject_GetAttrString(flags, name) : NULL;
    if (value == NULL) {
        PyErr_Clear();
        return 0;
    }
    long n = PyLong_Check(value) ? PyLong_AsLong(value) : PyObject_IsTrue(value);
    Py_DECREF(value);
    if (n == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return (int)n;
}

/* The environment's PYTHONFATOPT (os.environ, as fatopt.importer reads it), or NULL. */
static PyObject *
environment_value(void)
{
    if (flag("ignore_environment")) {
        return NULL;
    }
    PyObject *os = PyImport_ImportModule("os");
    PyObject *environ = os ? PyObject_GetAttrString(os, "environ") : NULL;
    Py_XDECREF(os);
    PyObject *value = environ ? PyObject_CallMethod(environ, "get", "s", "PYTHONFATOPT") : NULL;
    Py_XDECREF(environ);
    if (value == Py_None) {
        Py_CLEAR(value);
    }
    PyErr_Clear();
    return value;
}

/* The main script runs optimized too (fatopt._main); -c, -m (the import hook has it) and the
 * interactive prompt stay as they are. */
static int
wants_main_hook(void)
{
    PyObject *argv = PySys_GetObject("argv"); /* borrowed */
    if (argv == NULL || !PyList_Check(argv) || PyList_GET_SIZE(argv) == 0 || flag("inspect")) {
        return 0;
    }
    PyObject *first = PyList_GET_ITEM(argv, 0);
    if (!PyUnicode_Check(first)) {
        return 0;
    }
    return !(PyUnicode_GET_LENGTH(first) == 0 || PyUnicode_CompareWithASCIIString(first, "-c") == 0
             || PyUnicode_CompareWithASCIIString(first, "-m") == 0);
}

static int
activate_hook(PyObject *module)
{
    HookState *st = get_state(module);
    if (st->activated) {
        return 0;
    }
    st->activated = 1;
    if (PyInterpreterState_Get() != PyInterpreterState_Main()) {
        /* the guard runtime (fatopt._guards) serves the main interpreter only: subinterpreters
         * run plain */
        return 0;
    }
    PyObject *xoptions = PySys_GetXOptions(); /* borrowed */
    PyObject *xvalue = xoptions ? PyDict_GetItemString(xoptions, "fatopt") : NULL; /* borrowed */
    PyObject *envvalue = environment_value();
    if (xvalue == NULL && envvalue == NULL) {
        /* fatopt.pth asks for os.environ's PYTHONFATOPT, which -E and -I leave in os.environ:
         * what the interpreter ignores, fatopt ignores too */
        return 0;
    }
    int simple = (xvalue == NULL || is_plain_on(xvalue)) && (envvalue == NULL || is_plain_on(envvalue));
    Py_XDECREF(envvalue);
    if (simple) {
        PyObject *tag = default_tag(module, NULL);
        if (tag == NULL) {
            return -1;
        }
        PyObject *exclude = Py_BuildValue("(s)", "fatopt");
        int failed = exclude == NULL || set_options(st, tag, exclude, 0, NULL, Py_None) < 0;
        Py_DECREF(tag);
        Py_XDECREF(exclude);
        if (failed) {
            return -1;
        }
    }
    else {
        /* anything else is parsed in Python: (tag, exclude, verbose, quiet), or None for off (a
         * malformed value has been reported) */
        PyObject *parsed = call_python("fatopt.importer", "hook_options");
        if (parsed == NULL) {
            return -1;
        }
        if (parsed == Py_None) {
            Py_DECREF(parsed);
            return 0;
        }
        PyObject *tag, *exclude, *quiet = NULL, *cache_dir = Py_None;
        int verbose;
        int failed = !PyArg_ParseTuple(parsed, "OOp|OO", &tag, &exclude, &verbose, &quiet, &cache_dir)
                     || set_options(st, tag, exclude, verbose, quiet, cache_dir) < 0;
        Py_DECREF(parsed);
        if (failed) {
            return -1;
        }
    }
    if (install_hook(st) < 0) {
        return -1;
    }
    if (wants_main_hook() && install_main_hook(module) < 0) {
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ module functions ------- */

PyDoc_STRVAR(activate_doc,
"activate()\n--\n\n"
"Start-up: what fatopt.pth runs when -X fatopt or PYTHONFATOPT is given.  Reads the options,\n"
"installs the hook, arranges for the main script to run optimized.  Never raises: a problem is\n"
"reported on stderr and Python runs unoptimized.");

static PyObject *
activate(PyObject *module, PyObject *unused)
{
    if (activate_hook(module) < 0) {
        if (!PyErr_ExceptionMatches(PyExc_Exception)) {
            return NULL;
        }
        PyObject *exc = PyErr_GetRaisedException();
        PySys_FormatStderr("fatopt: could not start (%R); running unoptimized\n", exc);
        Py_XDECREF(exc);
        uninstall_hook(get_state(module));
        PyErr_Clear();
    }
    Py_RETURN_NONE;
}

static PyObject *
install(PyObject *module, PyObject *args)
{
    PyObject *tag, *exclude, *quiet = NULL, *cache_dir = Py_None;
    int verbose;
    if (!PyArg_ParseTuple(args, "UO!p|O!O:install", &tag, &PyTuple_Type, &exclude, &verbose, &PyTuple_Type, &quiet,
                          &cache_dir)) {
        return NULL;
    }
    HookState *st = get_state(module);
    if (set_options(st, tag, exclude, verbose, quiet, cache_dir) < 0 || install_hook(st) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
uninstall(PyObject *module, PyObject *unused)
{
    if (uninstall_hook(get_state(module)) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
disable(PyObject *module, PyObject *unused)
{
    get_state(module)->enabled = 0;
    Py_RETURN_NONE;
}

static PyObject *
options(PyObject *module, PyObject *unused)
{
    HookState *st = get_state(module);
    if (!st->enabled) {
        Py_RETURN_NONE;
    }
    return Py_BuildValue("(OOO)", st->tag, st->exclude, st->verbose ? Py_True : Py_False);
}

static PyObject *
cache_dir(PyObject *module, PyObject *unused)
{
    HookState *st = get_state(module);
    return Py_NewRef(st->enabled && st->cache_dir != NULL ? st->cache_dir : Py_None);
}

static PyObject *
cache_file_py(PyObject *module, PyObject *source_path)
{
    HookState *st = get_state(module);
    PyObject *path = st->tag == NULL ? NULL : cache_file(st, source_path);
    return path != NULL ? path : Py_NewRef(Py_None);
}

static PyObject *
busy(PyObject *module, PyObject *unused)
{
    return PyLong_FromSsize_t(get_state(module)->busy);
}

static PyObject *
set_bypass(PyObject *module, PyObject *on)
{
    int value = PyObject_IsTrue(on);
    if (value < 0) {
        return NULL;
    }
    HookState *st = get_state(module);
    PyObject *me = PyLong_FromUnsignedLong(PyThread_get_thread_ident());
    if (me == NULL) {
        return NULL;
    }
    int failed = value ? PySet_Add(st->bypass, me) : PySet_Discard(st->bypass, me) < 0;
    Py_DECREF(me);
    if (failed) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
take_loaded_plain(PyObject *module, PyObject *unused)
{
    HookState *st = get_state(module);
    PyObject *fresh = PyList_New(0);
    if (fresh == NULL) {
        return NULL;
    }
    PyObject *taken = st->loaded_plain;
    st->loaded_plain = fresh;
    return taken;
}

static PyObject *
cached_code_py(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "cached_code(loader, fullname)");
        return NULL;
    }
    HookState *st = get_state(module);
    if (st->tag == NULL) {
        Py_RETURN_NONE;
    }
    PyObject *code = cached_code(st, args[0], args[1], 0);
    if (code == NULL && !PyErr_Occurred()) {
        Py_RETURN_NONE;
    }
    return code;
}

static PyObject *
read_cache(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "read_cache(path, source_path, get_source)");
        return NULL;
    }
    PyObject *code = read_cache_file(get_state(module), args[0], args[1], args[2], NULL);
    if (code == NULL && !PyErr_Occurred()) {
        Py_RETURN_NONE;
    }
    return code;
}

static PyObject *
import_counts(PyObject *module, PyObject *unused)
{
    HookState *st = get_state(module);
    return Py_BuildValue("{s:n,s:n,s:n}", "cached", st->n_cached, "optimized", st->n_optimized,
                         "plain", st->n_plain);
}

static PyObject *
tracing_active(PyObject *module, PyObject *unused)
{
    return describe_active_tool(get_state(module));
}

static PyObject *
load_plain_for_tracer(PyObject *module, PyObject *unused)
{
    int traced = tracing_now(get_state(module));
    return traced < 0 ? NULL : PyBool_FromLong(traced);
}

static PyObject *
original_builtins(PyObject *module, PyObject *unused)
{
    return Py_NewRef(get_state(module)->original_builtins);
}

static PyMethodDef importhook_methods[] = {
    {"_on_py_start", (PyCFunction)(void (*)(void))on_py_start, METH_FASTCALL, "sys.monitoring PY_START callback (internal)"},
    {"_on_gc", (PyCFunction)(void (*)(void))on_gc, METH_FASTCALL,
     "gc.callbacks entry while the optimizer is loaded: drops it once idle (internal)"},
    {"_main_trampoline", (PyCFunction)(void (*)(void))main_trampoline, METH_FASTCALL,
     "sys.excepthook while the main script starts (internal)"},
    {"_report_unhandled", report_unhandled, METH_O, "the main script's unhandled exception (internal)"},
    {"_exit_like_sigint", exit_like_sigint, METH_NOARGS, "atexit handler (internal)"},
    {"_watch_main_start", watch_main_start_py, METH_NOARGS,
     "_watch_main_start()\n--\n\nWatch for the main script's start with sys.monitoring; False if no tool id is free."},
    {"import_counts", import_counts, METH_NOARGS,
     "import_counts()\n--\n\nThe modules fatopt handled so far: {'cached': served from its cache,\n"
     "'optimized': optimized on a cache miss, 'plain': loaded unoptimized}."},
    {"original_builtins", original_builtins, METH_NOARGS,
     "original_builtins()\n--\n\nThe builtins dict as it was when this module was loaded (at start-up,\n"
     "from fatopt.pth: before sitecustomize or the program could patch a builtin)."},
    {"tracing_active", tracing_active, METH_NOARGS,
     "tracing_active()\n--\n\nWhich tracer, profiler or sys.monitoring tool makes modules imported now\n"
     "load unoptimized (\"sys.settrace: bdb.Bdb.trace_dispatch\", \"sys.monitoring tool 2: 'cProfile'\"),\n"
     "or None: this thread's trace and profile functions, and tools 0-5 but fatopt's own."},
    {"load_plain_for_tracer", load_plain_for_tracer, METH_NOARGS,
     "load_plain_for_tracer()\n--\n\nWhether a module loaded now must load plain because tracing_active()\n"
     "(the import hook's own test, for loaders of others: pytest's); said once on stderr in verbose mode."},
    {"activate", activate, METH_NOARGS, activate_doc},
    {"install", install, METH_VARARGS,
     "install(tag, exclude, verbose, quiet=(), cache_dir=None)\n--\n\nTurn the hook on with these options (idempotent).\n"
     "Verbose mode does not log modules under the directories in quiet; cache_dir: fatopt's own cache directory."},
    {"cache_dir", cache_dir, METH_NOARGS,
     "cache_dir()\n--\n\nfatopt's own cache directory (cache_dir=PATH) while on, else None."},
    {"cache_file", cache_file_py, METH_O,
     "cache_file(source_path)\n--\n\nWhere the hook looks for the optimized code of source_path, or None."},
    {"busy", busy, METH_NOARGS,
     "busy()\n--\n\nHow many modules are being optimized now (all threads)."},
    {"uninstall", uninstall, METH_NOARGS,
     "uninstall()\n--\n\nRemove the hook; modules already imported stay as they are."},
    {"disable", disable, METH_NOARGS,
     "disable()\n--\n\nfatopt off for the rest of the process (the hook stays, loading plainly)."},
    {"options", options, METH_NOARGS,
     "options()\n--\n\n(tag, exclude, verbose) while on, else None."},
    {"default_tag", default_tag, METH_NOARGS,
     "default_tag()\n--\n\nThe cache tag of the default configuration."},
    {"register", register_loader, METH_O,
     "register(loader)\n--\n\nHave fatopt handle this SourceFileLoader's module (the main script)."},
    {"set_bypass", set_bypass, METH_O,
     "set_bypass(on)\n--\n\nWhile on, imports on this thread load plain (the optimizer is being imported)."},
    {"take_loaded_plain", take_loaded_plain, METH_NOARGS,
     "take_loaded_plain()\n--\n\nThe (loader, name) pairs loaded plain during the bypass, and forget them."},
    {"cached_code", (PyCFunction)(void (*)(void))cached_code_py, METH_FASTCALL,
     "cached_code(loader, fullname)\n--\n\nThe module's optimized code from the cache, or None."},
    {"read_cache", (PyCFunction)(void (*)(void))read_cache, METH_FASTCALL,
     "read_cache(path, source_path, get_source)\n--\n\n"
     "The code object cached at path if valid for the source, else None (get_source(path) gives\n"
     "the source bytes, for hash-based files)."},
    {NULL, NULL, 0, NULL},
};

/* ------------------------------------------------------------------ module state ----------- */

static int
importhook_traverse(PyObject *module, visitproc visit, void *arg)
{
    HookState *st = get_state(module);
    Py_VISIT(st->tag);
    Py_VISIT(st->plain_suffix);
    Py_VISIT(st->exclude);
    Py_VISIT(st->quiet);
    Py_VISIT(st->cache_dir);
    Py_VISIT(st->on_gc);
    Py_VISIT(st->path_abspath);
    Py_VISIT(st->registered);
    Py_VISIT(st->bypass);
    Py_VISIT(st->stash);
    Py_VISIT(st->loaded_plain);
    Py_VISIT(st->source_loader);
    Py_VISIT(st->orig_get_code);
    Py_VISIT(st->orig_create_module);
    Py_VISIT(st->cache_from_source);
    Py_VISIT(st->optimization_kwnames);
    Py_VISIT(st->magic);
    Py_VISIT(st->imp);
    Py_VISIT(st->stat);
    Py_VISIT(st->factory);
    Py_VISIT(st->original_builtins);
    Py_VISIT(st->gettrace);
    Py_VISIT(st->getprofile);
    Py_VISIT(st->get_tool);
    Py_VISIT(st->exit_like_sigint);
    Py_VISIT(st->main_trampoline);
    Py_VISIT(st->armed_code);
    Py_VISIT(st->armed_globals);
    Py_VISIT(st->armed_hook);
    Py_VISIT(st->on_py_start);
    Py_VISIT(st->start_optimized);
    Py_VISIT(st->path_hook);
    Py_VISIT(st->get_code);
    Py_VISIT(st->create_module);
    Py_VISIT(st->hook_method_type);
    return 0;
}

static int
importhook_clear(PyObject *module)
{
    HookState *st = get_state(module);
    Py_CLEAR(st->tag);
    Py_CLEAR(st->plain_suffix);
    Py_CLEAR(st->exclude);
    Py_CLEAR(st->quiet);
    Py_CLEAR(st->cache_dir);
    Py_CLEAR(st->on_gc);
    Py_CLEAR(st->path_abspath);
    Py_CLEAR(st->registered);
    Py_CLEAR(st->bypass);
    Py_CLEAR(st->stash);
    Py_CLEAR(st->loaded_plain);
    Py_CLEAR(st->source_loader);
    Py_CLEAR(st->orig_get_code);
    Py_CLEAR(st->orig_create_module);
    Py_CLEAR(st->cache_from_source);
    Py_CLEAR(st->optimization_kwnames);
    Py_CLEAR(st->magic);
    Py_CLEAR(st->imp);
    Py_CLEAR(st->stat);
    Py_CLEAR(st->factory);
    Py_CLEAR(st->original_builtins);
    Py_CLEAR(st->gettrace);
    Py_CLEAR(st->getprofile);
    Py_CLEAR(st->get_tool);
    Py_CLEAR(st->exit_like_sigint);
    Py_CLEAR(st->main_trampoline);
    Py_CLEAR(st->armed_code);
    Py_CLEAR(st->armed_globals);
    Py_CLEAR(st->armed_hook);
    Py_CLEAR(st->on_py_start);
    Py_CLEAR(st->start_optimized);
    Py_CLEAR(st->path_hook);
    Py_CLEAR(st->get_code);
    Py_CLEAR(st->create_module);
    Py_CLEAR(st->hook_method_type);
    Py_CLEAR(st->str_path);
    Py_CLEAR(st->str_get_data);
    Py_CLEAR(st->str_name);
    Py_CLEAR(st->str_read);
    Py_CLEAR(st->str_close);
    Py_CLEAR(st->str_source_hash);
    Py_CLEAR(st->str_initializing);
    return 0;
}

static void
importhook_free(void *module)
{
    importhook_clear((PyObject *)module);
}

static int
importhook_exec(PyObject *module)
{
    HookState *st = get_state(module);
    st->runtime_ok = -1;
    st->hook_method_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &hook_method_spec, NULL);
    if (st->hook_method_type == NULL) {
        return -1;
    }
    PyObject *source_loader_base = machinery_attr("SourceLoader");
    if (source_loader_base == NULL) {
        return -1;
    }
    st->orig_get_code = PyObject_GetAttrString(source_loader_base, "get_code");
    st->orig_create_module = PyObject_GetAttrString(source_loader_base, "create_module");
    Py_DECREF(source_loader_base);
    st->source_loader = machinery_attr("SourceFileLoader");
    st->cache_from_source = machinery_attr("cache_from_source");
    st->path_abspath = machinery_attr("_path_abspath");
    st->optimization_kwnames = Py_BuildValue("(s)", "optimization");
    st->magic = machinery_attr("MAGIC_NUMBER");
    st->imp = PyImport_ImportModule("_imp");
    PyObject *os = PyImport_ImportModule("os");
    st->stat = os ? PyObject_GetAttrString(os, "stat") : NULL;
    Py_XDECREF(os);
    st->registered = PySet_New(NULL);
    st->bypass = PySet_New(NULL);
    st->stash = PyDict_New();
    st->loaded_plain = PyList_New(0);
    st->exclude = PyTuple_New(0);
    st->quiet = PyTuple_New(0);
    st->main_tool = -1;
    st->on_py_start = PyObject_GetAttrString(module, "_on_py_start");
    st->on_gc = PyObject_GetAttrString(module, "_on_gc");
    st->main_trampoline = PyObject_GetAttrString(module, "_main_trampoline");
    st->exit_like_sigint = PyObject_GetAttrString(module, "_exit_like_sigint");
    PyObject *sys = PyImport_ImportModule("sys");
    st->gettrace = sys ? PyObject_GetAttrString(sys, "gettrace") : NULL;
    st->getprofile = sys ? PyObject_GetAttrString(sys, "getprofile") : NULL;
    Py_XDECREF(sys);
    st->get_tool = monitoring_attr("get_tool");
    PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
    st->original_builtins = builtins ? PyDict_Copy(builtins) : NULL;
    st->str_path = PyUnicode_InternFromString("path");
    st->str_get_data = PyUnicode_InternFromString("get_data");
    st->str_name = PyUnicode_InternFromString("name");
    st->str_read = PyUnicode_InternFromString("read");
    st->str_close = PyUnicode_InternFromString("close");
    st->str_source_hash = PyUnicode_InternFromString("source_hash");
    st->str_initializing = PyUnicode_InternFromString("_initializing");
    if (!st->orig_get_code || !st->orig_create_module || !st->path_abspath || !st->source_loader || !st->cache_from_source || !st->optimization_kwnames
        || !st->magic || !st->imp || !st->stat || !st->registered || !st->bypass || !st->stash || !st->loaded_plain
        || !st->exclude || !st->quiet || !st->original_builtins
        || !st->on_py_start || !st->on_gc || !st->main_trampoline || !st->exit_like_sigint
        || !st->gettrace || !st->getprofile || !st->get_tool
        || !st->str_path || !st->str_get_data || !st->str_name || !st->str_read || !st->str_close
        || !st->str_source_hash || !st->str_initializing) {
        return -1;
    }
    if (!PyBytes_Check(st->magic) || PyBytes_GET_SIZE(st->magic) != 4) {
        PyErr_SetString(PyExc_ImportError, "_fatopt_importhook: unexpected importlib MAGIC_NUMBER");
        return -1;
    }
    st->get_code = new_hook_method(module, st->orig_get_code, HOOK_GET_CODE);
    st->create_module = new_hook_method(module, st->orig_create_module, HOOK_CREATE_MODULE);
    st->factory = new_hook_method(module, st->source_loader, HOOK_LOADER_FACTORY);
    if (st->get_code == NULL || st->create_module == NULL || st->factory == NULL) {
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot importhook_slots[] = {
    {Py_mod_exec, importhook_exec},
    /* all state is per module; fatopt activates in the main interpreter only (see activate) */
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static PyModuleDef importhook_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_fatopt_importhook",
    .m_doc = "The import hook's warm path (see fatopt/importer.py for the options it is given).",
    .m_size = sizeof(HookState),
    .m_methods = importhook_methods,
    .m_slots = importhook_slots,
    .m_traverse = importhook_traverse,
    .m_clear = importhook_clear,
    .m_free = importhook_free,
};

PyMODINIT_FUNC
PyInit__fatopt_importhook(void)
{
    return PyModuleDef_Init(&importhook_module);
}
