#define _GNU_SOURCE
#include <unistd.h>
#ifdef __linux__
#include <sys/vfs.h>
#endif
#include "mailferry_system.h"

int mailferry_syncfs(int fd) {
#ifdef __linux__
    return syncfs(fd);
#else
    (void)fd;
    sync();
    return 0;
#endif
}

int mailferry_file_system_type(int fd, long long *type) {
#ifdef __linux__
    struct statfs info;
    int result = fstatfs(fd, &info);
    if (result == 0) *type = (long long)info.f_type;
    return result;
#else
    (void)fd;
    *type = 0;
    return 0;
#endif
}
