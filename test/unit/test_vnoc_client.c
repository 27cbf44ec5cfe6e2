/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/vnoc_client against a fake VNOC run inside the test: a
 * thread with a listening socket on 127.0.0.1 speaking just enough HTTP/1.1
 * (keep-alive, Content-Length) and answering with envelopes built by
 * lib/vnoc (vnoc_msg_encode, vnoc_fault_encode). It keeps the little state a
 * VNOC needs here (a view version, the roles the site holds per group, a
 * policy of refused roles), parks WatchUpdates until the version passes
 * `since`, can hold membership answers, stall, answer 503, or go away.
 *
 * The test drives vnoc_client_poll itself, with a clock that is the real
 * monotonic clock plus a skew the test advances to jump over backoffs,
 * heartbeats and denial holds; every poll is timed.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vnoc/vnoc.h"
#include "vnoc_client/vnoc_client.h"

#define R VNOC_ROLE_RECEIVER
#define S VNOC_ROLE_SENDER

#define SITE "site-a"
#define G1 htonl(0xef010101u) /* 239.1.1.1, network byte order */
#define G2 htonl(0xef010102u)

#define RUN_LIMIT_MS 8000       /* real time any wait may take */
#define POLL_BUDGET_NS (5 * 1000 * 1000)

/* ---- clocks ---- */

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
mono_ms(void)
{
	return mono_ns() / 1000000u;
}

/* ---- the fake VNOC ---- */

#define FAKE_CONNS 32
#define FAKE_BUF (64 * 1024)
#define FAKE_LOG 512
#define FAKE_GROUPS 16
#define FAKE_POLICY 8

enum fake_mode {
	FAKE_ANSWER,            /* a VNOC */
	FAKE_STALL,             /* reads requests, never answers */
	FAKE_HTTP_503,          /* answers every request with 503, no SOAP */
};

enum fake_conn_state {
	CONN_READING,
	CONN_WATCH,             /* a WatchUpdates parked */
	CONN_MEMBERSHIP,        /* a JoinVpn / LeaveVpn held */
	CONN_STALLED,
};

struct fake_conn {
	int fd;
	enum fake_conn_state state;
	char buf[FAKE_BUF];
	size_t len;
	struct vnoc_msg req;            /* the parked request */
	uint64_t watch_deadline_ms;
};

struct fake_request {
	enum vnoc_op op;
	uint32_t group;
	uint8_t roles;
	uint64_t since;
	uint64_t rx_packets;
	bool site_header;               /* X-Ivgmp-Site: SITE was sent */
	bool soap_action;               /* a SOAPAction header was sent */
	bool fresh_start;               /* RegisterSite: the client's first */
	uint8_t n_rekey;                /* Heartbeat: its <rekey> SPIs */
	uint32_t rekey_spi[VNOC_MAX_REKEY];
};

struct fake_vnoc {
	pthread_t thread;
	bool running;
	int listen_fd;
	uint16_t port;
	pthread_mutex_t lock;
	bool quit;

	/* Behaviour, set by the test under lock. */
	enum fake_mode mode;
	bool hold_membership;           /* park JoinVpn / LeaveVpn until cleared */
	bool forget_site;               /* UnknownSite until the next RegisterSite */
	bool view_lists_site;           /* views list the client's own roles too,
					 * as vnocd's do */
	uint32_t watch_answer_ms;       /* a parked watch is answered unchanged after this */
	uint32_t heartbeat_s;           /* told in RegisterSite */
	uint32_t watch_timeout_s;
	struct {
		uint32_t group;
		uint8_t roles;
	} policy[FAKE_POLICY];          /* refused: NotAuthorized */
	unsigned n_policy;

	/* State. */
	uint64_t version;
	struct {
		uint32_t group;
		uint8_t roles;
	} held[FAKE_GROUPS];
	unsigned n_held;

	struct fake_request log[FAKE_LOG];
	unsigned n_log;
	unsigned accepted;              /* connections */
	char broken[256];               /* the first thing the client got wrong */
};

/* cmocka's asserts must not run in the fake's thread: note the first
 * surprise, teardown fails the test with it. */
#define FAKE_CHECK(f, cond)                                                     \
	do {                                                                    \
		if (!(cond) && !(f)->broken[0])                                 \
			snprintf((f)->broken, sizeof((f)->broken), "%s:%d: %s", \
				 __FILE__, __LINE__, #cond);                    \
	} while (0)

static uint8_t *
fake_held(struct fake_vnoc *f, uint32_t group)
{
	for (unsigned i = 0; i < f->n_held; i++)
		if (f->held[i].group == group)
			return &f->held[i].roles;
	FAKE_CHECK(f, f->n_held < FAKE_GROUPS);
	if (f->n_held == FAKE_GROUPS)
		f->n_held--;
	f->held[f->n_held].group = group;
	f->held[f->n_held].roles = 0;
	return &f->held[f->n_held++].roles;
}

static bool
fake_refuses(const struct fake_vnoc *f, uint32_t group, uint8_t roles)
{
	for (unsigned i = 0; i < f->n_policy; i++)
		if (f->policy[i].group == group && (f->policy[i].roles & roles))
			return true;
	return false;
}

static void
fake_send(struct fake_conn *k, const char *status, const char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\nContent-Type: text/xml; charset=utf-8\r\n"
			 "Content-Length: %zu\r\n\r\n", status, len);

	/* Small answers on a local socket: the kernel takes them whole. */
	if (write(k->fd, head, (size_t)n) != n || (len && write(k->fd, body, len) != (ssize_t)len)) {
		close(k->fd);
		k->fd = -1;
	}
}

static void
fake_answer(struct fake_conn *k, const struct vnoc_msg *msg)
{
	size_t len;
	char *body = vnoc_msg_encode(msg, &len);

	if (body == NULL) {
		close(k->fd);
		k->fd = -1;
		return;
	}
	fake_send(k, "200 OK", body, len);
	free(body);
}

static void
fake_fault(struct fake_conn *k, enum vnoc_fault reason, const char *text)
{
	struct vnoc_fault_info fi = { .reason = reason };
	size_t len;
	char *body;

	snprintf(fi.text, sizeof(fi.text), "%s", text);
	body = vnoc_fault_encode(&fi, &len);
	if (body == NULL) {
		close(k->fd);
		k->fd = -1;
		return;
	}
	/* SOAP 1.1: a fault travels with status 500. */
	fake_send(k, "500 Internal Server Error", body, len);
	free(body);
}

/* The view of this test's VPN: one remote site per group the site holds. */
static void
fake_view(struct fake_vnoc *f, struct vnoc_view *v, struct vnoc_group *groups,
	  struct vnoc_member *members)
{
	memset(v, 0, sizeof(*v));
	v->version = f->version;
	v->groups = groups;
	for (unsigned i = 0; i < f->n_held; i++) {
		struct vnoc_member *m = &members[2 * v->n_groups];

		if (!f->held[i].roles)
			continue;
		memset(m, 0, 2 * sizeof(*m));
		strcpy(m[0].site, "site-b");
		m[0].wan_addr = htonl(0xc6336402);      /* 198.51.100.2 */
		m[0].roles = R | S;
		strcpy(m[1].site, SITE);
		m[1].wan_addr = htonl(0xc6336401);
		m[1].roles = f->held[i].roles;
		groups[v->n_groups] = (struct vnoc_group){
			.group = f->held[i].group, .n_members = f->view_lists_site ? 2 : 1,
			.members = m,
		};
		v->n_groups++;
	}
}

