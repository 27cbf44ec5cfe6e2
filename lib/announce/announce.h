/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_ANNOUNCE_H
#define IVGMP_ANNOUNCE_H

/*
 * announce: the one-line requests ivgmp-announce sends to ivgmpd over a
 * local datagram socket (the paper's third interop solution, section 3.2:
 * a user says "I send / receive G" for a limited span of time), and the
 * one-line replies:
 *
 *   announce send|receive|both GROUP [source S] lifetime SECONDS
 *   withdraw send|receive|both GROUP
 *   -> "ok ..." or "error: <reason>"
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ANNOUNCE_LINE_MAX 256
#define ANNOUNCE_ROLE_RECEIVE 0x1   /* the same bits as GROUP_ROLE_* */
#define ANNOUNCE_ROLE_SEND    0x2

struct announce_request {
	bool withdraw;
	uint8_t roles;
	uint32_t group;             /* network byte order */
	uint32_t source;            /* 0: any */
	uint32_t lifetime_s;
};

/* Returns 0, or -1 with a reason in err. */
int announce_request_parse(const char *line, struct announce_request *req,
			   char *err, size_t err_len);
/* Returns the length written, or -1 when it does not fit. */
int announce_request_format(const struct announce_request *req, char *buf, size_t len);

#endif
