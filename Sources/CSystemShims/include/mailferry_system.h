#ifndef MAILFERRY_SYSTEM_H
#define MAILFERRY_SYSTEM_H

/* syncfs(2) is a GNU extension that Swift's Glibc module does not export. Returns 0 or -1 with errno set. */
int mailferry_syncfs(int fd);

/* fstatfs(2)'s f_type (the file system's magic number, MSDOS_SUPER_MAGIC for FAT): Swift's Glibc module does not
   export <sys/vfs.h>. Returns 0 or -1 with errno set. */
int mailferry_file_system_type(int fd, long long *type);

#endif
