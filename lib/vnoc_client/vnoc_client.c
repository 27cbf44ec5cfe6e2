/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The client's state machine (vnoc_client.h):
 *
 *   state        event                               new state    actions
 *   REGISTERING  RegisterSite answered               READY        adopt the view if its
 *                                                                 version is not the one
 *                                                                 applied; reset backoff;
 *                                                                 re-join every desired role;
 *                                                                 adopt the roles the view
 *                                                                 gives the site;
 *                                                                 start WatchUpdates
 *   READY        WatchUpdates answered               READY        view newer: view_changed;
 *                                                                 re-issue the watch
 *   READY        heartbeat due, or heartbeat_soon    READY        Heartbeat with counters()
 *                (an SA passed its soft limit)                    (and its rekey SPIs)
 *   any          no SOAP answer (connect, TLS,       BACKOFF      drop all in flight; next
 *                timeout, HTTP status, malformed),                URL; draw a delay
 *                or a soap:Server fault
 *   any          UnknownSite fault                   BACKOFF      as above, same URL: the
 *                                                                 VNOC forgot the site
 *   BACKOFF      delay elapsed                       REGISTERING  RegisterSite
 *
 * JoinVpn / LeaveVpn are in vnoc_client_group.c. The last view stays with
 * the owner through all of this: the client never takes it back.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vnoc_client_private.h"

static const char *const counter_names[] = {
#define VNOC_CLIENT_COUNTER_NAME(name) #name,
	VNOC_CLIENT_COUNTERS(VNOC_CLIENT_COUNTER_NAME)
#undef VNOC_CLIENT_COUNTER_NAME
};

const char *
vnoc_client_counter_name(enum vnoc_client_counter id)
{
	return id < VNOC_CLIENT_CTR_MAX ? counter_names[id] : "unknown";
}

const char *
vnoc_client_state_name(enum vnoc_client_state s)
{
	switch (s) {
	case VNOC_CLIENT_REGISTERING: return "registering";
	case VNOC_CLIENT_READY: return "ready";
	case VNOC_CLIENT_BACKOFF: return "backoff";
	}
	return "unknown";
}

void
vnoc_client_config_defaults(struct vnoc_client_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->connect_timeout_ms = 3000;
	cfg->request_timeout_ms = 10000;
	cfg->watch_timeout_s = 30;
	cfg->watch_slack_ms = 10000;
	cfg->heartbeat_s = 30;
	cfg->backoff_min_ms = 500;
	cfg->backoff_max_ms = 60000;
	cfg->backoff_jitter_pct = 20;
	cfg->denial_hold_ms = 10 * 60 * 1000;
	cfg->adopt_hold_ms = 30 * 1000;
	cfg->max_groups = VNOC_MAX_GROUPS;
	cfg->max_membership_inflight = 8;
	cfg->max_response_bytes = 64u << 20;
}

static int
config_check(const struct vnoc_client_config *cfg, char *err, size_t err_len)
{
#define BAD(...) do { snprintf(err, err_len, __VA_ARGS__); return -1; } while (0)
	if (cfg->n_urls == 0 || cfg->n_urls > VNOC_CLIENT_MAX_URLS)
		BAD("between 1 and %d VNOC URLs are needed, not %u", VNOC_CLIENT_MAX_URLS,
		    cfg->n_urls);
	for (uint16_t i = 0; i < cfg->n_urls; i++) {
		const char *u = cfg->urls[i];

		if (memchr(u, '\0', VNOC_CLIENT_URL_MAX) == NULL)
			BAD("VNOC URL %u is not terminated", i);
		if (strncmp(u, "https://", 8) == 0) {
			if (!cfg->ca_file[0] || !cfg->cert_file[0] || !cfg->key_file[0])
				BAD("%s: https needs a CA file, and the site's certificate "
				    "and key", u);
		} else if (strncmp(u, "http://", 7) == 0) {
			if (!cfg->insecure_http)
				BAD("%s is plain HTTP: allowed only with insecure_http", u);
		} else {
			BAD("'%s' is not an http:// or https:// URL", u);
		}
	}
	if (memchr(cfg->site, '\0', sizeof(cfg->site)) == NULL || !vnoc_site_id_valid(cfg->site))
		BAD("site id '%.*s' is not valid", (int)sizeof(cfg->site), cfg->site);
	if (memchr(cfg->software, '\0', sizeof(cfg->software)) == NULL)
		BAD("software version is not terminated");
	if (cfg->backoff_min_ms == 0 || cfg->backoff_max_ms < cfg->backoff_min_ms)
		BAD("backoff needs 0 < min (%u ms) <= max (%u ms)", cfg->backoff_min_ms,
		    cfg->backoff_max_ms);
	if (cfg->backoff_jitter_pct > 100)
		BAD("backoff jitter %u %% is above 100 %%", cfg->backoff_jitter_pct);
	if (cfg->request_timeout_ms == 0 || cfg->connect_timeout_ms == 0 ||
	    cfg->watch_timeout_s == 0 || cfg->heartbeat_s == 0)
		BAD("timeouts and the heartbeat period must not be 0");
	if (cfg->max_groups == 0 || cfg->max_groups > VNOC_MAX_GROUPS ||
	    cfg->max_membership_inflight == 0 || cfg->max_response_bytes < 1024)
		BAD("limits out of range (groups 1..%d, membership in flight >= 1, "
		    "answers >= 1024 bytes)", VNOC_MAX_GROUPS);
#undef BAD
	return 0;
}

