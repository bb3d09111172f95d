#ifndef OCSLOG_CPCRE2_SHIM_H
#define OCSLOG_CPCRE2_SHIM_H

/* ocslog matches 8-bit code units (UTF-8 bytes). The unsuffixed PCRE2 names are macros that
   Swift cannot import, so Swift calls the *_8 functions directly. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* PCRE2_SIZE is size_t, which Swift imports as Int: PCRE2_UNSET (~0) reads as -1 there.
   ocslog always passes explicit lengths, never PCRE2_ZERO_TERMINATED. */

#endif
