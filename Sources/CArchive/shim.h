#ifndef MAILFERRY_CARCHIVE_SHIM_H
#define MAILFERRY_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>

/* The AE_IF* file type macros carry casts Swift cannot import; these give their values. */
static inline unsigned int mailferry_ae_ifreg(void) { return (unsigned int)AE_IFREG; }
static inline unsigned int mailferry_ae_ifmt(void) { return (unsigned int)AE_IFMT; }
#endif