struct vnoc_client *
vnoc_client_create(const struct vnoc_client_config *cfg, const struct vnoc_client_ops *ops,
		   void *ctx, char *err, size_t err_len)
{
	struct vnoc_client *c;
	uint64_t seed = cfg->seed;

	if (config_check(cfg, err, err_len) < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->groups = calloc(cfg->max_groups, sizeof(*c->groups))) == NULL) {
		free(c);
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	c->cfg = *cfg;
	if (ops != NULL)
		c->ops = *ops;
	c->ctx = ctx;
	if (seed == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		/* FNV-1a of the site id: sites restarted together still
		 * spread their retries. */
		for (const char *p = cfg->site; *p; p++)
			seed = (seed ^ (uint8_t)*p) * 0x100000001b3ULL;
	}
	vnoc_client_backoff_init(&c->backoff, cfg->backoff_min_ms, cfg->backoff_max_ms,
				 cfg->backoff_jitter_pct, seed);
	c->state = VNOC_CLIENT_REGISTERING;
	c->heartbeat_s = cfg->heartbeat_s;
	c->watch_timeout_s = cfg->watch_timeout_s;
	c->next_denial_expiry_ms = UINT64_MAX;
	if (vnoc_client_http_init(c) < 0) {
		free(c->groups);
		free(c);
		snprintf(err, err_len, "libcurl could not be initialised");
		return NULL;
	}
	return c;
}

void
vnoc_client_free(struct vnoc_client *c)
{
	if (c == NULL)
		return;
	vnoc_client_http_fini(c);
	free(c->groups);
	free(c);
}

/* Encode msg and start it towards the current URL. NULL when it could not
 * start; the caller treats that as a failure. */
struct vnoc_client_request *
vnoc_client_request_start(struct vnoc_client *c, const struct vnoc_msg *msg, uint32_t timeout_ms)
{
	struct vnoc_client_request *req = calloc(1, sizeof(*req));

	if (req == NULL)
		return NULL;
	req->op = msg->op;
	req->epoch = c->epoch;
	req->started_ms = c->now_ms;
	req->body = vnoc_msg_encode(msg, &req->body_len);
	if (req->body == NULL || vnoc_client_http_start(c, req, timeout_ms) < 0) {
		if (req->easy != NULL)
			curl_multi_remove_handle(c->multi, req->easy);
		vnoc_client_request_free(req);
		return NULL;
	}
	c->counters[VNOC_CLIENT_CTR_requests]++;
	return req;
}

void
vnoc_client_fail(struct vnoc_client *c, bool advance_url, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
	va_end(ap);

	vnoc_client_http_abort_all(c);
	c->epoch++;
	c->registering = c->watching = c->heartbeating = false;
	c->n_membership_in_flight = 0;
	vnoc_client_group_forget_in_flight(c);

	c->state = VNOC_CLIENT_BACKOFF;
	c->counters[VNOC_CLIENT_CTR_retries]++;
	if (advance_url && c->cfg.n_urls > 1) {
		c->url_index = (uint16_t)((c->url_index + 1) % c->cfg.n_urls);
		c->counters[VNOC_CLIENT_CTR_failovers]++;
	}
	c->backoff_ms = vnoc_client_backoff_next(&c->backoff);
	c->retry_at_ms = c->now_ms + c->backoff_ms;
}