static void
fake_answer_watch(struct fake_vnoc *f, struct fake_conn *k)
{
	struct vnoc_msg msg = { .op = VNOC_OP_WATCH_UPDATES, .response = true };
	struct vnoc_group groups[FAKE_GROUPS];
	struct vnoc_member members[2 * FAKE_GROUPS];

	fake_view(f, &msg.u.view, groups, members);
	fake_answer(k, &msg);
	k->state = CONN_READING;
}

static void
fake_answer_membership(struct fake_vnoc *f, struct fake_conn *k)
{
	const struct vnoc_membership_req *r = &k->req.u.membership_req;
	struct vnoc_msg msg = { .op = k->req.op, .response = true };
	uint8_t *held = fake_held(f, r->group);

	k->state = CONN_READING;
	if (k->req.op == VNOC_OP_JOIN_VPN) {
		if (fake_refuses(f, r->group, r->roles)) {
			fake_fault(k, VNOC_FAULT_NOT_AUTHORIZED, "policy: site-a may not send to G");
			return;
		}
		*held |= r->roles;
	} else {
		*held &= (uint8_t)~r->roles;
	}
	msg.u.membership_resp.roles = *held;
	msg.u.membership_resp.version = f->version;
	fake_answer(k, &msg);
}

static bool
header_has(const char *head, const char *name, const char *value)
{
	size_t n = strlen(name);

	for (const char *p = strstr(head, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
			const char *v = p + 3 + n;

			while (*v == ' ')
				v++;
			return value == NULL || strncmp(v, value, strlen(value)) == 0;
		}
	}
	return false;
}

/* One whole request is in k->buf: answer it (or park it). */
static void
fake_handle(struct fake_vnoc *f, struct fake_conn *k, const char *head, const char *body,
	    size_t body_len)
{
	struct fake_request *log = &f->log[f->n_log < FAKE_LOG ? f->n_log : FAKE_LOG - 1];
	struct vnoc_fault_info fault;
	char err[128];
	struct vnoc_msg *req = &k->req;

	if (f->mode == FAKE_STALL) {
		k->state = CONN_STALLED;
		return;
	}
	if (f->mode == FAKE_HTTP_503) {
		fake_send(k, "503 Service Unavailable", "", 0);
		return;
	}
	FAKE_CHECK(f, strncmp(head, "POST ", 5) == 0);
	if (vnoc_msg_decode(body, body_len, false, req, &fault, err, sizeof(err)) != 0) {
		if (!f->broken[0])
			snprintf(f->broken, sizeof(f->broken), "a request did not decode: %s", err);
		fake_fault(k, VNOC_FAULT_BAD_REQUEST, err);
		return;
	}
	memset(log, 0, sizeof(*log));
	log->op = req->op;
	log->site_header = header_has(head, "X-Ivgmp-Site", SITE "\r");
	log->soap_action = header_has(head, "SOAPAction", NULL);
	if (f->n_log < FAKE_LOG)
		f->n_log++;

	if (f->forget_site && req->op != VNOC_OP_REGISTER_SITE) {
		fake_fault(k, VNOC_FAULT_UNKNOWN_SITE, "who are you?");
		return;
	}
	switch (req->op) {
	case VNOC_OP_REGISTER_SITE: {
		struct vnoc_msg msg = { .op = req->op, .response = true };
		struct vnoc_group groups[FAKE_GROUPS];
		struct vnoc_member members[2 * FAKE_GROUPS];

		FAKE_CHECK(f, strcmp(req->u.register_req.site, SITE) == 0);
		FAKE_CHECK(f, req->u.register_req.wan_addr == htonl(0xc6336401));
		FAKE_CHECK(f, strcmp(req->u.register_req.software, "ivgmpd-test") == 0);
		log->fresh_start = req->u.register_req.fresh_start;
		f->forget_site = false;
		msg.u.register_resp.heartbeat_s = f->heartbeat_s;
		msg.u.register_resp.watch_timeout_s = f->watch_timeout_s;
		fake_view(f, &msg.u.register_resp.view, groups, members);
		fake_answer(k, &msg);
		break;
	}
	case VNOC_OP_JOIN_VPN:
	case VNOC_OP_LEAVE_VPN:
		FAKE_CHECK(f, strcmp(req->u.membership_req.site, SITE) == 0);
		log->group = req->u.membership_req.group;
		log->roles = req->u.membership_req.roles;
		k->state = CONN_MEMBERSHIP;
		if (!f->hold_membership)
			fake_answer_membership(f, k);
		break;
	case VNOC_OP_WATCH_UPDATES:
		log->since = req->u.watch_req.since;
		k->state = CONN_WATCH;
		k->watch_deadline_ms = mono_ms() + f->watch_answer_ms;
		break;
	case VNOC_OP_HEARTBEAT: {
		struct vnoc_msg msg = { .op = req->op, .response = true };

		log->rx_packets = req->u.heartbeat_req.rx_packets;
		log->n_rekey = req->u.heartbeat_req.n_rekey;
		memcpy(log->rekey_spi, req->u.heartbeat_req.rekey_spi, sizeof(log->rekey_spi));
		msg.u.heartbeat_resp.version = f->version;
		fake_answer(k, &msg);
		break;
	}
	default:
		fake_fault(k, VNOC_FAULT_BAD_REQUEST, "not in this test");
		break;
	}
}

/* Read what the connection has; handle a request once it is whole. */
static void
fake_read(struct fake_vnoc *f, struct fake_conn *k)
{
	ssize_t n = read(k->fd, k->buf + k->len, sizeof(k->buf) - 1 - k->len);

	if (n <= 0) {
		close(k->fd);
		k->fd = -1;
		return;
	}
	k->len += (size_t)n;
	k->buf[k->len] = '\0';
	for (;;) {
		char *end = strstr(k->buf, "\r\n\r\n");
		const char *cl;
		size_t body_len, whole;

		if (end == NULL || k->state != CONN_READING)
			return;
		*end = '\0';
		cl = strcasestr(k->buf, "\r\nContent-Length:");
		body_len = cl ? strtoul(cl + 17, NULL, 10) : 0;
		whole = (size_t)(end + 4 - k->buf) + body_len;
		if (k->len < whole) {
			*end = '\r';
			return;
		}
		pthread_mutex_lock(&f->lock);
		fake_handle(f, k, k->buf, end + 4, body_len);
		pthread_mutex_unlock(&f->lock);
		if (k->fd < 0)
			return;
		memmove(k->buf, k->buf + whole, k->len - whole);
		k->len -= whole;
		k->buf[k->len] = '\0';
	}
}

