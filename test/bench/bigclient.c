/* test/bench/bigclient.c: the large-object client of test/bench/compare.py.
 * Plain blocking sockets and one thread per connection, so what it measures
 * is the server, not a client library. Paths come ready-made (presigned by
 * compare.py, or plain for nginx, which ignores the query string).
 *
 *   bigclient get  HOST PORT CONNS SECONDS PATHFILE
 *   bigclient put  HOST PORT CONNS SECONDS SIZE PATHFILE
 *   bigclient head HOST PORT PATH
 *
 * get/put: connection i works on line i (modulo the count) of PATHFILE and
 * repeats its request until SECONDS have passed (0: exactly once each);
 * prints "bytes=N seconds=S mbps=R requests=N errors=N". A PUT body is a
 * random 1 MiB block whose every 4 KiB carries a stamp unique to the
 * request and offset, so no two chunks are alike (s3gw stores a chunk
 * once by content: repeated bytes would measure deduplication).
 * head: sequential HEADs on one kept-alive connection until SIGTERM or
 * SIGINT; prints "count=N p50_us=N p99_us=N max_us=N errors=N". */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PIECE (1u << 20)
#define STAMP_EVERY 4096
#define HEAD_MAX 16384

typedef struct {
    const char *method;
    const char *path;
    unsigned long long size;    /* PUT body bytes */
    double seconds;
    int id;
    unsigned long long bytes;
    unsigned long requests;
    unsigned long errors;
} bc_job_t;

static const char *bc_host;
static int bc_port;
static volatile sig_atomic_t bc_stop;

static double
bc_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
bc_connect(void)
{
    struct sockaddr_in sa;
    int fd, one = 1;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t) bc_port);
    if (inet_pton(AF_INET, bc_host, &sa.sin_addr) != 1
        || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0)
    {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int
bc_send_all(int fd, const char *p, size_t n)
{
    ssize_t w;

    while (n > 0) {
        w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        p += w;
        n -= (size_t) w;
    }
    return 0;
}

/* Reads a response head into buf (its end may hold the first body bytes:
 * *extra of them); returns the status, or -1. */
static int
bc_read_head(int fd, char *buf, size_t cap, long long *clen, int *close_after,
             size_t *extra)
{
    size_t have = 0;
    ssize_t r;
    char *end, *p;
    int status;

    for (;;) {
        r = recv(fd, buf + have, cap - 1 - have, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return -1;
        }
        have += (size_t) r;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end != NULL) {
            break;
        }
        if (have >= cap - 1) {
            return -1;
        }
    }
    *extra = have - (size_t) (end + 4 - buf);
    *end = '\0';
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
        return -1;
    }
    *clen = 0;
    *close_after = 0;
    for (p = strstr(buf, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, "content-length:", 15) == 0) {
            *clen = atoll(p + 17);
        } else if (strncasecmp(p + 2, "connection: close", 17) == 0) {
            *close_after = 1;
        }
    }
    memmove(buf, end + 4, *extra);
    return status;
}

/* Fills a 1 MiB piece at body offset off: the random base with a stamp of
 * (request nonce, offset) every 4 KiB. */
static void
bc_stamp(char *piece, const char *base, uint64_t nonce, uint64_t off)
{
    size_t i;
    uint64_t o;

    memcpy(piece, base, PIECE);
    for (i = 0; i < PIECE; i += STAMP_EVERY) {
        o = off + i;
        memcpy(piece + i, &nonce, 8);
        memcpy(piece + i + 8, &o, 8);
    }
}

/* One request on *fd (reconnecting when needed); returns the body bytes
 * moved, or -1. */
static long long
bc_request(bc_job_t *j, int *fd, char *buf, char *piece, const char *base,
           uint64_t nonce)
{
    char head[2048];
    long long clen, got, moved = 0;
    unsigned long long off;
    size_t extra, n;
    ssize_t r;
    int status, close_after, len;

    if (*fd < 0 && (*fd = bc_connect()) < 0) {
        return -1;
    }
    if (j->size > 0) {
        len = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: %s:%d\r\n"
                       "Content-Length: %llu\r\n\r\n", j->method, j->path,
                       bc_host, bc_port, j->size);
    } else {
        len = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: %s:%d\r\n"
                       "\r\n", j->method, j->path, bc_host, bc_port);
    }
    if (len <= 0 || (size_t) len >= sizeof(head)
        || bc_send_all(*fd, head, (size_t) len) != 0)
    {
        goto fail;
    }
    for (off = 0; off < j->size; off += n) {
        n = j->size - off < PIECE ? (size_t) (j->size - off) : PIECE;
        bc_stamp(piece, base, nonce, off);
        if (bc_send_all(*fd, piece, n) != 0) {
            goto fail;
        }
        moved += (long long) n;
    }
    status = bc_read_head(*fd, buf, HEAD_MAX, &clen, &close_after, &extra);
    if (status < 0) {
        goto fail;
    }
    got = strcmp(j->method, "HEAD") == 0 ? clen : (long long) extra;
    while (got < clen) {
        r = recv(*fd, buf, PIECE, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            goto fail;
        }
        got += r;
    }
    if (strcmp(j->method, "GET") == 0) {
        moved = clen;
    }
    if (close_after) {
        close(*fd);
        *fd = -1;
    }
    return status >= 200 && status < 300 ? moved : -1;

fail:
    close(*fd);
    *fd = -1;
    return -1;
}