static void
client_register_start(struct vnoc_client *c)
{
	struct vnoc_msg msg = { .op = VNOC_OP_REGISTER_SITE };
	struct vnoc_register_req *r = &msg.u.register_req;

	strcpy(r->site, c->cfg.site);
	r->wan_addr = c->cfg.wan_addr;
	r->udp_encap = c->cfg.udp_encap;
	strcpy(r->software, c->cfg.software);
	/* Until one RegisterSite is accepted, this process has sent nothing
	 * the VNOC could have keyed. */
	r->fresh_start = c->counters[VNOC_CLIENT_CTR_registrations] == 0;
	if (vnoc_client_request_start(c, &msg, c->cfg.request_timeout_ms) == NULL) {
		vnoc_client_fail(c, true, "RegisterSite could not be sent");
		return;
	}
	c->registering = true;
}

static void
client_watch_start(struct vnoc_client *c)
{
	struct vnoc_msg msg = { .op = VNOC_OP_WATCH_UPDATES };
	uint64_t timeout = (uint64_t)c->watch_timeout_s * 1000 + c->cfg.watch_slack_ms;

	strcpy(msg.u.watch_req.site, c->cfg.site);
	msg.u.watch_req.since = c->version;
	msg.u.watch_req.timeout_s = c->watch_timeout_s;
	if (vnoc_client_request_start(c, &msg, timeout > UINT32_MAX ? UINT32_MAX
					       : (uint32_t)timeout) == NULL) {
		vnoc_client_fail(c, true, "WatchUpdates could not be sent");
		return;
	}
	c->watching = true;
}

static void
client_heartbeat_start(struct vnoc_client *c)
{
	struct vnoc_msg msg = { .op = VNOC_OP_HEARTBEAT };
	struct vnoc_client_site_counters n = { 0 };

	if (c->ops.counters != NULL)
		c->ops.counters(c->ctx, &n);
	strcpy(msg.u.heartbeat_req.site, c->cfg.site);
	msg.u.heartbeat_req.rx_packets = n.rx_packets;
	msg.u.heartbeat_req.tx_packets = n.tx_packets;
	msg.u.heartbeat_req.drops = n.drops;
	msg.u.heartbeat_req.n_rekey = n.n_rekey < VNOC_MAX_REKEY ? n.n_rekey : VNOC_MAX_REKEY;
	memcpy(msg.u.heartbeat_req.rekey_spi, n.rekey_spi,
	       msg.u.heartbeat_req.n_rekey * sizeof(n.rekey_spi[0]));
	if (vnoc_client_request_start(c, &msg, c->cfg.request_timeout_ms) == NULL) {
		vnoc_client_fail(c, true, "Heartbeat could not be sent");
		return;
	}
	c->heartbeating = true;
	c->counters[VNOC_CLIENT_CTR_rekey_requests] += msg.u.heartbeat_req.n_rekey;
}

void
vnoc_client_heartbeat_soon(struct vnoc_client *c)
{
	c->heartbeat_soon = true;
}

/* A view from RegisterSite (authoritative: adopted whenever its version is
 * not the one applied, lower included, since a VNOC that lost its state
 * numbers views again) or from WatchUpdates (adopted only when newer). */
static void
client_view_offer(struct vnoc_client *c, const struct vnoc_view *view, bool authoritative)
{
	bool take = !c->have_view ||
		    (authoritative ? view->version != c->version : view->version > c->version);

	if (!take)
		return;
	c->have_view = true;
	c->version = view->version;
	c->counters[VNOC_CLIENT_CTR_views_applied]++;
	if (c->ops.view_changed != NULL)
		c->ops.view_changed(c->ctx, view);
}

