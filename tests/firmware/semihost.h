/* ARM semihosting calls of tests/firmware/start.c (qemu -semihosting-config target=native). */
#ifndef ACTC_TEST_SEMIHOST_H
#define ACTC_TEST_SEMIHOST_H
#include <stddef.h>
#define SH_WRITE_BINARY 5 /* "wb" */
int sh_open(const char *path, int mode);
void sh_write(int fd, const void *data, size_t n);
void sh_close(int fd);
void sh_exit(int code);
#endif