static void *
bc_worker(void *arg)
{
    bc_job_t *j = arg;
    char *buf, *piece = NULL, *base = NULL;
    double deadline = bc_now() + j->seconds;
    uint64_t seed, nonce;
    long long moved;
    size_t i;
    int fd = -1;

    buf = malloc(PIECE + HEAD_MAX);
    if (buf == NULL) {
        j->errors++;
        return NULL;
    }
    seed = (uint64_t) time(NULL) * 1000003u + (uint64_t) j->id * 7919u
           + (uint64_t) getpid();
    if (j->size > 0) {
        piece = malloc(PIECE);
        base = malloc(PIECE);
        if (piece == NULL || base == NULL) {
            j->errors++;
            goto done;
        }
        for (i = 0; i < PIECE; i += 8) {     /* xorshift64: random enough */
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            memcpy(base + i, &seed, 8);
        }
    }
    do {
        nonce = seed ^ ((uint64_t) j->requests << 32) ^ (uint64_t) j->id;
        moved = bc_request(j, &fd, buf, piece, base, nonce);
        if (moved < 0) {
            j->errors++;
        } else {
            j->bytes += (unsigned long long) moved;
        }
        j->requests++;
    } while (bc_now() < deadline && j->errors < 10);

done:
    if (fd >= 0) {
        close(fd);
    }
    free(buf);
    free(piece);
    free(base);
    return NULL;
}

static int
bc_cmp(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}

static void
bc_on_signal(int sig)
{
    (void) sig;
    bc_stop = 1;
}

/* The HEAD prober: its latencies while something else loads the server. */
static int
bc_head(const char *path)
{
    bc_job_t j = { "HEAD", path, 0, 0, 0, 0, 0, 0 };
    double *lat = NULL, *grown, t;
    size_t n = 0, cap = 0;
    struct sigaction sa;
    char *buf;
    int fd = -1;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = bc_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    buf = malloc(PIECE + HEAD_MAX);
    if (buf == NULL) {
        return 1;
    }
    while (!bc_stop) {
        t = bc_now();
        if (bc_request(&j, &fd, buf, NULL, NULL, 0) < 0) {
            j.errors++;
            if (j.errors > 100) {
                break;
            }
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            grown = realloc(lat, cap * sizeof(*lat));
            if (grown == NULL) {
                break;
            }
            lat = grown;
        }
        lat[n++] = (bc_now() - t) * 1e6;
    }
    if (n == 0) {
        printf("count=0 p50_us=0 p99_us=0 max_us=0 errors=%lu\n", j.errors);
    } else {
        qsort(lat, n, sizeof(*lat), bc_cmp);
        printf("count=%zu p50_us=%.0f p99_us=%.0f max_us=%.0f errors=%lu\n",
               n, lat[n / 2], lat[(size_t) ((double) n * 0.99)],
               lat[n - 1], j.errors);
    }
    if (fd >= 0) {
        close(fd);
    }
    free(lat);
    free(buf);
    return 0;
}

static int
bc_load_paths(const char *file, char ***paths, int *count)
{
    char line[8192], **v = NULL, **grown;
    int n = 0;
    FILE *f;

    f = fopen(file, "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0') {
            continue;
        }
        grown = realloc(v, (size_t) (n + 1) * sizeof(*v));
        if (grown == NULL || (grown[n] = strdup(line)) == NULL) {
            fclose(f);
            return -1;
        }
        v = grown;
        n++;
    }
    fclose(f);
    *paths = v;
    *count = n;
    return n > 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
    unsigned long long bytes = 0, size = 0;
    unsigned long requests = 0, errors = 0;
    bc_job_t *jobs;
    pthread_t *tids;
    char **paths;
    int conns, npaths, i, put;
    double seconds, t0, el;

    if (argc == 5 && strcmp(argv[1], "head") == 0) {
        bc_host = argv[2];
        bc_port = atoi(argv[3]);
        return bc_head(argv[4]);
    }
    put = argc == 8 && strcmp(argv[1], "put") == 0;
    if (!put && !(argc == 7 && strcmp(argv[1], "get") == 0)) {
        fprintf(stderr, "usage: bigclient get HOST PORT CONNS SECONDS FILE\n"
                "       bigclient put HOST PORT CONNS SECONDS SIZE FILE\n"
                "       bigclient head HOST PORT PATH\n");
        return 2;
    }
    bc_host = argv[2];
    bc_port = atoi(argv[3]);
    conns = atoi(argv[4]);
    seconds = atof(argv[5]);
    if (put) {
        size = strtoull(argv[6], NULL, 10);
    }
    if (conns < 1 || bc_load_paths(argv[argc - 1], &paths, &npaths) != 0) {
        fprintf(stderr, "bigclient: bad connection count or path file\n");
        return 2;
    }
    jobs = calloc((size_t) conns, sizeof(*jobs));
    tids = calloc((size_t) conns, sizeof(*tids));
    if (jobs == NULL || tids == NULL) {
        return 1;
    }
    t0 = bc_now();
    for (i = 0; i < conns; i++) {
        jobs[i].method = put ? "PUT" : "GET";
        jobs[i].path = paths[i % npaths];
        jobs[i].size = size;
        jobs[i].seconds = seconds;
        jobs[i].id = i;
        if (pthread_create(&tids[i], NULL, bc_worker, &jobs[i]) != 0) {
            return 1;
        }
    }
    for (i = 0; i < conns; i++) {
        pthread_join(tids[i], NULL);
        bytes += jobs[i].bytes;
        requests += jobs[i].requests;
        errors += jobs[i].errors;
    }
    el = bc_now() - t0;
    printf("bytes=%llu seconds=%.3f mbps=%.1f requests=%lu errors=%lu\n",
           bytes, el, bytes / 1e6 / el, requests, errors);
    return errors ? 1 : 0;
}