static void *
fake_thread(void *arg)
{
	struct fake_vnoc *f = arg;
	struct fake_conn *conns = calloc(FAKE_CONNS, sizeof(*conns));
	struct pollfd pfd[FAKE_CONNS + 1];

	if (conns == NULL)
		return NULL;
	for (int i = 0; i < FAKE_CONNS; i++)
		conns[i].fd = -1;
	for (;;) {
		int n = 0;

		pthread_mutex_lock(&f->lock);
		bool quit = f->quit;

		/* Parked answers that are due. */
		for (int i = 0; i < FAKE_CONNS && !quit; i++) {
			struct fake_conn *k = &conns[i];

			if (k->fd < 0)
				continue;
			if (k->state == CONN_WATCH &&
			    (f->version > k->req.u.watch_req.since || mono_ms() >= k->watch_deadline_ms))
				fake_answer_watch(f, k);
			else if (k->state == CONN_MEMBERSHIP && !f->hold_membership)
				fake_answer_membership(f, k);
		}
		pthread_mutex_unlock(&f->lock);
		if (quit)
			break;

		pfd[n++] = (struct pollfd){ .fd = f->listen_fd, .events = POLLIN };
		for (int i = 0; i < FAKE_CONNS; i++)
			pfd[n++] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
		if (poll(pfd, (nfds_t)n, 2) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			int fd = accept(f->listen_fd, NULL, NULL);

			for (int i = 0; i < FAKE_CONNS && fd >= 0; i++) {
				if (conns[i].fd < 0) {
					memset(&conns[i], 0, sizeof(conns[i]));
					conns[i].fd = fd;
					conns[i].state = CONN_READING;
					fd = -1;
					f->accepted++;
				}
			}
			if (fd >= 0)
				close(fd);
		}
		for (int i = 0; i < FAKE_CONNS; i++)
			if (conns[i].fd >= 0 && (pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				fake_read(f, &conns[i]);
	}
	for (int i = 0; i < FAKE_CONNS; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	close(f->listen_fd);
	free(conns);
	return NULL;
}

/* Listen on 127.0.0.1:port (0: any) and serve. */
static void
fake_start(struct fake_vnoc *f, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int one = 1;

	f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->listen_fd >= 0);
	setsockopt(f->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f->listen_fd, 64), 0);
	getsockname(f->listen_fd, (struct sockaddr *)&a, &alen);
	f->port = ntohs(a.sin_port);
	f->quit = false;
	assert_int_equal(pthread_create(&f->thread, NULL, fake_thread, f), 0);
	f->running = true;
}

/* The VNOC goes away: its sockets close, its state stays. */
static void
fake_stop(struct fake_vnoc *f)
{
	if (!f->running)
		return;
	pthread_mutex_lock(&f->lock);
	f->quit = true;
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	f->running = false;
}

static void
fake_init(struct fake_vnoc *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	f->version = 1;
	f->heartbeat_s = 30;
	f->watch_timeout_s = 25;
	f->watch_answer_ms = 60000;
}

/* A port on which nothing listens: connections are refused. */
static uint16_t
dead_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &alen);
	close(fd);
	return ntohs(a.sin_port);
}

/* Requests of one operation the fake VNOC received, into out (may be NULL). */
static unsigned
fake_count(struct fake_vnoc *f, enum vnoc_op op, struct fake_request *out, unsigned max)
{
	unsigned n = 0;

	pthread_mutex_lock(&f->lock);
	for (unsigned i = 0; i < f->n_log; i++) {
		if (f->log[i].op != op)
			continue;
		if (out != NULL && n < max)
			out[n] = f->log[i];
		n++;
	}
	pthread_mutex_unlock(&f->lock);
	return n;
}

static void
fake_set_version(struct fake_vnoc *f, uint64_t version)
{
	pthread_mutex_lock(&f->lock);
	f->version = version;
	pthread_mutex_unlock(&f->lock);
}

static uint8_t
fake_roles(struct fake_vnoc *f, uint32_t group)
{
	uint8_t roles;

	pthread_mutex_lock(&f->lock);
	roles = *fake_held(f, group);
	pthread_mutex_unlock(&f->lock);
	return roles;
}

/* ---- the test context ---- */

#define VIEWS_MAX 64
#define DENIALS_MAX 16

struct test_ctx {
	struct fake_vnoc vnoc;
	struct vnoc_client *c;
	struct vnoc_client_config cfg;
	int64_t skew_ms;
	uint64_t max_poll_ns;
	unsigned polls;

	unsigned n_views;
	uint64_t view_versions[VIEWS_MAX];
	uint32_t view_groups[VIEWS_MAX];
	unsigned n_denials;
	struct {
		uint32_t group;
		uint8_t roles;
		enum vnoc_fault reason;
		char text[VNOC_TEXT_MAX];
	} denials[DENIALS_MAX];
	unsigned n_counters;
	uint8_t n_rekey;                /* what counters() asks to rekey */
	uint32_t rekey_spi[VNOC_MAX_REKEY];
};

static uint64_t
now_ms(const struct test_ctx *t)
{
	return (uint64_t)((int64_t)mono_ms() + t->skew_ms);
}

static void
on_view_changed(void *arg, const struct vnoc_view *view)
{
	struct test_ctx *t = arg;

	if (t->n_views < VIEWS_MAX) {
		t->view_versions[t->n_views] = view->version;
		t->view_groups[t->n_views] = view->n_groups;
	}
	t->n_views++;
}

static void
on_denied(void *arg, uint32_t group, uint8_t roles, const struct vnoc_fault_info *fault)
{
	struct test_ctx *t = arg;

	if (t->n_denials < DENIALS_MAX) {
		t->denials[t->n_denials].group = group;
		t->denials[t->n_denials].roles = roles;
		t->denials[t->n_denials].reason = fault->reason;
		strcpy(t->denials[t->n_denials].text, fault->text);
	}
	t->n_denials++;
}

static void
on_counters(void *arg, struct vnoc_client_site_counters *out)
{
	struct test_ctx *t = arg;

	t->n_counters++;
	out->rx_packets = 1000 + t->n_counters;
	out->tx_packets = 2000;
	out->drops = 3;
	out->n_rekey = t->n_rekey;
	memcpy(out->rekey_spi, t->rekey_spi, sizeof(out->rekey_spi));
}

static const struct vnoc_client_ops test_ops = {
	.view_changed = on_view_changed,
	.denied = on_denied,
	.counters = on_counters,
};

/* One poll, timed. A poll the scheduler preempted (an involuntary context
 * switch, on a loaded machine) says nothing about the client and is not
 * timed; one that waited for the network would switch voluntarily, and is. */
