/* core/notify.c: sd_notify as a plain datagram (see notify.h). */
#include "core/notify.h"
#include "core/gw.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int
gw_notify(const char *state)
{
    const char          *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un   sa;
    struct timespec      ts;
    char                 msg[256];
    size_t               plen;
    socklen_t            salen;
    ssize_t              n;
    int                  fd, rc = GW_OK, len;

    if (path == NULL || path[0] == '\0') {
        return GW_OK;
    }
    plen = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sa.sun_path)) {
        return -EINVAL;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, plen);
    if (path[0] == '@') {
        sa.sun_path[0] = '\0';           /* abstract: no NUL at the end */
    }
    salen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + plen
                         + (path[0] == '/'));
    /* systemd asks for MONOTONIC_USEC with RELOADING=1, to tell this
     * reload from the next one (Type=notify-reload). */
    if (strncmp(state, "RELOADING=1", 11) == 0) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        len = snprintf(msg, sizeof(msg), "%s\nMONOTONIC_USEC=%llu", state,
                       (unsigned long long) ts.tv_sec * 1000000
                       + (unsigned long long) ts.tv_nsec / 1000);
    } else {
        len = snprintf(msg, sizeof(msg), "%s", state);
    }
    if (len < 0 || (size_t) len >= sizeof(msg)) {
        return -EINVAL;
    }
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    n = sendto(fd, msg, (size_t) len, MSG_NOSIGNAL,
               (struct sockaddr *) &sa, salen);
    if (n < 0) {
        rc = -errno;
    }
    close(fd);
    return rc;
}
