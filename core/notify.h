/* core/notify.h: systemd's readiness protocol (sd_notify) without
 * libsystemd: one datagram to the AF_UNIX socket named by $NOTIFY_SOCKET
 * (a path, or "@name" for the abstract namespace). Owns nothing: each call
 * opens, sends and closes. With several worker processes only the master
 * should call it (READY=1 once every worker serves). */
#ifndef GW_NOTIFY_H
#define GW_NOTIFY_H

/* Sends state ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=..."; lines
 * joined by \n) when $NOTIFY_SOCKET is set. GW_OK (also when it is not
 * set), or a negative errno; the caller may log it, nothing depends on
 * it. */
int gw_notify(const char *state);

#endif
