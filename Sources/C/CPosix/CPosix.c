#define _GNU_SOURCE
#include "CPosix.h"
#include <fcntl.h>
#include <errno.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdlib.h>
#include <termios.h>
#include <string.h>

int ltod_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *dir) {
    return posix_spawn_file_actions_addchdir_np(actions, dir);
}

int ltod_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int low) {
    return posix_spawn_file_actions_addclosefrom_np(actions, low);
}

int ltod_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int ltod_reflink(int dst_fd, int src_fd) { return ioctl(dst_fd, FICLONE, src_fd); }

int ltod_accept_cloexec(int listen_fd) { return accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC); }

long ltod_send_with_fds(int socket, const void *buf, unsigned long len, const int *fds, int nfds) {
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    char control[CMSG_SPACE(sizeof(int) * 4)];
    if (nfds > 0) {
        if (nfds > 4) { errno = EINVAL; return -1; }
        memset(control, 0, sizeof control);
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    return sendmsg(socket, &msg, MSG_NOSIGNAL);
}

long ltod_recv_with_fds(int socket, void *buf, unsigned long len, int *fds, int max_fds, int *nfds) {
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    char control[CMSG_SPACE(sizeof(int) * 8)];
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    *nfds = 0;
    long n = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int received[8];
        memcpy(received, CMSG_DATA(c), sizeof(int) * (count < 8 ? count : 8));
        for (int i = 0; i < count && i < 8; i++) {
            if (*nfds < max_fds) fds[(*nfds)++] = received[i];
            else close(received[i]);
        }
    }
    return n;
}

static const int termination_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static volatile sig_atomic_t trapped_signal;

static void record_signal(int signal) { trapped_signal = signal; }

void ltod_trap_termination_signals(void) {
    for (unsigned i = 0; i < sizeof termination_signals / sizeof termination_signals[0]; i++) {
        struct sigaction old;
        if (sigaction(termination_signals[i], NULL, &old) != 0 || old.sa_handler == SIG_IGN) continue;
        struct sigaction action = { .sa_handler = record_signal };
        sigemptyset(&action.sa_mask);
        sigaction(termination_signals[i], &action, NULL);
    }
}

int ltod_trapped_signal(void) { return trapped_signal; }

void ltod_die_by_signal(int signal) {
    struct sigaction action = { .sa_handler = SIG_DFL };
    sigemptyset(&action.sa_mask);
    sigaction(signal, &action, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(signal);
}

int ltod_lock_whole_file(int fd) {
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    return fcntl(fd, F_SETLK, &lock);
}

int ltod_lock_holder(int fd) {
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (fcntl(fd, F_GETLK, &lock) != 0) return -1;
    return lock.l_type == F_UNLCK ? 0 : lock.l_pid;
}

int ltod_open_raw_pty(int *master, int *slave, unsigned short columns, unsigned short rows) {
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) return -1;
    char name[128];
    if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, sizeof name) != 0) goto fail;
    int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) goto fail;
    struct termios t;
    if (tcgetattr(s, &t) != 0) { close(s); goto fail; }
    cfmakeraw(&t);
    if (tcsetattr(s, TCSANOW, &t) != 0) { close(s); goto fail; }
    if (columns > 0 && rows > 0) {
        struct winsize w = { .ws_row = rows, .ws_col = columns };
        (void)ioctl(s, TIOCSWINSZ, &w);
    }
    *master = m;
    *slave = s;
    return 0;
fail:
    close(m);
    return -1;
}