static void
step(struct test_ctx *t)
{
	struct rusage r0, r1;
	uint64_t t0, dt;

	getrusage(RUSAGE_THREAD, &r0);
	t0 = mono_ns();
	vnoc_client_poll(t->c, now_ms(t));
	dt = mono_ns() - t0;
	getrusage(RUSAGE_THREAD, &r1);
	if (r1.ru_nivcsw == r0.ru_nivcsw && dt > t->max_poll_ns)
		t->max_poll_ns = dt;
	t->polls++;
	usleep(200);
}

/* Poll until cond holds; fail the test if it takes longer than RUN_LIMIT_MS. */
#define RUN_UNTIL(t, cond)                                                      \
	do {                                                                    \
		uint64_t run_end_ = mono_ms() + RUN_LIMIT_MS;                   \
		while (!(cond)) {                                               \
			if (mono_ms() > run_end_)                               \
				fail_msg("timed out waiting for %s", #cond);    \
			step(t);                                                \
		}                                                               \
	} while (0)

/* Poll for a while of real time (things that must NOT happen). */
static void
run_for(struct test_ctx *t, unsigned ms)
{
	uint64_t end = mono_ms() + ms;

	while (mono_ms() < end)
		step(t);
}

static struct vnoc_client_status
status(struct test_ctx *t)
{
	struct vnoc_client_status st;

	vnoc_client_status(t->c, &st);
	return st;
}

struct group_find {
	uint32_t group;
	bool found;
	struct vnoc_client_group_status gs;
};

static bool
group_find_fn(void *arg, const struct vnoc_client_group_status *gs)
{
	struct group_find *q = arg;

	if (gs->group != q->group)
		return true;
	q->found = true;
	q->gs = *gs;
	return false;
}

static struct group_find
group_status(struct test_ctx *t, uint32_t group)
{
	struct group_find q = { .group = group };

	vnoc_client_foreach_group(t->c, group_find_fn, &q);
	return q;
}

static bool
ready(struct test_ctx *t)
{
	return status(t).state == VNOC_CLIENT_READY;
}

static bool
watching_since(struct test_ctx *t, uint64_t since)
{
	struct fake_request w[FAKE_LOG];
	unsigned n = fake_count(&t->vnoc, VNOC_OP_WATCH_UPDATES, w, FAKE_LOG);

	return status(t).watch_outstanding && n > 0 && w[n - 1].since == since;
}

static void
url_set(struct vnoc_client_config *cfg, unsigned i, uint16_t port)
{
	snprintf(cfg->urls[i], sizeof(cfg->urls[i]), "http://127.0.0.1:%u/vnoc", port);
	if (cfg->n_urls <= i)
		cfg->n_urls = (uint16_t)(i + 1);
}

static int
setup(void **state)
{
	struct test_ctx *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	fake_init(&t->vnoc);
	fake_start(&t->vnoc, 0);
	vnoc_client_config_defaults(&t->cfg);
	url_set(&t->cfg, 0, t->vnoc.port);
	t->cfg.insecure_http = true;
	strcpy(t->cfg.site, SITE);
	t->cfg.wan_addr = htonl(0xc6336401);
	strcpy(t->cfg.software, "ivgmpd-test");
	t->cfg.seed = 42;
	t->cfg.connect_timeout_ms = 1000;
	t->cfg.request_timeout_ms = 2000;
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct test_ctx *t = *state;

	vnoc_client_free(t->c);
	fake_stop(&t->vnoc);
	pthread_mutex_destroy(&t->vnoc.lock);
	if (t->vnoc.broken[0])
		fail_msg("the fake VNOC saw: %s", t->vnoc.broken);
	/* Whatever a test did, no poll may have waited. */
	if (t->max_poll_ns >= POLL_BUDGET_NS)
		fail_msg("a poll took %.2f ms", t->max_poll_ns / 1e6);
	if (getenv("VNOC_CLIENT_TEST_VERBOSE"))
		print_message("%u polls, the longest %.3f ms\n", t->polls, t->max_poll_ns / 1e6);
	free(t);
	return 0;
}

static void
client_start(struct test_ctx *t)
{
	char err[256];

	t->c = vnoc_client_create(&t->cfg, &test_ops, t, err, sizeof(err));
	if (t->c == NULL)
		fail_msg("vnoc_client_create: %s", err);
}

static void
client_ready(struct test_ctx *t)
{
	client_start(t);
	RUN_UNTIL(t, ready(t) && status(t).watch_outstanding);
}

/* Skip virtual time to the end of the current backoff. */
static void
skip_backoff(struct test_ctx *t)
{
	struct vnoc_client_status st = status(t);

	assert_int_equal(st.state, VNOC_CLIENT_BACKOFF);
	if (st.retry_at_ms > now_ms(t))
		t->skew_ms += (int64_t)(st.retry_at_ms - now_ms(t));
}

/* ---- tests ---- */

static void
test_config_rejects_what_cannot_work(void **state)
{
	struct test_ctx *t = *state;
	struct vnoc_client_config cfg = t->cfg;
	char err[256];

	cfg.insecure_http = false;
	assert_null(vnoc_client_create(&cfg, &test_ops, t, err, sizeof(err)));
	assert_non_null(strstr(err, "plain HTTP"));

	cfg = t->cfg;
	strcpy(cfg.urls[0], "https://vnoc.example/");
	assert_null(vnoc_client_create(&cfg, &test_ops, t, err, sizeof(err)));
	assert_non_null(strstr(err, "certificate"));

	cfg = t->cfg;
	strcpy(cfg.site, "no spaces");
	assert_null(vnoc_client_create(&cfg, &test_ops, t, err, sizeof(err)));

	cfg = t->cfg;
	cfg.n_urls = 0;
	assert_null(vnoc_client_create(&cfg, &test_ops, t, err, sizeof(err)));

	cfg = t->cfg;
	cfg.backoff_min_ms = 0;
	assert_null(vnoc_client_create(&cfg, &test_ops, t, err, sizeof(err)));
}

static void
test_register_then_watch_always_outstanding(void **state)
{
	struct test_ctx *t = *state;
	struct fake_request log[8];

	client_ready(t);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_REGISTER_SITE, log, 8), 1);
	assert_true(log[0].site_header);
	assert_true(log[0].soap_action);
	/* The registration's view is adopted. */
	assert_int_equal(t->n_views, 1);
	assert_int_equal(t->view_versions[0], 1);
	RUN_UNTIL(t, watching_since(t, 1));
	assert_int_equal(status(t).heartbeat_s, 30);
	assert_int_equal(status(t).watch_timeout_s, 25);

	/* A new version answers the watch, and a new watch follows at once. */
	fake_set_version(&t->vnoc, 2);
	RUN_UNTIL(t, watching_since(t, 2));
	assert_int_equal(t->n_views, 2);
	assert_int_equal(t->view_versions[1], 2);
	assert_int_equal(status(t).version, 2);
	fake_set_version(&t->vnoc, 5);
	RUN_UNTIL(t, watching_since(t, 5));
	assert_int_equal(t->n_views, 3);
	assert_int_equal(status(t).counters[VNOC_CLIENT_CTR_watch_answers], 2);

	/* Heartbeat every heartbeat_s, with the owner's counters. */
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_HEARTBEAT, NULL, 0), 0);
	t->skew_ms += 30 * 1000;
	RUN_UNTIL(t, status(t).counters[VNOC_CLIENT_CTR_heartbeats] == 1);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_HEARTBEAT, log, 8), 1);
	assert_int_equal(log[0].rx_packets, 1001);
	run_for(t, 50);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_HEARTBEAT, NULL, 0), 1);
	t->skew_ms += 30 * 1000;
	RUN_UNTIL(t, status(t).counters[VNOC_CLIENT_CTR_heartbeats] == 2);
	assert_true(status(t).watch_outstanding);
	assert_int_equal(status(t).state, VNOC_CLIENT_READY);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_REGISTER_SITE, NULL, 0), 1);
}