static void
client_registered(struct vnoc_client *c, const struct vnoc_register_resp *r)
{
	c->state = VNOC_CLIENT_READY;
	c->counters[VNOC_CLIENT_CTR_registrations]++;
	vnoc_client_backoff_reset(&c->backoff);
	c->backoff_ms = 0;
	c->last_error[0] = '\0';
	c->heartbeat_s = r->heartbeat_s ? r->heartbeat_s : c->cfg.heartbeat_s;
	c->watch_timeout_s = r->watch_timeout_s ? r->watch_timeout_s : c->cfg.watch_timeout_s;
	c->next_heartbeat_ms = c->now_ms + (uint64_t)c->heartbeat_s * 1000;
	c->watch_not_before_ms = 0;
	client_view_offer(c, &r->view, true);
	vnoc_client_group_adopt(c, &r->view);
	/* Joins are idempotent at the VNOC: ask again for every role held or
	 * wished, whatever the VNOC remembered of the previous session. */
	vnoc_client_group_resync(c);
}

/* Turn what curl brought back into an answer, a fault, or a failure
 * (handled here: the client is then in BACKOFF). */
static enum vnoc_client_outcome
client_classify(struct vnoc_client *c, struct vnoc_client_request *req, struct vnoc_msg *msg,
		struct vnoc_fault_info *fault)
{
	const char *url = c->cfg.urls[c->url_index];
	const char *op = vnoc_op_name(req->op);
	char err[128];
	int rc;

	if (req->result != CURLE_OK) {
		c->counters[VNOC_CLIENT_CTR_transport_failures]++;
		vnoc_client_fail(c, true, "%s to %s: %s", op, url,
				 req->answer_too_big ? "answer too large"
				 : req->error[0] ? req->error : curl_easy_strerror(req->result));
		return VNOC_CLIENT_FAILURE;
	}
	rc = vnoc_msg_decode(req->answer ? req->answer : "", req->answer_len, true, msg, fault,
			     err, sizeof(err));
	/* SOAP 1.1 (6.2) answers 200, or 500 with a fault. Any other status
	 * (403: the certificate was refused, 413, 503 from a proxy, ...) is a
	 * failure, explained by the fault when one came with it. */
	if (req->http_status != 200 && req->http_status != 500) {
		if (rc == 0)
			vnoc_msg_release(msg);
		if (rc == 1 && fault->reason < VNOC_FAULT_MAX)
			c->faults[fault->reason]++;
		c->counters[VNOC_CLIENT_CTR_transport_failures]++;
		vnoc_client_fail(c, true, "%s to %s: HTTP status %ld%s%s%s%s", op, url,
				 req->http_status, rc == 1 ? ": " : "",
				 rc == 1 ? vnoc_fault_name(fault->reason) : "",
				 rc == 1 ? ": " : "", rc == 1 ? fault->text : "");
		return VNOC_CLIENT_FAILURE;
	}
	if (rc == 0 && (msg->op != req->op || !msg->response)) {
		vnoc_msg_release(msg);
		snprintf(err, sizeof(err), "answered with %s", vnoc_op_name(msg->op));
		rc = -1;
	}
	if (rc < 0) {
		c->counters[VNOC_CLIENT_CTR_transport_failures]++;
		vnoc_client_fail(c, true, "%s to %s (HTTP %ld): %s", op, url, req->http_status, err);
		return VNOC_CLIENT_FAILURE;
	}
	c->counters[VNOC_CLIENT_CTR_responses]++;
	if (rc == 0)
		return VNOC_CLIENT_ANSWER;
	c->counters[VNOC_CLIENT_CTR_faults]++;
	if (fault->reason < VNOC_FAULT_MAX)
		c->faults[fault->reason]++;
	if (fault->reason == VNOC_FAULT_SERVER) {
		vnoc_client_fail(c, true, "%s to %s: Server fault: %s", op, url, fault->text);
		return VNOC_CLIENT_FAILURE;
	}
	if (fault->reason == VNOC_FAULT_UNKNOWN_SITE) {
		vnoc_client_fail(c, false, "%s to %s: UnknownSite: registering again", op, url);
		return VNOC_CLIENT_FAILURE;
	}
	return VNOC_CLIENT_FAULT;
}

