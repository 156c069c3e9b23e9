/* Small POSIX file helpers shared by the modules: whole reads and writes that
 * retry on EINTR and short counts, and the fsyncs that make a file or a new
 * directory entry durable. All return 0 or -1 with errno set. */
#ifndef KURA_FSUTIL_H
#define KURA_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

int kura_fs_write_all(int fd, const void *buf, size_t n);
int kura_fs_pwrite_all(int fd, const void *buf, size_t n, uint64_t off);
/* Reads up to n bytes at off; *got < n only at end of file. */
int kura_fs_pread_full(int fd, void *buf, size_t n, uint64_t off, size_t *got);
/* Reads up to n bytes from a stream (pipe, file); *got < n only at end of input. */
int kura_fs_read_full(int fd, void *buf, size_t n, size_t *got);
/* fsync of the directory that holds path's entry (path may be the directory itself). */
int kura_fs_sync_dir(const char *dir);
/* Writes a small file durably: temp file (made exclusively), fsync, rename, fsync
 * of the directory. Refuses (ELOOP) when path's last component is a link. */
int kura_fs_write_file_atomic(const char *path, const void *buf, size_t n, mode_t mode);
/* An output a person named (-o FILE) that exists and is neither a regular file
 * nor a folder (a device such as /dev/null, a FIFO, a terminal) is written as
 * it is, never replaced by a rename: its descriptor, opened for writing. -1 with
 * errno 0 when path is a regular file, a folder or absent (write beside it and
 * rename); -1 with errno set when it could not be opened. */
int kura_fs_open_stream_output(const char *path);
/* Reads a whole small file (at most max bytes) into a NUL-terminated malloc'd
 * buffer owned by the caller. errno EFBIG when larger than max. */
int kura_fs_read_file(const char *path, size_t max, char **out, size_t *len);
/* Removes path and everything under it (no error if it is absent). */
int kura_fs_remove_tree(const char *path);

#endif
