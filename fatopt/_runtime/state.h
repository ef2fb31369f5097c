/* fatopt._guards' private types: condition kinds, a condition, a specialization, module state.
 *
 * A *specialization* pairs a function's specialized code with its original code and the
 * conditions the specialized code relies on.  Which file does what:
 *   ptrindex.c      the pointer-pair index: which conditions depend on an object or a key of it
 *   guard_kinds.c   the guard kinds: a guard's recipe -> its conditions (one builder per kind)
 *   conditions.c    the condition kinds: parsing a condition, evaluating it
 *   watchers.c      dict/function/type watcher callbacks, watching and unwatching objects
 *   swap.c          a condition changed: keep the function's code in step, deferred re-checks
 *   registration.c  the Specialization type; register/born/specialize/unregister
 *   traceback_parts.c   what the traceback editors below share
 *   genexpr_traceback.c genexpr_raised: tracebacks of generator expressions made comprehensions
 *   inline_traceback.c  inlined_raised: tracebacks of code inlined into its caller
 *   materialize.c       materialize: the object scalar replacement did not make, made when needed
 *   ../_guards.c    the module: its functions, state lifetime, init
 */
#ifndef FATOPT_STATE_H
#define FATOPT_STATE_H

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>

#include "ptrindex.h"

#if PY_VERSION_HEX < 0x030C0000
#error "fatopt._guards needs CPython 3.12 or newer (dict/function/type watchers)"
#endif

/* Condition kinds, exported to Python as COND_* constants (the values are part of born()'s and
 * register()'s argument format).  Switches over a CondKind list every kind and have no
 * `default:`, so -Wswitch-enum names each switch a new kind must be added to. */
typedef enum {
    COND_DICT_IS = 1,     /* dict[key] is expected */
    COND_DICT_CONST = 2,  /* dict[key] is the same constant as expected (type and value, -0.0 != 0.0) */
    COND_DICT_ABSENT = 3, /* key not in dict */
    COND_FUNC = 4,        /* function's code, defaults and kwdefaults unchanged */
    COND_TYPE_ATTR = 5,   /* attribute found on the type's MRO is expected */
    COND_TYPE_ATTR_ABSENT = 6, /* attribute found nowhere on the type's MRO */
    COND_TYPE_ATTR_CONST = 7,  /* attribute found on the type's MRO is the same constant as expected */
    COND_NEVER = 8,       /* never holds: a guard that cannot apply (see guard_kinds.c) */
    /* no instance of the type has had its __class__ assigned since registration (once one has,
     * never again: code that checked an object's exact type at entry must not run on) */
    COND_INSTANCE_CLASS = 9,
    /* no instance whose dict the runtime watches (instance_unshadowed: watchers.c), of any
     * class (conservative), has gained the attribute since registration (once one has, never
     * again: code that checked at entry that an object's dict lacks the name, to call the
     * class's method directly, must not run on).  A key, no expected object. */
    COND_INSTANCE_ATTR_ABSENT = 10,
} CondKind;

typedef struct SpecObject SpecObject;

struct Condition {
    CondKind kind;
    SpecObject *spec;      /* owner (borrowed) */
    /* Borrowed, never owned: a condition must not keep alive what may refer back to the guarded
     * function (a callee or a class of its own module refers to the module's namespace, which
     * holds the function: the registry would keep that cycle alive for good).  A dict's
     * deallocation is an event the dict watcher handles; a function or type target is followed
     * by `target_ref` and read only while that is alive. */
    PyObject *target;
    PyObject *target_ref;  /* strong weakref to the target: COND_FUNC, COND_TYPE_ATTR* */
    PyObject *key;         /* strong, interned str: dict key or attribute name; NULL for COND_FUNC, COND_NEVER */
    /* Object, constant, or code (COND_FUNC); NULL for *_ABSENT, COND_NEVER.  Strong, except a
     * Python function or a heap type, held by a weakref (expected_weak): see cond_expected(). */
    PyObject *expected;
    PyObject *defaults;    /* strong or NULL: COND_FUNC */
    PyObject *kwdefaults;  /* strong or NULL: COND_FUNC */
    PyObject **mro;        /* COND_TYPE_ATTR*: the MRO watched at registration (PyMem array of */
    Py_ssize_t nmro;       /* borrowed pointers, the index's keys; read only while the target
                            * is alive and still has this very MRO) */
    char expected_weak;
    /* COND_TYPE_ATTR whose expected object is a staticmethod: `expected` is a weakref to the
     * function it wraps (a staticmethod cannot be weakly referenced), and the condition holds
     * while the attribute is exactly a staticmethod of that function: see type_attr_is() */
    char expected_static;
    char holds;
    char dead;             /* target gone or unwatchable: never holds again */
};

