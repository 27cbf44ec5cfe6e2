/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_VNOC_CLIENT_PRIVATE_H
#define IVGMP_VNOC_CLIENT_PRIVATE_H

/*
 * Internals of the VNOC client, shared by its files:
 *   vnoc_client.c          the client's state machine: register, watch,
 *                          heartbeat, failure and failover, status
 *   vnoc_client_group.c    desired vs granted roles per group: JoinVpn,
 *                          LeaveVpn, coalescing, denials
 *   vnoc_client_http.c     libcurl multi plumbing: one easy handle per request
 *   vnoc_client_backoff.c  exponential backoff with jitter
 */

#include <curl/curl.h>

#include "vnoc_client.h"

/* A WatchUpdates that brought nothing new is not re-issued sooner than this
 * after the previous one started, so that a VNOC answering at once cannot
 * make the client spin. */
#define VNOC_CLIENT_WATCH_MIN_INTERVAL_MS 1000

/* ---- backoff ---- */

struct vnoc_client_backoff {
	uint32_t min_ms;
	uint32_t max_ms;
	uint8_t jitter_pct;
	uint32_t attempt;       /* delays drawn since the last reset */
	uint64_t rng;           /* xorshift64* state, never 0 */
};

void vnoc_client_backoff_init(struct vnoc_client_backoff *b, uint32_t min_ms, uint32_t max_ms,
			      uint8_t jitter_pct, uint64_t seed);
uint32_t vnoc_client_backoff_next(struct vnoc_client_backoff *b);
void vnoc_client_backoff_reset(struct vnoc_client_backoff *b);

/* ---- one HTTP exchange ---- */

struct vnoc_client_request {
	struct vnoc_client_request *next;       /* in flight, or done */
	CURL *easy;
	struct curl_slist *headers;
	enum vnoc_op op;
	uint32_t group;                         /* JoinVpn / LeaveVpn */
	uint8_t roles;
	uint64_t epoch;                         /* the client's epoch at start */
	uint64_t started_ms;
	char *body;
	size_t body_len;
	char *answer;
	size_t answer_len;
	size_t answer_cap;
	size_t answer_max;
	bool answer_too_big;
	CURLcode result;                        /* when done */
	long http_status;
	char error[CURL_ERROR_SIZE];
};

/* ---- per group ---- */

struct vnoc_client_group {
	uint32_t group;
	uint8_t desired;
	uint8_t granted;
	uint8_t resync;         /* roles to join again though granted: after a
				 * (re-)registration the VNOC's memory of this
				 * site is not trusted */
	uint8_t adopted;        /* held by the VNOC, not desired, found in a
				 * registration's view: not left before
				 * adopt_until_ms */
	uint8_t in_flight;
	bool in_flight_join;
	bool waiting;           /* due, held back by max_membership_inflight
				 * (counted once in inflight_limit_waits) */
	uint8_t denied;
	enum vnoc_fault denied_reason;
	uint64_t denied_until_ms;
	char denied_text[VNOC_TEXT_MAX];
};

struct vnoc_client {
	struct vnoc_client_config cfg;
	struct vnoc_client_ops ops;
	void *ctx;

	enum vnoc_client_state state;
	uint16_t url_index;
	uint64_t epoch;                 /* bumped whenever in-flight work is dropped */
	uint64_t now_ms;                /* of the current poll */

	CURLM *multi;
	struct vnoc_client_request *in_flight;
	uint32_t n_in_flight;
	bool registering;               /* RegisterSite in flight */
	bool watching;                  /* WatchUpdates in flight */
	bool heartbeating;              /* Heartbeat in flight */
	bool heartbeat_soon;            /* vnoc_client_heartbeat_soon */
	uint32_t n_membership_in_flight;

	struct vnoc_client_backoff backoff;
	uint32_t backoff_ms;
	uint64_t retry_at_ms;

	bool have_view;
	uint64_t version;
	uint32_t heartbeat_s;
	uint32_t watch_timeout_s;
	uint64_t next_heartbeat_ms;
	uint64_t watch_not_before_ms;

	struct vnoc_client_group *groups;       /* cfg.max_groups entries */
	uint32_t n_groups;
	bool groups_dirty;              /* something may be due: scan */
	uint64_t next_denial_expiry_ms; /* UINT64_MAX: none */
	uint64_t adopt_until_ms;        /* adopted roles are kept until then */
	bool adopt_pending;             /* the adopt hold has not been acted on */

	char last_error[VNOC_CLIENT_ERROR_MAX];
	uint64_t counters[VNOC_CLIENT_CTR_MAX];
	uint64_t faults[VNOC_FAULT_MAX];
};

/* vnoc_client.c */
struct vnoc_client_request *vnoc_client_request_start(struct vnoc_client *c,
						      const struct vnoc_msg *msg,
						      uint32_t timeout_ms);
/* Drop all in-flight work, wait out a backoff, then register again (at the
 * next URL when advance_url). */
void vnoc_client_fail(struct vnoc_client *c, bool advance_url, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Outcome of a request as the protocol sees it. */
enum vnoc_client_outcome {
	VNOC_CLIENT_ANSWER,             /* msg filled */
	VNOC_CLIENT_FAULT,              /* fault filled */
	VNOC_CLIENT_FAILURE,            /* handled already: client in BACKOFF */
};

/* vnoc_client_group.c */
void vnoc_client_group_schedule(struct vnoc_client *c);
void vnoc_client_group_resync(struct vnoc_client *c);
void vnoc_client_group_adopt(struct vnoc_client *c, const struct vnoc_view *view);
void vnoc_client_group_forget_in_flight(struct vnoc_client *c);
void vnoc_client_group_done(struct vnoc_client *c, const struct vnoc_client_request *req,
			    enum vnoc_client_outcome outcome, const struct vnoc_msg *msg,
			    const struct vnoc_fault_info *fault);

/* vnoc_client_http.c */
int vnoc_client_http_init(struct vnoc_client *c);
void vnoc_client_http_fini(struct vnoc_client *c);
/* Start req (body set) towards the current URL. Returns 0 or -1. */
int vnoc_client_http_start(struct vnoc_client *c, struct vnoc_client_request *req,
			   uint32_t timeout_ms);
/* Advance transfers; returns the list of requests finished (result and
 * http_status set), taken out of the in-flight list. */
struct vnoc_client_request *vnoc_client_http_perform(struct vnoc_client *c);
void vnoc_client_http_abort_all(struct vnoc_client *c);
void vnoc_client_request_free(struct vnoc_client_request *req);

#endif