/* An SA passed its soft limit: the owner asks for a Heartbeat now, not at
 * the next period, and counters() names the SAs to rekey in it. */
static void
test_heartbeat_soon_sends_the_rekey_spis_at_once(void **state)
{
	struct test_ctx *t = *state;
	struct fake_request log[8];

	client_ready(t);
	RUN_UNTIL(t, watching_since(t, 1));
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_HEARTBEAT, NULL, 0), 0);
	t->n_rekey = 2;
	t->rekey_spi[0] = 4097;
	t->rekey_spi[1] = 8193;
	vnoc_client_heartbeat_soon(t->c);
	RUN_UNTIL(t, status(t).counters[VNOC_CLIENT_CTR_heartbeats] == 1);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_HEARTBEAT, log, 8), 1);
	assert_int_equal(log[0].n_rekey, 2);
	assert_int_equal(log[0].rekey_spi[0], 4097);
	assert_int_equal(log[0].rekey_spi[1], 8193);
	assert_int_equal(status(t).counters[VNOC_CLIENT_CTR_rekey_requests], 2);
	/* Once: the next one comes at the period. */
	run_for(t, 50);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_HEARTBEAT, NULL, 0), 1);
}

static void
test_join_on_role_gain_leave_on_role_loss(void **state)
{
	struct test_ctx *t = *state;
	struct fake_request log[8];
	struct group_find g;

	client_ready(t);
	assert_int_equal(vnoc_client_set_roles(t->c, G1, R, now_ms(t)), 0);
	RUN_UNTIL(t, group_status(t, G1).gs.granted == R);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_JOIN_VPN, log, 8), 1);
	assert_int_equal(log[0].group, G1);
	assert_int_equal(log[0].roles, R);
	assert_int_equal(fake_roles(&t->vnoc, G1), R);

	/* Gaining the sender role asks for it alone. */
	vnoc_client_set_roles(t->c, G1, R | S, now_ms(t));
	RUN_UNTIL(t, group_status(t, G1).gs.granted == (R | S));
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_JOIN_VPN, log, 8), 2);
	assert_int_equal(log[1].roles, S);

	/* Losing the receiver role: LeaveVpn(receiver). */
	vnoc_client_set_roles(t->c, G1, S, now_ms(t));
	RUN_UNTIL(t, group_status(t, G1).gs.granted == S);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_LEAVE_VPN, log, 8), 1);
	assert_int_equal(log[0].group, G1);
	assert_int_equal(log[0].roles, R);
	assert_int_equal(fake_roles(&t->vnoc, G1), S);

	/* Losing everything: LeaveVpn, and the group is forgotten. */
	vnoc_client_set_roles(t->c, G1, 0, now_ms(t));
	RUN_UNTIL(t, fake_roles(&t->vnoc, G1) == 0 && !group_status(t, G1).found);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_LEAVE_VPN, log, 8), 2);
	assert_int_equal(log[1].roles, S);

	/* Setting what is already desired sends nothing. */
	vnoc_client_set_roles(t->c, G1, 0, now_ms(t));
	vnoc_client_set_roles(t->c, G2, R, now_ms(t));
	RUN_UNTIL(t, group_status(t, G2).gs.granted == R);
	vnoc_client_set_roles(t->c, G2, R, now_ms(t));
	run_for(t, 50);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_JOIN_VPN, NULL, 0), 3);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_LEAVE_VPN, NULL, 0), 2);
	g = group_status(t, G2);
	assert_true(g.found);
	assert_int_equal(g.gs.desired, R);
	assert_int_equal(status(t).counters[VNOC_CLIENT_CTR_joins], 3);
	assert_int_equal(status(t).counters[VNOC_CLIENT_CTR_leaves], 2);
}

static void
test_changes_while_in_flight_coalesce(void **state)
{
	struct test_ctx *t = *state;
	struct fake_request join[8], leave[8];
	struct group_find g;

	client_ready(t);
	pthread_mutex_lock(&t->vnoc.lock);
	t->vnoc.hold_membership = true;
	pthread_mutex_unlock(&t->vnoc.lock);
	vnoc_client_set_roles(t->c, G1, R, now_ms(t));
	RUN_UNTIL(t, fake_count(&t->vnoc, VNOC_OP_JOIN_VPN, NULL, 0) == 1);
	g = group_status(t, G1);
	assert_int_equal(g.gs.in_flight, R);
	assert_true(g.gs.in_flight_join);

	/* The wish moves three times while JoinVpn(R) is in flight. */
	vnoc_client_set_roles(t->c, G1, R | S, now_ms(t));
	vnoc_client_set_roles(t->c, G1, 0, now_ms(t));
	vnoc_client_set_roles(t->c, G1, S, now_ms(t));
	run_for(t, 100);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_JOIN_VPN, NULL, 0), 1);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_LEAVE_VPN, NULL, 0), 0);
	assert_int_equal(status(t).outstanding, 2);     /* the watch, the join */

	/* Then only the difference: join S, leave R, one after the other. */
	pthread_mutex_lock(&t->vnoc.lock);
	t->vnoc.hold_membership = false;
	pthread_mutex_unlock(&t->vnoc.lock);
	RUN_UNTIL(t, group_status(t, G1).gs.granted == S && !group_status(t, G1).gs.in_flight);
	run_for(t, 50);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_JOIN_VPN, join, 8), 2);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_LEAVE_VPN, leave, 8), 1);
	assert_int_equal(join[0].roles, R);
	assert_int_equal(join[1].roles, S);
	assert_int_equal(leave[0].roles, R);
	assert_int_equal(fake_roles(&t->vnoc, G1), S);
}

