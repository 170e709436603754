// CPosix exposes the few GNU/Linux calls that Swift's Glibc module hides behind
// _GNU_SOURCE: chdir and closefrom in posix_spawn, pipe2, accept4, and the FICLONE ioctl;
// and POSIX record locks, whose struct and commands Swift imports awkwardly.
#ifndef LTOD_CPOSIX_H
#define LTOD_CPOSIX_H
#include <spawn.h>

int ltod_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *dir);
/// Closes every descriptor from `low` up in the child.
int ltod_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int low);
int ltod_pipe_cloexec(int fds[2]);
/// accept4 with SOCK_CLOEXEC, so spawned children never inherit a client connection.
int ltod_accept_cloexec(int listen_fd);
/// Clones src into dst (same filesystem, reflink-capable); returns 0 or -1 with errno.
int ltod_reflink(int dst_fd, int src_fd);
/// Takes a write lock on the whole file without waiting (fcntl F_SETLK); 0 or -1 with errno.
int ltod_lock_whole_file(int fd);
/// The pid holding a lock that conflicts with a write lock on the whole file (fcntl F_GETLK,
/// which takes no lock); 0 when none does, -1 with errno on error.
int ltod_lock_holder(int fd);
#endif