struct SpecObject {
    PyObject_HEAD
    PyFunctionObject *func; /* borrowed; valid while `func_ref` has not fired */
    PyObject *func_ref;     /* weakref to func whose callback detaches this specialization */
    PyObject *original;     /* code */
    PyObject *specialized;  /* code */
    PyObject *guards;       /* tuple of the guards' recipes, for get_specialized() */
    /* strong or NULL: the list the specialized code's inlined call sites test before running
     * the inlined copy, [True] while the specialization is valid, [] otherwise (see swap.c's
     * show_validity) */
    PyObject *valid_flag;
    Condition *conds;
    Py_ssize_t nconds;
    Py_ssize_t nfailing;    /* conditions that do not hold */
    char unknown;           /* some condition's state is unknown until the pending re-check */
    char indexed;           /* conditions are in the index */
    char dead;              /* detached from its function for good */
    char queued;            /* in the pending list */
    Py_ssize_t invalidations;
    Py_ssize_t revalidations;
};

typedef struct {
    PyTypeObject *spec_type;
    PyObject *registry;      /* dict: int(id(func)) -> Spec */
    PyObject *refs;          /* dict: weakref -> int(id(func)), to find a dead function's entry */
    PyObject *pending;       /* list of Spec to re-check or tear down */
    PyObject *died;          /* the weakref callback (a builtin function bound to the module) */
    PyObject *born_install;  /* _born_install, bound to the module (see born()) */
    PyObject *partial;       /* functools.partial */
    PyObject *original_builtins; /* fatopt._ORIGINAL_BUILTINS: what "the builtin" means */
    PyObject *first_call_learn;  /* strong or NULL: the argument-types watch (swap.c's first_call) */
    /* Names used on born()'s paths, made once: a name made per call costs an allocation, and
     * CPython's type attribute cache keys on the name's address, so fresh names would each keep
     * a cache slot (and their memory) alive until evicted. */
    PyObject *str_replace;   /* "replace" */
    PyObject *str_runtime;   /* "fatopt.runtime" */
    PyObject *str_unoptimized; /* "_unoptimized" */
    PyObject *str_class;     /* "__class__": the index key of COND_INSTANCE_CLASS conditions */
    /* the code-extra index marking the renamed codes the traceback editors make (each holds
     * the code it was renamed from there: traceback_parts.c's tb_renamed_from) */
    Py_ssize_t code_mark;
    /* 3.13+: the interpreter's _PyFunction_SetVersion, or NULL (see swap.c) */
    void (*set_func_version)(PyFunctionObject *, uint32_t);
    PtrMap index;
    /* name -> (keyed (SHADOWS, name): watchers.c) a slot whose one item is the *shadow proxy*
     * of the name: a Condition of kind COND_INSTANCE_ATTR_ABSENT with no spec, owned here, which
     * the index lists under (dict, name) for each watched instance dict (instance_unshadowed) */
    PtrMap shadows;
    int dict_watcher;        /* -1: not registered (yet) */
    int func_watcher;
    int type_watcher;
    char audit_hook_added;   /* the __class__ assignment hook (watchers.c), once needed */
    char audit_hook_refused; /* another audit hook refused it */
    char pending_scheduled;
    char no_watcher_warned;
    Py_ssize_t total_registered;
} State;

#endif