static void
test_membership_requests_bounded_in_flight(void **state)
{
	struct test_ctx *t = *state;

	t->cfg.max_membership_inflight = 2;
	client_ready(t);
	pthread_mutex_lock(&t->vnoc.lock);
	t->vnoc.hold_membership = true;
	pthread_mutex_unlock(&t->vnoc.lock);
	for (uint32_t g = 0; g < 5; g++)
		vnoc_client_set_roles(t->c, htonl(0xef010101u + g), R, now_ms(t));
	RUN_UNTIL(t, fake_count(&t->vnoc, VNOC_OP_JOIN_VPN, NULL, 0) == 2);
	run_for(t, 100);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_JOIN_VPN, NULL, 0), 2);
	assert_int_equal(status(t).outstanding, 3);     /* the watch, two joins */
	assert_int_equal(status(t).membership_in_flight, 2);
	/* Three requests waited: each counted once, however many passes. */
	assert_int_equal(status(t).counters[VNOC_CLIENT_CTR_inflight_limit_waits], 3);
	pthread_mutex_lock(&t->vnoc.lock);
	t->vnoc.hold_membership = false;
	pthread_mutex_unlock(&t->vnoc.lock);
	RUN_UNTIL(t, status(t).counters[VNOC_CLIENT_CTR_joins] == 5);
	for (uint32_t g = 0; g < 5; g++)
		assert_int_equal(fake_roles(&t->vnoc, htonl(0xef010101u + g)), R);
	assert_int_equal(status(t).n_groups, 5);
}

/* vnoc-max-groups: a group past the bound is refused and counted; the
 * table is allocated once, at max_groups, so the refusal costs no memory. */
static void
test_vnoc_client_group_bound_refuses_new_group_and_counts(void **state)
{
	struct test_ctx *t = *state;

	t->cfg.max_groups = 3;
	client_ready(t);
	for (uint32_t g = 0; g < 3; g++)
		assert_int_equal(vnoc_client_set_roles(t->c, htonl(0xef010101u + g), R,
						       now_ms(t)), 0);
	assert_int_equal(vnoc_client_set_roles(t->c, htonl(0xef010201u), R, now_ms(t)), -1);
	assert_int_equal(vnoc_client_set_roles(t->c, htonl(0xef010202u), S, now_ms(t)), -1);
	assert_int_equal(status(t).counters[VNOC_CLIENT_CTR_group_limit_hit], 2);
	assert_int_equal(status(t).n_groups, 3);
	/* The groups held still change roles and reach the VNOC. */
	assert_int_equal(vnoc_client_set_roles(t->c, htonl(0xef010101u), R | S, now_ms(t)), 0);
	RUN_UNTIL(t, fake_roles(&t->vnoc, htonl(0xef010101u)) == (R | S) &&
		  fake_roles(&t->vnoc, htonl(0xef010103u)) == R);
	assert_int_equal(fake_roles(&t->vnoc, htonl(0xef010201u)), 0);
	assert_int_equal(status(t).counters[VNOC_CLIENT_CTR_group_limit_hit], 2);
}

static void
test_denial_reported_once_not_retried(void **state)
{
	struct test_ctx *t = *state;
	struct fake_request join[8];
	struct group_find g;

	pthread_mutex_lock(&t->vnoc.lock);
	t->vnoc.policy[0].group = G1;
	t->vnoc.policy[0].roles = S;
	t->vnoc.n_policy = 1;
	pthread_mutex_unlock(&t->vnoc.lock);
	t->cfg.denial_hold_ms = 10 * 60 * 1000;
	client_ready(t);

	vnoc_client_set_roles(t->c, G1, S, now_ms(t));
	RUN_UNTIL(t, t->n_denials == 1);
	assert_int_equal(t->denials[0].group, G1);
	assert_int_equal(t->denials[0].roles, S);
	assert_int_equal(t->denials[0].reason, VNOC_FAULT_NOT_AUTHORIZED);
	assert_string_equal(t->denials[0].text, "policy: site-a may not send to G");
	g = group_status(t, G1);
	assert_int_equal(g.gs.denied, S);
	assert_int_equal(g.gs.granted, 0);
	assert_int_equal(g.gs.denied_reason, VNOC_FAULT_NOT_AUTHORIZED);
	assert_string_equal(g.gs.denied_text, "policy: site-a may not send to G");

	/* Nine minutes of polling: no second JoinVpn, no second report. A
	 * denial is no transport failure: the client stays ready. */
	for (int i = 0; i < 9; i++) {
		t->skew_ms += 60 * 1000;
		run_for(t, 20);
	}
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_JOIN_VPN, NULL, 0), 1);
	assert_int_equal(t->n_denials, 1);
	assert_int_equal(status(t).counters[VNOC_CLIENT_CTR_denials], 1);
	assert_int_equal(status(t).faults[VNOC_FAULT_NOT_AUTHORIZED], 1);
	assert_int_equal(status(t).state, VNOC_CLIENT_READY);
	assert_int_equal(status(t).counters[VNOC_CLIENT_CTR_retries], 0);

	/* A new wish is asked: the receiver is granted, the sender refused
	 * again and reported again. */
	vnoc_client_set_roles(t->c, G1, R | S, now_ms(t));
	RUN_UNTIL(t, t->n_denials == 2 && group_status(t, G1).gs.granted == R);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_JOIN_VPN, join, 8), 3);
	assert_int_equal(join[1].roles, R);
	assert_int_equal(join[2].roles, S);

	/* After the hold, asked once more. */
	t->skew_ms += 10 * 60 * 1000;
	RUN_UNTIL(t, t->n_denials == 3);
	run_for(t, 50);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_JOIN_VPN, NULL, 0), 4);
	assert_int_equal(group_status(t, G1).gs.denied, S);
}

static void
test_view_changed_on_new_versions_only(void **state)
{
	struct test_ctx *t = *state;

	pthread_mutex_lock(&t->vnoc.lock);
	t->vnoc.watch_answer_ms = 20;   /* the fake answers "no change" quickly */
	pthread_mutex_unlock(&t->vnoc.lock);
	client_ready(t);
	assert_int_equal(t->n_views, 1);

	/* Unchanged answers: no callback; the watch is re-issued, but not
	 * sooner than a second (of the client's time) after the last one. */
	RUN_UNTIL(t, status(t).counters[VNOC_CLIENT_CTR_watch_answers] == 1);
	run_for(t, 100);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_WATCH_UPDATES, NULL, 0), 1);
	for (int i = 0; i < 3; i++) {
		t->skew_ms += 1000;
		RUN_UNTIL(t, status(t).counters[VNOC_CLIENT_CTR_watch_answers] == (uint64_t)i + 2);
	}
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_WATCH_UPDATES, NULL, 0), 4);
	assert_int_equal(t->n_views, 1);

	/* A newer version: exactly one callback. */
	pthread_mutex_lock(&t->vnoc.lock);
	t->vnoc.watch_answer_ms = 60000;
	pthread_mutex_unlock(&t->vnoc.lock);
	t->skew_ms += 1000;
	RUN_UNTIL(t, status(t).watch_outstanding);
	fake_set_version(&t->vnoc, 7);
	RUN_UNTIL(t, t->n_views == 2);
	RUN_UNTIL(t, watching_since(t, 7));
	run_for(t, 50);
	assert_int_equal(t->n_views, 2);
	assert_int_equal(t->view_versions[1], 7);
}

