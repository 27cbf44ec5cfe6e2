/* SPDX-License-Identifier: BSD-3-Clause */
/* The socket ivgmp-announce talks to: one datagram a request, one a reply. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>

#include "announce/announce.h"
#include "ivgmpd.h"

#define ANNOUNCE_SOCKET_NAME "ivgmp_announce.sock"
#define ANNOUNCE_PER_POLL 16

static int
socket_path(const struct ivgmpd *d, struct sockaddr_un *addr)
{
	int n;

	addr->sun_family = AF_UNIX;
	if (d->conf->announce_socket[0])
		n = snprintf(addr->sun_path, sizeof(addr->sun_path), "%s",
			     d->conf->announce_socket);
	else
		n = snprintf(addr->sun_path, sizeof(addr->sun_path), "%s/%s",
			     rte_eal_get_runtime_dir(), ANNOUNCE_SOCKET_NAME);
	return (n < 0 || (size_t)n >= sizeof(addr->sun_path)) ? -1 : 0;
}

int
ivgmpd_announce_open(struct ivgmpd *d)
{
	struct sockaddr_un addr;

	d->announce_fd = -1;
	if (socket_path(d, &addr) < 0) {
		IVGMP_LOG(WARNING, announce, "announce socket path too long");
		return -1;
	}
	d->announce_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->announce_fd < 0)
		goto fail;
	unlink(addr.sun_path);
	if (bind(d->announce_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		goto fail;
	IVGMP_LOG(INFO, announce, "announcements on %s", addr.sun_path);
	return 0;
fail:
	IVGMP_LOG(WARNING, announce, "announce socket %s: %s", addr.sun_path, strerror(errno));
	if (d->announce_fd >= 0)
		close(d->announce_fd);
	d->announce_fd = -1;
	return -1;
}

static void
announce_handle(struct ivgmpd *d, const char *line, char *reply, size_t reply_len,
		uint64_t now_ms)
{
	struct announce_request req;
	char err[128];

	if (announce_request_parse(line, &req, err, sizeof(err)) < 0) {
		snprintf(reply, reply_len, "error: %s", err);
		return;
	}
	if (ivgmpd_group_is_scoped(d, req.group)) {
		snprintf(reply, reply_len, "error: group is inside a scope boundary: it stays "
			 "in the site");
		return;
	}
	if (req.withdraw) {
		if (group_manager_withdraw(d->groups, req.group, req.roles, now_ms) < 0)
			snprintf(reply, reply_len, "error: no such announcement");
		else
			snprintf(reply, reply_len, "ok withdrawn");
		return;
	}
	if (group_manager_announce(d->groups, req.group, req.source, req.roles, req.lifetime_s,
				   now_ms, err, sizeof(err)) < 0)
		snprintf(reply, reply_len, "error: %s", err);
	else
		snprintf(reply, reply_len, "ok announced for %u s", req.lifetime_s);
}

void
ivgmpd_announce_poll(struct ivgmpd *d, uint64_t now_ms)
{
	for (int i = 0; i < ANNOUNCE_PER_POLL && d->announce_fd >= 0; i++) {
		char line[ANNOUNCE_LINE_MAX], reply[ANNOUNCE_LINE_MAX];
		struct sockaddr_un peer;
		socklen_t peer_len = sizeof(peer);
		ssize_t n = recvfrom(d->announce_fd, line, sizeof(line) - 1, 0,
				     (struct sockaddr *)&peer, &peer_len);

		if (n < 0)
			return;
		line[n] = '\0';
		if (memchr(line, '\0', (size_t)n))
			snprintf(reply, sizeof(reply), "error: request holds a NUL byte");
		else
			announce_handle(d, line, reply, sizeof(reply), now_ms);
		IVGMP_LOG(DEBUG, announce, "announce: '%s' -> '%s'", line, reply);
		/* A peer without an address cannot be answered; that is its choice. */
		if (peer_len > sizeof(sa_family_t) &&
		    sendto(d->announce_fd, reply, strlen(reply), MSG_DONTWAIT,
			   (struct sockaddr *)&peer, peer_len) < 0)
			d->announce_reply_failures++;
	}
}

void
ivgmpd_announce_close(struct ivgmpd *d)
{
	struct sockaddr_un addr;

	if (d->announce_fd < 0)
		return;
	close(d->announce_fd);
	d->announce_fd = -1;
	if (socket_path(d, &addr) == 0)
		unlink(addr.sun_path);
}