static void
client_done(struct vnoc_client *c, struct vnoc_client_request *req)
{
	struct vnoc_msg msg;
	struct vnoc_fault_info fault = { .reason = VNOC_FAULT_NONE };
	enum vnoc_client_outcome outcome;

	memset(&msg, 0, sizeof(msg));
	switch (req->op) {
	case VNOC_OP_REGISTER_SITE: c->registering = false; break;
	case VNOC_OP_WATCH_UPDATES: c->watching = false; break;
	case VNOC_OP_HEARTBEAT: c->heartbeating = false; break;
	default: break;
	}
	outcome = client_classify(c, req, &msg, &fault);
	if (outcome == VNOC_CLIENT_FAILURE)
		return;

	switch (req->op) {
	case VNOC_OP_REGISTER_SITE:
		if (outcome == VNOC_CLIENT_FAULT)
			vnoc_client_fail(c, true, "RegisterSite refused: %s: %s",
					 vnoc_fault_name(fault.reason), fault.text);
		else
			client_registered(c, &msg.u.register_resp);
		break;
	case VNOC_OP_WATCH_UPDATES:
		if (outcome == VNOC_CLIENT_FAULT) {
			/* Without the watch the site cannot stay in sync. */
			vnoc_client_fail(c, true, "WatchUpdates refused: %s: %s",
					 vnoc_fault_name(fault.reason), fault.text);
			break;
		}
		c->counters[VNOC_CLIENT_CTR_watch_answers]++;
		if (msg.u.view.version <= c->version)
			c->watch_not_before_ms = req->started_ms + VNOC_CLIENT_WATCH_MIN_INTERVAL_MS;
		client_view_offer(c, &msg.u.view, false);
		break;
	case VNOC_OP_HEARTBEAT:
		if (outcome == VNOC_CLIENT_ANSWER)
			c->counters[VNOC_CLIENT_CTR_heartbeats]++;
		break;
	case VNOC_OP_JOIN_VPN:
	case VNOC_OP_LEAVE_VPN:
		vnoc_client_group_done(c, req, outcome, &msg, &fault);
		break;
	default:
		break;
	}
	if (outcome == VNOC_CLIENT_ANSWER)
		vnoc_msg_release(&msg);
}

void
vnoc_client_poll(struct vnoc_client *c, uint64_t now_ms)
{
	struct vnoc_client_request *done;

	c->now_ms = now_ms;
	done = vnoc_client_http_perform(c);
	while (done != NULL) {
		struct vnoc_client_request *req = done;

		done = req->next;
		/* A failure earlier in this list dropped the work this
		 * answer belonged to. */
		if (req->epoch == c->epoch)
			client_done(c, req);
		vnoc_client_request_free(req);
	}

	switch (c->state) {
	case VNOC_CLIENT_BACKOFF:
		if (now_ms < c->retry_at_ms)
			break;
		c->state = VNOC_CLIENT_REGISTERING;
		/* fall through */
	case VNOC_CLIENT_REGISTERING:
		if (!c->registering)
			client_register_start(c);
		break;
	case VNOC_CLIENT_READY:
		if (!c->watching && now_ms >= c->watch_not_before_ms)
			client_watch_start(c);
		if (c->state == VNOC_CLIENT_READY && !c->heartbeating &&
		    (now_ms >= c->next_heartbeat_ms || c->heartbeat_soon)) {
			c->next_heartbeat_ms = now_ms + (uint64_t)c->heartbeat_s * 1000;
			c->heartbeat_soon = false;
			client_heartbeat_start(c);
		}
		if (c->state == VNOC_CLIENT_READY &&
		    (c->groups_dirty || now_ms >= c->next_denial_expiry_ms ||
		     (c->adopt_pending && now_ms >= c->adopt_until_ms)))
			vnoc_client_group_schedule(c);
		break;
	}
}

void
vnoc_client_status(const struct vnoc_client *c, struct vnoc_client_status *st)
{
	memset(st, 0, sizeof(*st));
	st->state = c->state;
	st->url_index = c->url_index;
	strcpy(st->url, c->cfg.urls[c->url_index]);
	st->version = c->version;
	st->watch_outstanding = c->watching;
	st->outstanding = c->n_in_flight;
	st->membership_in_flight = c->n_membership_in_flight;
	st->heartbeat_s = c->heartbeat_s;
	st->watch_timeout_s = c->watch_timeout_s;
	st->backoff_ms = c->backoff_ms;
	st->retry_at_ms = c->state == VNOC_CLIENT_BACKOFF ? c->retry_at_ms : 0;
	strcpy(st->last_error, c->last_error);
	memcpy(st->counters, c->counters, sizeof(st->counters));
	memcpy(st->faults, c->faults, sizeof(st->faults));
	st->n_groups = c->n_groups;
}
