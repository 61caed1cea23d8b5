#ifndef MAILFERRY_SYSTEM_H
#define MAILFERRY_SYSTEM_H

/* syncfs(2) is a GNU extension that Swift's Glibc module does not export. Returns 0 or -1 with errno set. */
int mailferry_syncfs(int fd);

#endif
