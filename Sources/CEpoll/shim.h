#ifndef CEPOLL_SHIM_H
#define CEPOLL_SHIM_H
// Linux's epoll, eventfd and accept4, which Swift's Glibc module leaves out. `struct epoll_event` is
// packed on x86-64, which Swift cannot lay out, so it stays on this side of two small helpers.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

/// accept4(2), which <sys/socket.h> declares only under _GNU_SOURCE.
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

/// Accepts one connection on `fd`, close-on-exec.
static inline int cepoll_accept(int fd) { return accept4(fd, 0, 0, SOCK_CLOEXEC); }

/// Waits for one event on `epfd`; stores its descriptor in `*fd`. Returns epoll_wait's result.
static inline int cepoll_wait_one(int epfd, int *fd) {
    struct epoll_event event;
    int count = epoll_wait(epfd, &event, 1, -1);
    if (count == 1) *fd = event.data.fd;
    return count;
}

/// Adds (`add` true) or re-arms `fd` for reading, one-shot or not.
static inline int cepoll_watch(int epfd, int add, int fd, int one_shot) {
    struct epoll_event event = {0};
    event.events = EPOLLIN | EPOLLRDHUP | (one_shot ? EPOLLONESHOT : 0);
    event.data.fd = fd;
    return epoll_ctl(epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &event);
}
#endif