static void
test_failover_to_second_url_when_first_refuses(void **state)
{
	struct test_ctx *t = *state;
	struct vnoc_client_status st;

	url_set(&t->cfg, 1, t->vnoc.port);
	url_set(&t->cfg, 0, dead_port());
	client_start(t);
	RUN_UNTIL(t, status(t).state == VNOC_CLIENT_BACKOFF);
	st = status(t);
	assert_int_equal(st.url_index, 1);
	assert_int_equal(st.counters[VNOC_CLIENT_CTR_transport_failures], 1);
	assert_int_equal(st.counters[VNOC_CLIENT_CTR_failovers], 1);
	assert_non_null(strstr(st.last_error, "RegisterSite"));
	assert_int_equal(t->n_views, 0);

	skip_backoff(t);
	RUN_UNTIL(t, ready(t));
	st = status(t);
	assert_int_equal(st.url_index, 1);
	assert_non_null(strstr(st.url, "127.0.0.1"));
	assert_string_equal(st.last_error, "");
	assert_int_equal(st.backoff_ms, 0);
	assert_int_equal(t->n_views, 1);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_REGISTER_SITE, NULL, 0), 1);
}

/* n-th delay since the last success: min * 2^n capped at max, +-20 %. */
static void
assert_backoff_within(uint32_t delay, unsigned n, uint32_t min, uint32_t max)
{
	uint64_t nominal = min;

	for (unsigned i = 0; i < n && nominal < max; i++)
		nominal *= 2;
	if (nominal > max)
		nominal = max;
	if (delay < nominal * 80 / 100 || delay > nominal * 120 / 100)
		fail_msg("delay %u of failure %u is outside %" PRIu64 " +-20 %%", delay, n, nominal);
}

static void
test_backoff_grows_with_jitter_and_resets(void **state)
{
	struct test_ctx *t = *state;
	uint16_t port = t->vnoc.port;
	uint32_t delays[10];
	unsigned off_nominal = 0;

	fake_stop(&t->vnoc);
	url_set(&t->cfg, 0, port);
	url_set(&t->cfg, 1, dead_port());
	t->cfg.backoff_min_ms = 500;
	t->cfg.backoff_max_ms = 8000;
	t->cfg.backoff_jitter_pct = 20;
	client_start(t);
	for (unsigned n = 0; n < 10; n++) {
		RUN_UNTIL(t, status(t).state == VNOC_CLIENT_BACKOFF);
		delays[n] = status(t).backoff_ms;
		assert_backoff_within(delays[n], n, 500, 8000);
		if (n < 4 && delays[n] != 500u << n)
			off_nominal++;
		assert_int_equal(status(t).url_index, (n + 1) % 2);
		if (n == 9)
			break;
		skip_backoff(t);
		RUN_UNTIL(t, status(t).state != VNOC_CLIENT_BACKOFF);
	}
	/* The jitter is there: delays are not the nominal ones. */
	assert_true(off_nominal >= 3);
	assert_int_equal(status(t).counters[VNOC_CLIENT_CTR_retries], 10);

	/* The VNOC comes back (at the URL tried next): success resets the
	 * backoff. */
	fake_start(&t->vnoc, port);
	skip_backoff(t);
	RUN_UNTIL(t, ready(t));
	assert_int_equal(status(t).backoff_ms, 0);
	fake_stop(&t->vnoc);
	RUN_UNTIL(t, status(t).state == VNOC_CLIENT_BACKOFF);
	assert_backoff_within(status(t).backoff_ms, 0, 500, 8000);
}

static void
test_reregister_and_rejoin_after_server_returns(void **state)
{
	struct test_ctx *t = *state;
	struct fake_request join[16], watch[FAKE_LOG];
	uint16_t port = t->vnoc.port;
	unsigned n;

	client_ready(t);
	vnoc_client_set_roles(t->c, G1, R, now_ms(t));
	vnoc_client_set_roles(t->c, G2, R | S, now_ms(t));
	RUN_UNTIL(t, group_status(t, G1).gs.granted == R &&
		     group_status(t, G2).gs.granted == (R | S));
	fake_set_version(&t->vnoc, 3);
	RUN_UNTIL(t, watching_since(t, 3));
	assert_int_equal(t->n_views, 2);
	assert_int_equal(t->view_groups[1], 2);

	/* The VNOC goes away: the watch fails, the client backs off; the
	 * view stays what it was (no callback). */
	fake_stop(&t->vnoc);
	RUN_UNTIL(t, status(t).state == VNOC_CLIENT_BACKOFF);
	assert_int_equal(status(t).outstanding, 0);
	assert_int_equal(status(t).version, 3);
	assert_int_equal(group_status(t, G2).gs.granted, R | S);
	for (int i = 0; i < 3; i++) {
		skip_backoff(t);
		RUN_UNTIL(t, status(t).state == VNOC_CLIENT_BACKOFF &&
			     status(t).counters[VNOC_CLIENT_CTR_retries] == (uint64_t)i + 2);
	}
	assert_int_equal(t->n_views, 2);

	/* It comes back (with its state): register again, join every wished
	 * role again, watch from the last version. */
	fake_start(&t->vnoc, port);
	skip_backoff(t);
	RUN_UNTIL(t, ready(t));
	RUN_UNTIL(t, fake_count(&t->vnoc, VNOC_OP_JOIN_VPN, NULL, 0) == 6);
	RUN_UNTIL(t, watching_since(t, 3));
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_REGISTER_SITE, NULL, 0), 2);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_JOIN_VPN, join, 16), 6);
	assert_int_equal(join[3].group + join[4].group + join[5].group, G1 + G2 + G2);
	assert_int_equal(join[3].roles | join[4].roles | join[5].roles, R | S);
	n = fake_count(&t->vnoc, VNOC_OP_WATCH_UPDATES, watch, FAKE_LOG);
	assert_int_equal(watch[n - 1].since, 3);
	/* The same version as before the outage: nothing to rebuild. */
	assert_int_equal(t->n_views, 2);
	run_for(t, 50);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_JOIN_VPN, NULL, 0), 6);
	assert_int_equal(status(t).counters[VNOC_CLIENT_CTR_registrations], 2);
}

static void
test_unknown_site_registers_again(void **state)
{
	struct test_ctx *t = *state;

	client_ready(t);
	vnoc_client_set_roles(t->c, G1, R, now_ms(t));
	RUN_UNTIL(t, group_status(t, G1).gs.granted == R);
	pthread_mutex_lock(&t->vnoc.lock);
	t->vnoc.forget_site = true;
	pthread_mutex_unlock(&t->vnoc.lock);
	vnoc_client_set_roles(t->c, G2, S, now_ms(t));
	RUN_UNTIL(t, status(t).state == VNOC_CLIENT_BACKOFF);
	/* The VNOC forgot the site, not the other way round: same URL. */
	assert_int_equal(status(t).faults[VNOC_FAULT_UNKNOWN_SITE], 1);
	assert_int_equal(status(t).counters[VNOC_CLIENT_CTR_failovers], 0);
	skip_backoff(t);
	RUN_UNTIL(t, ready(t) && group_status(t, G2).gs.granted == S &&
		     fake_count(&t->vnoc, VNOC_OP_JOIN_VPN, NULL, 0) == 4);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_REGISTER_SITE, NULL, 0), 2);
}

