// CPosix exposes the few GNU/Linux calls that Swift's Glibc module hides behind
// _GNU_SOURCE: chdir and closefrom in posix_spawn, pipe2, accept4, and the FICLONE ioctl;
// and what Swift cannot express: descriptors passed over a Unix socket (SCM_RIGHTS, whose
// CMSG_* are macros), signal handlers that must stay async-signal-safe, and POSIX record
// locks, whose struct and commands Swift imports awkwardly.
#ifndef LTOD_CPOSIX_H
#define LTOD_CPOSIX_H
#include <spawn.h>

int ltod_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *dir);
/// Closes every descriptor from `low` up in the child.
int ltod_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int low);
int ltod_pipe_cloexec(int fds[2]);
/* A pseudo-terminal pair in raw mode (no line-ending translation), both ends close-on-exec,
   the slave not made a controlling terminal; with columns and rows above 0, of that size.
   Returns 0, or -1 with errno set. */
int ltod_open_raw_pty(int *master, int *slave, unsigned short columns, unsigned short rows);
/// accept4 with SOCK_CLOEXEC, so spawned children never inherit a client connection.
int ltod_accept_cloexec(int listen_fd);
/// Clones src into dst (same filesystem, reflink-capable); returns 0 or -1 with errno.
int ltod_reflink(int dst_fd, int src_fd);

/// sendmsg of `len` bytes with `nfds` descriptors attached (SCM_RIGHTS); MSG_NOSIGNAL.
long ltod_send_with_fds(int socket, const void *buf, unsigned long len, const int *fds, int nfds);
/// recvmsg of up to `len` bytes; descriptors that came with them (close-on-exec) are stored in
/// `fds` (at most `max_fds`; `*nfds` says how many, extras are closed). Returns what recvmsg returns.
long ltod_recv_with_fds(int socket, void *buf, unsigned long len, int *fds, int max_fds, int *nfds);

/// Catches SIGINT, SIGTERM, SIGHUP and SIGQUIT (those not ignored) with a handler that only
/// records the signal, without SA_RESTART, so a blocking call returns EINTR.
void ltod_trap_termination_signals(void);
/// The last signal the trap caught, or 0.
int ltod_trapped_signal(void);
/// Ends the process by `signal` (default action), as a process killed by it.
void ltod_die_by_signal(int signal);
/// Takes a write lock on the whole file without waiting (fcntl F_SETLK); 0 or -1 with errno.
int ltod_lock_whole_file(int fd);
/// The pid holding a lock that conflicts with a write lock on the whole file (fcntl F_GETLK,
/// which takes no lock); 0 when none does, -1 with errno on error.
int ltod_lock_holder(int fd);
#endif
