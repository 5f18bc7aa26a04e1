// Inlining attributes of the publishing hot path, in one place. GCC and Clang honour them (the
// log call's cost depends on its pieces being inlined at the call site, and its rare paths being
// kept out of it); other compilers get plain functions.
#pragma once

#if defined(__GNUC__)
#define OUROBOROS_ALWAYS_INLINE [[gnu::always_inline]]
#define OUROBOROS_NOINLINE [[gnu::noinline]]
#else
#define OUROBOROS_ALWAYS_INLINE
#define OUROBOROS_NOINLINE
#endif
