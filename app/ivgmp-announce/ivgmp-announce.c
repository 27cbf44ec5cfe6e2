/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivgmp-announce: tell the local ivgmpd "this site sends / receives GROUP"
 * for a limited time (001_aebc90bc0c46f8cb.txt 3.2, third interop solution),
 * for hosts behind inner routers that the edge device cannot hear.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "announce/announce.h"

/* ivgmpd's socket lives in DPDK's runtime directory of its --file-prefix. */
#define RUNTIME_DIR "/var/run/dpdk"
#define SOCKET_NAME "ivgmp_announce.sock"
#define REPLY_TIMEOUT_MS 3000

static void
usage(void)
{
	fprintf(stderr,
		"usage: ivgmp-announce --send|--receive|--both GROUP [--source S]\n"
		"                      [--lifetime SECONDS] [--withdraw]\n"
		"                      [--file-prefix PREFIX | --socket PATH]\n"
		"  announce that this site sends and/or receives GROUP for SECONDS\n"
		"  (default 300); --withdraw takes an announcement back. The daemon is\n"
		"  found by its EAL --file-prefix (default rte), or by PATH.\n");
}

static int
parse_args(int argc, char **argv, struct announce_request *req, const char **socket_path,
	   const char **prefix)
{
	static const struct option longopts[] = {
		{ "send", required_argument, NULL, 's' },
		{ "receive", required_argument, NULL, 'r' },
		{ "both", required_argument, NULL, 'b' },
		{ "source", required_argument, NULL, 'S' },
		{ "lifetime", required_argument, NULL, 'l' },
		{ "withdraw", no_argument, NULL, 'w' },
		{ "socket", required_argument, NULL, 'p' },
		{ "file-prefix", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *group = NULL, *source = NULL;
	char *end;
	int c;

	req->lifetime_s = 300;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': case 'r': case 'b':
			if (group) {
				fprintf(stderr, "ivgmp-announce: give one of --send, --receive, --both\n");
				return -1;
			}
			group = optarg;
			req->roles = c == 's' ? ANNOUNCE_ROLE_SEND : c == 'r' ? ANNOUNCE_ROLE_RECEIVE
					      : ANNOUNCE_ROLE_SEND | ANNOUNCE_ROLE_RECEIVE;
			break;
		case 'S':
			source = optarg;
			break;
		case 'l':
			req->lifetime_s = (uint32_t)strtoul(optarg, &end, 10);
			if (*end || req->lifetime_s == 0) {
				fprintf(stderr, "ivgmp-announce: --lifetime '%s' is not a number of "
					"seconds above 0\n", optarg);
				return -1;
			}
			break;
		case 'w':
			req->withdraw = true;
			break;
		case 'p':
			*socket_path = optarg;
			break;
		case 'f':
			*prefix = optarg;
			break;
		default:
			return -1;
		}
	}
	if (group == NULL || optind != argc)
		return -1;
	if (inet_pton(AF_INET, group, &req->group) != 1) {
		fprintf(stderr, "ivgmp-announce: '%s' is not an IPv4 group address\n", group);
		return -1;
	}
	if (source && inet_pton(AF_INET, source, &req->source) != 1) {
		fprintf(stderr, "ivgmp-announce: '%s' is not an IPv4 source address\n", source);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct announce_request req = { 0 };
	const char *socket_path = NULL, *prefix = "rte";
	struct sockaddr_un server = { .sun_family = AF_UNIX };
	struct sockaddr_un self = { .sun_family = AF_UNIX };
	char line[ANNOUNCE_LINE_MAX], reply[ANNOUNCE_LINE_MAX];
	struct pollfd pfd;
	ssize_t n;
	int fd;

	int n_path;

	if (parse_args(argc, argv, &req, &socket_path, &prefix) < 0) {
		usage();
		return 2;
	}
	if (socket_path)
		n_path = snprintf(server.sun_path, sizeof(server.sun_path), "%s", socket_path);
	else
		n_path = snprintf(server.sun_path, sizeof(server.sun_path), "%s/%s/%s",
				  RUNTIME_DIR, prefix, SOCKET_NAME);
	if (n_path < 0 || (size_t)n_path >= sizeof(server.sun_path)) {
		fprintf(stderr, "ivgmp-announce: socket path too long\n");
		return 2;
	}
	socket_path = server.sun_path;
	announce_request_format(&req, line, sizeof(line));

	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	/* A path in the file system, not an abstract name: ivgmpd may run in
	 * another network namespace, and abstract names do not cross them. */
	snprintf(self.sun_path, sizeof(self.sun_path), "/tmp/ivgmp-announce.%d", (int)getpid());
	unlink(self.sun_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&self, sizeof(self)) < 0) {
		fprintf(stderr, "ivgmp-announce: socket: %s\n", strerror(errno));
		return 1;
	}
	if (sendto(fd, line, strlen(line), 0, (struct sockaddr *)&server, sizeof(server)) < 0) {
		unlink(self.sun_path);
		if (errno == ENOENT || errno == ECONNREFUSED)
			fprintf(stderr, "ivgmp-announce: ivgmpd is not running "
				"(nobody listens on %s)\n", socket_path);
		else
			fprintf(stderr, "ivgmp-announce: %s: %s\n", socket_path, strerror(errno));
		return 1;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, REPLY_TIMEOUT_MS) <= 0) {
		unlink(self.sun_path);
		fprintf(stderr, "ivgmp-announce: no reply from ivgmpd within %d ms\n",
			REPLY_TIMEOUT_MS);
		return 1;
	}
	n = recv(fd, reply, sizeof(reply) - 1, 0);
	close(fd);
	unlink(self.sun_path);
	if (n < 0) {
		fprintf(stderr, "ivgmp-announce: %s\n", strerror(errno));
		return 1;
	}
	reply[n] = '\0';
	printf("%s\n", reply);
	return strncmp(reply, "ok", 2) == 0 ? 0 : 1;
}
