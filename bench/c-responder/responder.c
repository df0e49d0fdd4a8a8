/*
 * Minimal multi-threaded FastCGI responder: the protocol ceiling of the
 * benchmark, and a stand-in pool for testing deploy/ without the Swift one.
 *
 * Every request is answered `200 {"status":"ok"}` with the same
 * `X-Served-By` header the real responder sends (RESPONDER_NAME, default
 * "c-responder"). WORKERS threads (default 4) accept under one lock, as
 * fcgi2's examples/threaded.c does. SIGTERM stops accepting, lets in-flight
 * requests finish and exits 0.
 *
 * Build (Debian: apt-get install libfcgi-dev):
 *   cc -O2 -Wall -pthread -o /tmp/c-responder bench/c-responder/responder.c -lfcgi
 * Run behind spawn-fcgi (socket on fd 0), or: RESPONDER_BIN=/tmp/c-responder deploy/cluster up
 */
#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_WORKERS 256

static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t stopping = 0;
static char header[512];
static int header_len;
static const char body[] = "{\"status\":\"ok\"}";

/* libfcgi's own SIGTERM handler only sets a flag that a thread blocked in
 * accept() never sees. Shutting the listening socket down wakes every
 * accept() with an error (Linux), so each worker leaves its loop. Both calls
 * are async-signal-safe. */
static void on_term(int sig) {
    (void)sig;
    stopping = 1;
    FCGX_ShutdownPending();
    shutdown(0, SHUT_RDWR);
}

static void *worker(void *arg) {
    (void)arg;
    FCGX_Request req;
    if (FCGX_InitRequest(&req, 0, 0) != 0) return NULL;
    for (;;) {
        pthread_mutex_lock(&accept_lock);
        int rc = stopping ? -1 : FCGX_Accept_r(&req);
        pthread_mutex_unlock(&accept_lock);
        if (rc < 0) break;
        FCGX_PutStr(header, header_len, req.out);
        FCGX_PutStr(body, (int)sizeof body - 1, req.out);
        FCGX_Finish_r(&req);
    }
    FCGX_Free(&req, 1);
    return NULL;
}

int main(void) {
    const char *name = getenv("RESPONDER_NAME");
    const char *w = getenv("WORKERS");
    int workers = w ? atoi(w) : 4;
    if (workers < 1 || workers > MAX_WORKERS) {
        fprintf(stderr, "WORKERS must be 1..%d\n", MAX_WORKERS);
        return 2;
    }
    header_len = snprintf(header, sizeof header,
                          "Status: 200 OK\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\nX-Served-By: %s\r\n\r\n",
                          sizeof body - 1, name && *name ? name : "c-responder");
    if (header_len < 0 || header_len >= (int)sizeof header) return 2;

    if (FCGX_Init() != 0) return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term; /* no SA_RESTART: interrupt blocking calls */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    pthread_t tids[MAX_WORKERS];
    int started = 0;
    for (int i = 0; i < workers; i++)
        if (pthread_create(&tids[started], NULL, worker, NULL) == 0) started++;
    for (int i = 0; i < started; i++) pthread_join(tids[i], NULL);
    return started > 0 ? 0 : 1;
}
