#ifndef MAILFERRY_CARCHIVE_SHIM_H
#define MAILFERRY_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#endif