static void
test_fresh_start_only_on_first_registration(void **state)
{
	struct test_ctx *t = *state;
	struct fake_request log[8];

	client_ready(t);
	pthread_mutex_lock(&t->vnoc.lock);
	t->vnoc.forget_site = true;
	pthread_mutex_unlock(&t->vnoc.lock);
	vnoc_client_set_roles(t->c, G1, R, now_ms(t));
	RUN_UNTIL(t, status(t).state == VNOC_CLIENT_BACKOFF);
	skip_backoff(t);
	RUN_UNTIL(t, ready(t) && fake_count(&t->vnoc, VNOC_OP_REGISTER_SITE, NULL, 0) == 2);
	fake_count(&t->vnoc, VNOC_OP_REGISTER_SITE, log, 8);
	/* The first: this process has sent nothing on any SA yet. The second
	 * comes from the same process: its sequence numbers go on. */
	assert_true(log[0].fresh_start);
	assert_false(log[1].fresh_start);
}

/* A previous run of the site held roles the new run's IGMP never asks for
 * again: they are left once the adopt hold is over; those asked for again
 * stay. */
static void
test_previous_runs_roles_left_after_adopt_hold(void **state)
{
	struct test_ctx *t = *state;
	struct fake_request leave[8];
	struct group_find g;

	t->cfg.adopt_hold_ms = 5000;
	pthread_mutex_lock(&t->vnoc.lock);
	t->vnoc.view_lists_site = true;
	*fake_held(&t->vnoc, G1) = R;
	*fake_held(&t->vnoc, G2) = S;
	pthread_mutex_unlock(&t->vnoc.lock);
	client_ready(t);
	g = group_status(t, G1);
	assert_true(g.found);
	assert_int_equal(g.gs.desired, 0);
	assert_int_equal(g.gs.granted, R);
	assert_int_equal(g.gs.adopted, R);
	assert_int_equal(group_status(t, G2).gs.adopted, S);

	/* Within the hold, nothing is left; G2's sender shows up again (the
	 * VNOC holds it already: nothing to ask). */
	run_for(t, 100);
	vnoc_client_set_roles(t->c, G2, S, now_ms(t));
	assert_int_equal(group_status(t, G2).gs.adopted, 0);
	run_for(t, 100);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_JOIN_VPN, NULL, 0), 0);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_LEAVE_VPN, NULL, 0), 0);
	assert_int_equal(fake_roles(&t->vnoc, G1), R);

	/* The hold ends: G1's receiver, asked for by nobody, is left. */
	t->skew_ms += 5000;
	RUN_UNTIL(t, fake_roles(&t->vnoc, G1) == 0 && !group_status(t, G1).found);
	assert_int_equal(fake_count(&t->vnoc, VNOC_OP_LEAVE_VPN, leave, 8), 1);
	assert_int_equal(leave[0].group, G1);
	assert_int_equal(leave[0].roles, R);
	assert_int_equal(fake_roles(&t->vnoc, G2), S);
	assert_int_equal(group_status(t, G2).gs.granted, S);
}

static void
test_http_503_backs_off_and_fails_over(void **state)
{
	struct test_ctx *t = *state;
	struct fake_vnoc second;

	fake_init(&second);
	fake_start(&second, 0);
	url_set(&t->cfg, 1, second.port);
	pthread_mutex_lock(&t->vnoc.lock);
	t->vnoc.mode = FAKE_HTTP_503;
	pthread_mutex_unlock(&t->vnoc.lock);
	client_start(t);
	RUN_UNTIL(t, status(t).state == VNOC_CLIENT_BACKOFF);
	assert_non_null(strstr(status(t).last_error, "503"));
	assert_int_equal(status(t).url_index, 1);
	skip_backoff(t);
	RUN_UNTIL(t, ready(t));
	assert_int_equal(fake_count(&second, VNOC_OP_REGISTER_SITE, NULL, 0), 1);
	vnoc_client_free(t->c);
	t->c = NULL;
	fake_stop(&second);
	pthread_mutex_destroy(&second.lock);
}

static void
test_poll_never_blocks_while_server_stalls(void **state)
{
	struct test_ctx *t = *state;
	uint64_t start;

	t->cfg.request_timeout_ms = 300;
	pthread_mutex_lock(&t->vnoc.lock);
	t->vnoc.mode = FAKE_STALL;
	pthread_mutex_unlock(&t->vnoc.lock);
	client_start(t);
	t->max_poll_ns = 0;
	start = mono_ms();
	RUN_UNTIL(t, status(t).state == VNOC_CLIENT_BACKOFF);
	/* The client gave up on its own timeout, never inside a poll. */
	assert_true(mono_ms() - start >= 250);
	assert_true(t->polls > 100);
	assert_non_null(strstr(status(t).last_error, "RegisterSite"));
	assert_int_equal(status(t).counters[VNOC_CLIENT_CTR_transport_failures], 1);
	if (t->max_poll_ns >= POLL_BUDGET_NS)
		fail_msg("a poll took %.2f ms while the VNOC stalled", t->max_poll_ns / 1e6);

	/* Stalled after registration too: the watch and a join hang, the
	 * polls stay short. */
	pthread_mutex_lock(&t->vnoc.lock);
	t->vnoc.mode = FAKE_ANSWER;
	pthread_mutex_unlock(&t->vnoc.lock);
	skip_backoff(t);
	RUN_UNTIL(t, ready(t));
	pthread_mutex_lock(&t->vnoc.lock);
	t->vnoc.mode = FAKE_STALL;
	pthread_mutex_unlock(&t->vnoc.lock);
	vnoc_client_set_roles(t->c, G1, R, now_ms(t));
	RUN_UNTIL(t, status(t).state == VNOC_CLIENT_BACKOFF);
	assert_int_equal(group_status(t, G1).gs.desired, R);
	if (t->max_poll_ns >= POLL_BUDGET_NS)
		fail_msg("a poll took %.2f ms while the VNOC stalled", t->max_poll_ns / 1e6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_config_rejects_what_cannot_work),
		T(test_register_then_watch_always_outstanding),
		T(test_heartbeat_soon_sends_the_rekey_spis_at_once),
		T(test_join_on_role_gain_leave_on_role_loss),
		T(test_changes_while_in_flight_coalesce),
		T(test_membership_requests_bounded_in_flight),
		T(test_vnoc_client_group_bound_refuses_new_group_and_counts),
		T(test_denial_reported_once_not_retried),
		T(test_view_changed_on_new_versions_only),
		T(test_failover_to_second_url_when_first_refuses),
		T(test_backoff_grows_with_jitter_and_resets),
		T(test_reregister_and_rejoin_after_server_returns),
		T(test_unknown_site_registers_again),
		T(test_fresh_start_only_on_first_registration),
		T(test_previous_runs_roles_left_after_adopt_hold),
		T(test_http_503_backs_off_and_fails_over),
		T(test_poll_never_blocks_while_server_stalls),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
