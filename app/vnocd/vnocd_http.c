/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The VNOC's HTTP(S) side on libmicrohttpd: a pool of threads, each with its
 * own epoll loop, accepting on one socket. SOAP 1.1 requests are POSTed to
 * /vnoc as text/xml; answers are 200 with the response envelope, or a SOAP
 * fault with HTTP 500 (SOAP 1.1 section 6.2), 403 for a client without a
 * valid site certificate, 413 for a body over the limit, 429 for a site over
 * its request rate (vnocd_limits.c).
 *
 * Identity. With TLS, MHD asks every client for a certificate (the site
 * CA is its trust list); the first request on a connection verifies the
 * chain (gnutls_certificate_verify_peers, purpose TLS client) and takes the
 * subject CN as the site id, cached for the connection's life. A request
 * may only speak for that site; "admin" may use the operator's operations.
 * With --insecure-http (tests only) there is no TLS and the site id is the
 * X-Ivgmp-Site header of each request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

#include "vnocd.h"

#define HTTP_PATH "/vnoc"
#define HTTP_SITE_HEADER "X-Ivgmp-Site"
#define HTTP_PEM_MAX (1u << 20)
#define HTTP_WHY_MAX 200

/* One TCP (TLS) connection: its verified identity, its deadline. */
struct http_conn {
	struct vnocd_deadline deadline;
	bool checked;
	bool ok;
	char site[VNOC_SITE_ID_MAX];
	char why[HTTP_WHY_MAX];
};

/* One request. */
struct http_req {
	char who[VNOC_SITE_ID_MAX];
	char *body;
	size_t len;
	size_t cap;
	uint64_t started_ms;
	bool answered;                  /* a response is queued */
	bool too_big;                   /* the body passed the limit */
	bool watching;                  /* WatchUpdates suspended (or resumed) */
	struct vnoc_watch_req watch;
	struct vnocd_waiter waiter;
};

static char *http_key_pem, *http_cert_pem, *http_ca_pem;

static void
http_logger(void *cls, const char *fmt, va_list ap)
{
	struct vnocd *d = cls;
	char line[512];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	/* libmicrohttpd enforces these limits itself and tells only its log;
	 * both connection limits share one message. */
	if (strstr(line, "reached connection limit") != NULL) {
		vnocd_limits_hit(d->limits, VNOCD_LIMIT_CONNECTIONS, 1, "a connection refused: "
				 "--max-connections %u or --per-ip-connections %u reached",
				 d->cfg.max_connections, d->cfg.per_ip_connections);
		return;
	}
	if (strstr(line, "response code is 431") != NULL) {
		vnocd_limits_hit(d->limits, VNOCD_LIMIT_HEADERS, 1, "request headers over "
				 "--header-max %zu bytes: 431", d->cfg.header_max);
		return;
	}
	/* One per connection cut (vnocd_deadline.c) or dropped by its client:
	 * an attacker's to write, counted above instead. */
	if (strstr(line, "disconnected when reading request") != NULL)
		return;
	vnocd_log("http: %s", line);
}

/* retry_after_s: a Retry-After header (RFC 9110 10.2.3) when not 0. */
static enum MHD_Result
http_answer_retry(struct MHD_Connection *conn, struct http_req *req, unsigned int status,
		  char *body, size_t len, unsigned int retry_after_s)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/xml; charset=utf-8");
	if (retry_after_s != 0) {
		char v[16];

		snprintf(v, sizeof(v), "%u", retry_after_s);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
	}
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	if (req != NULL && rc == MHD_YES)
		req->answered = true;
	return rc;
}

static enum MHD_Result
http_answer(struct MHD_Connection *conn, struct http_req *req, unsigned int status, char *body,
	    size_t len)
{
	return http_answer_retry(conn, req, status, body, len, 0);
}

static enum MHD_Result
http_fault(struct MHD_Connection *conn, struct http_req *req, unsigned int status,
	   enum vnoc_fault reason, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static enum MHD_Result
http_fault(struct MHD_Connection *conn, struct http_req *req, unsigned int status,
	   enum vnoc_fault reason, const char *fmt, ...)
{
	struct vnoc_fault_info fault = { .reason = reason };
	va_list ap;
	size_t len;
	char *body;

	va_start(ap, fmt);
	vsnprintf(fault.text, sizeof(fault.text), fmt, ap);
	va_end(ap);
	body = vnoc_fault_encode(&fault, &len);
	if (body == NULL)
		return MHD_NO;
	return http_answer(conn, req, status, body, len);
}

/* A site over its rate: refused before its body is read, so nothing of it
 * runs (429, RFC 6585 4). */
static enum MHD_Result
http_rate_refuse(struct vnocd *d, struct MHD_Connection *conn, const char *site,
		 unsigned int wait_s)
{
	struct vnoc_fault_info fault = { .reason = VNOC_FAULT_LIMIT };
	size_t len;
	char *body;

	snprintf(fault.text, sizeof(fault.text), "rate limit: site %s sent more than %u requests "
		 "per second (burst %u); retry in %u s", site, d->cfg.site_rate,
		 d->cfg.site_burst, wait_s);
	vnocd_limits_hit(d->limits, VNOCD_LIMIT_SITE_RATE, 1, "site %s over %u requests/s "
			 "(burst %u): 429", site, d->cfg.site_rate, d->cfg.site_burst);
	body = vnoc_fault_encode(&fault, &len);
	if (body == NULL)
		return MHD_NO;
	return http_answer_retry(conn, NULL, MHD_HTTP_TOO_MANY_REQUESTS, body, len, wait_s);
}

static enum MHD_Result
http_plain(struct MHD_Connection *conn, unsigned int status, const char *text,
	   const char *header, const char *value)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	if (header != NULL)
		MHD_add_response_header(resp, header, value);
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* The peer's certificate, verified against the site CA, and its CN. */
static bool
http_tls_identity(struct vnocd *d, struct MHD_Connection *conn, char *site, char *why,
		  size_t why_len)
{
	gnutls_typed_vdata_st purpose = {
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
	};
	const union MHD_ConnectionInfo *ci;
	const gnutls_datum_t *certs;
	gnutls_x509_crt_t crt;
	gnutls_session_t s;
	unsigned int n = 0, status = 0;
	char cn[128], other[128];
	size_t len = sizeof(cn), len2 = sizeof(other);
	int rc;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL) {
		snprintf(why, why_len, "no TLS session");
		return false;
	}
	s = (gnutls_session_t)ci->tls_session;
	if (gnutls_certificate_type_get(s) != GNUTLS_CRT_X509) {
		snprintf(why, why_len, "not an X.509 certificate");
		return false;
	}
	certs = gnutls_certificate_get_peers(s, &n);
	if (certs == NULL || n == 0) {
		snprintf(why, why_len, "no client certificate");
		return false;
	}
	rc = gnutls_certificate_verify_peers(s, &purpose, 1, &status);
	if (rc < 0) {
		snprintf(why, why_len, "certificate not verified: %s", gnutls_strerror(rc));
		return false;
	}
	if (status != 0) {
		gnutls_datum_t out = { 0 };

		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out,
								 0) == 0) {
			size_t n;

			snprintf(why, why_len, "%s", (const char *)out.data);
			gnutls_free(out.data);
			n = strlen(why);
			while (n > 0 && why[n - 1] == ' ')
				why[--n] = '\0';
		} else {
			snprintf(why, why_len, "certificate not trusted (status 0x%x)", status);
		}
		return false;
	}
	if (gnutls_x509_crt_init(&crt) < 0)
		return false;
	rc = gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER);
	if (rc == 0)
		rc = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &len);
	if (rc == 0 &&
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 1, 0, other, &len2) !=
		    GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		rc = GNUTLS_E_CERTIFICATE_ERROR;        /* two CNs: whose is it? */
	/* Once per connection: revoked means no service, whatever it asks. */
	if (rc == 0) {
		char serial[2 * 20 + 1];
		int revoked;

		pthread_mutex_lock(&d->lock);
		revoked = vnocd_crl_revoked(d->crl, crt, serial, sizeof(serial));
		pthread_mutex_unlock(&d->lock);
		if (revoked != 0) {
			gnutls_x509_crt_deinit(crt);
			snprintf(why, why_len, revoked > 0 ? "certificate of %s revoked (serial %s)"
				 : "certificate of %s: revocation check failed%s", cn,
				 revoked > 0 ? serial : "");
			return false;
		}
	}
	gnutls_x509_crt_deinit(crt);
	if (rc < 0) {
		snprintf(why, why_len, "certificate without one subject CN");
		return false;
	}
	if (strlen(cn) != len || !vnoc_site_id_valid(cn)) {
		snprintf(why, why_len, "certificate CN is not a site id");
		return false;
	}
	snprintf(site, VNOC_SITE_ID_MAX, "%s", cn);
	return true;
}

static bool
http_identity(struct vnocd *d, struct MHD_Connection *conn, char *site, char *why,
	      size_t why_len)
{
	const union MHD_ConnectionInfo *ci;
	struct http_conn *hc;
	const char *h;

	if (d->cfg.insecure_http) {
		h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, HTTP_SITE_HEADER);
		if (h == NULL || !vnoc_site_id_valid(h)) {
			snprintf(why, why_len, "no valid " HTTP_SITE_HEADER " header");
			return false;
		}
		snprintf(site, VNOC_SITE_ID_MAX, "%s", h);
		return true;
	}
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	hc = ci != NULL ? ci->socket_context : NULL;
	if (hc == NULL) {
		snprintf(why, why_len, "no connection state");
		return false;
	}
	if (!hc->checked) {
		hc->checked = true;
		hc->ok = http_tls_identity(d, conn, hc->site, hc->why, sizeof(hc->why));
		if (!hc->ok) {
			const union MHD_ConnectionInfo *ai =
				MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
			char a[INET6_ADDRSTRLEN] = "?";

			if (ai != NULL && ai->client_addr->sa_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)ai->client_addr)->sin_addr, a,
					  sizeof(a));
			vnocd_log("refused %s: %s", a, hc->why);
		}
	}
	snprintf(why, why_len, "%s", hc->why);
	snprintf(site, VNOC_SITE_ID_MAX, "%s", hc->site);
	return hc->ok;
}

static bool
http_content_type_ok(struct MHD_Connection *conn)
{
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_TYPE);

	return ct != NULL && strncasecmp(ct, "text/xml", 8) == 0 &&
	       (ct[8] == '\0' || ct[8] == ';' || ct[8] == ' ');
}

static enum MHD_Result
http_send_view(struct MHD_Connection *conn, struct http_req *req, struct vnoc_msg *resp)
{
	size_t len;
	char *body = vnoc_msg_encode(resp, &len);

	vnocd_ops_release(resp);
	if (body == NULL)
		return http_fault(conn, req, MHD_HTTP_INTERNAL_SERVER_ERROR, VNOC_FAULT_SERVER,
				  "the answer could not be encoded");
	return http_answer(conn, req, MHD_HTTP_OK, body, len);
}

static enum MHD_Result
http_watch(struct vnocd *d, struct MHD_Connection *conn, struct http_req *req)
{
	struct vnoc_fault_info fault;
	struct vnoc_msg resp;

	req->waiter.connection = conn;
	switch (vnocd_ops_watch_begin(d, &req->watch, &req->waiter, &resp, &fault)) {
	case VNOCD_WATCH_SUSPENDED:
		req->watching = true;
		return MHD_YES;
	case VNOCD_WATCH_ANSWER:
		return http_send_view(conn, req, &resp);
	case VNOCD_WATCH_FAULT:
	default:
		return http_fault(conn, req, MHD_HTTP_INTERNAL_SERVER_ERROR, fault.reason, "%s",
				  fault.text);
	}
}

/* The whole body is in: decode, run, answer. */
static enum MHD_Result
http_dispatch(struct vnocd *d, struct MHD_Connection *conn, struct http_req *req)
{
	struct vnoc_fault_info fault;
	struct vnoc_msg msg, resp;
	char err[256], why[VNOC_TEXT_MAX];
	enum vnoc_fault f;
	int rc;

	memset(&msg, 0, sizeof(msg));
	rc = vnoc_msg_decode(req->body != NULL ? req->body : "", req->len, false, &msg, &fault, err,
			     sizeof(err));
	if (rc != 0)
		return http_fault(conn, req, MHD_HTTP_INTERNAL_SERVER_ERROR, VNOC_FAULT_BAD_REQUEST,
				  "malformed request: %s", rc == 1 ? "a fault is not a request" : err);
	if (msg.response || msg.op >= VNOC_OP_MAX) {
		vnoc_msg_release(&msg);
		return http_fault(conn, req, MHD_HTTP_INTERNAL_SERVER_ERROR, VNOC_FAULT_BAD_REQUEST,
				  "malformed request: not a request");
	}
	if (msg.op == VNOC_OP_WATCH_UPDATES) {
		req->watch = msg.u.watch_req;
		vnoc_msg_release(&msg);
		if (strcmp(req->watch.site, req->who) != 0)
			return http_fault(conn, req, MHD_HTTP_INTERNAL_SERVER_ERROR,
					  VNOC_FAULT_NOT_AUTHORIZED,
					  "the client is site %s and may not speak for site %s",
					  req->who, req->watch.site);
		return http_watch(d, conn, req);
	}
	f = vnocd_ops_run(d, req->who, &msg, &resp, why, sizeof(why));
	vnoc_msg_release(&msg);
	if (f != VNOC_FAULT_NONE)
		return http_fault(conn, req, MHD_HTTP_INTERNAL_SERVER_ERROR, f, "%s", why);
	return http_send_view(conn, req, &resp);
}

/* The connection's deadline for its next whole request (vnocd_deadline.c). */
static void
http_deadline_set(struct MHD_Connection *conn, struct vnocd *d, uint64_t deadline_ms)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct http_conn *hc = ci != NULL ? ci->socket_context : NULL;

	if (hc != NULL)
		vnocd_deadline_set(d->deadlines, &hc->deadline, deadline_ms);
}

/* A body trickled in past the connection timeout: the handler closes the
 * connection itself when a byte comes in before the sweep saw the deadline
 * pass; counted as the sweep would have, once. */
static void
http_slow_body_cut(struct MHD_Connection *conn, struct vnocd *d)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct http_conn *hc = ci != NULL ? ci->socket_context : NULL;

	if (hc == NULL || vnocd_deadline_cut(d->deadlines, &hc->deadline))
		vnocd_limits_hit(d->limits, VNOCD_LIMIT_SLOW, 1,
				 "1 connection(s) cut: a body slower than the connection timeout");
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	    const char *version, const char *upload_data, size_t *upload_data_size,
	    void **con_cls)
{
	struct vnocd *d = cls;
	struct http_req *req = *con_cls;
	char why[HTTP_WHY_MAX];

	(void)version;
	if (req == NULL) {
		char site[VNOC_SITE_ID_MAX];
		const char *cl;

		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			return http_plain(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only\n",
					  MHD_HTTP_HEADER_ALLOW, MHD_HTTP_METHOD_POST);
		if (strcmp(url, HTTP_PATH) != 0)
			return http_plain(conn, MHD_HTTP_NOT_FOUND, "not found\n", NULL, NULL);
		unsigned int wait_s;

		if (!http_identity(d, conn, site, why, sizeof(why)))
			return http_fault(conn, NULL, MHD_HTTP_FORBIDDEN, VNOC_FAULT_NOT_AUTHORIZED,
					  "no valid site certificate: %s", why);
		/* Every request counts, a long poll once (its resumption is
		 * not a new request). */
		wait_s = vnocd_limits_site_take(d->limits, site);
		if (wait_s != 0)
			return http_rate_refuse(d, conn, site, wait_s);
		if (!http_content_type_ok(conn))
			return http_fault(conn, NULL, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
					  VNOC_FAULT_BAD_REQUEST, "Content-Type must be text/xml");
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > d->cfg.body_max) {
			vnocd_limits_hit(d->limits, VNOCD_LIMIT_BODY, 1, "site %s: Content-Length "
					 "%s over --body-max %zu: 413", site, cl, d->cfg.body_max);
			return http_fault(conn, NULL, MHD_HTTP_CONTENT_TOO_LARGE,
					  VNOC_FAULT_BAD_REQUEST, "request body over %zu bytes",
					  d->cfg.body_max);
		}
		req = calloc(1, sizeof(*req));
		if (req == NULL)
			return MHD_NO;
		snprintf(req->who, sizeof(req->who), "%s", site);
		req->started_ms = vnocd_now_ms();
		*con_cls = req;
		return MHD_YES;
	}
	if (req->watching) {
		/* Resumed: a newer view, the deadline, or shutdown. */
		struct vnoc_msg resp;
		enum vnoc_fault f;

		if (req->answered)
			return MHD_YES;
		f = vnocd_ops_watch_end(d, &req->watch, &resp, why, sizeof(why));
		if (f != VNOC_FAULT_NONE)
			return http_fault(conn, req, MHD_HTTP_INTERNAL_SERVER_ERROR, f, "%s", why);
		return http_send_view(conn, req, &resp);
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		if (req->answered) {
			*upload_data_size = 0;
			return MHD_YES;
		}
		/* A body trickled in too slowly holds a connection: cut it. */
		if (vnocd_now_ms() - req->started_ms > (uint64_t)d->cfg.connection_timeout_s * 1000) {
			http_slow_body_cut(conn, d);
			return MHD_NO;
		}
		if (req->too_big || req->len + n > d->cfg.body_max) {
			/* A chunked body has no length up front. Past the
			 * limit it is read and dropped (within the deadline
			 * above), and answered 413 once it ends. */
			req->too_big = true;
			*upload_data_size = 0;
			return MHD_YES;
		}
		if (req->len + n + 1 > req->cap) {
			size_t cap = req->cap ? req->cap : 4096;
			char *p;

			while (cap < req->len + n + 1)
				cap *= 2;
			if (cap > d->cfg.body_max + 1)
				cap = d->cfg.body_max + 1;
			p = realloc(req->body, cap);
			if (p == NULL)
				return MHD_NO;
			req->body = p;
			req->cap = cap;
		}
		memcpy(req->body + req->len, upload_data, n);
		req->len += n;
		req->body[req->len] = '\0';
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->answered)
		return MHD_YES;
	/* The whole request is in: what follows is vnocd's time, not the
	 * client's (a long poll may wait up to --watch-timeout-max). */
	http_deadline_set(conn, d, UINT64_MAX);
	if (req->too_big) {
		vnocd_limits_hit(d->limits, VNOCD_LIMIT_BODY, 1, "site %s: body over --body-max "
				 "%zu: 413", req->who, d->cfg.body_max);
		return http_fault(conn, req, MHD_HTTP_CONTENT_TOO_LARGE, VNOC_FAULT_BAD_REQUEST,
				  "request body over %zu bytes", d->cfg.body_max);
	}
	return http_dispatch(d, conn, req);
}

static void
http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	       enum MHD_RequestTerminationCode toe)
{
	struct vnocd *d = cls;
	struct http_req *req = *con_cls;

	(void)toe;
	/* Answered: the next request (keep-alive) has the whole timeout. */
	http_deadline_set(conn, d, vnocd_now_ms() + (uint64_t)d->cfg.connection_timeout_s * 1000);
	if (req == NULL)
		return;
	if (req->waiter.waiting) {
		/* Not expected (waiters are resumed before MHD stops), but
		 * never leave a dangling waiter. */
		pthread_mutex_lock(&d->lock);
		vnocd_watch_cancel(&d->watch, &req->waiter);
		pthread_mutex_unlock(&d->lock);
	}
	free(req->body);
	free(req);
	*con_cls = NULL;
}

static void
http_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
		enum MHD_ConnectionNotificationCode toe)
{
	struct vnocd *d = cls;
	struct http_conn *hc = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		hc = calloc(1, sizeof(*hc));
		*socket_context = hc;
		/* From the accept: the TLS handshake and the first request. */
		if (hc != NULL && ci != NULL)
			vnocd_deadline_add(d->deadlines, &hc->deadline, ci->connect_fd,
					   vnocd_now_ms() +
					   (uint64_t)d->cfg.connection_timeout_s * 1000);
	} else {
		if (hc != NULL)
			vnocd_deadline_remove(d->deadlines, &hc->deadline);
		free(hc);
		*socket_context = NULL;
	}
}

static char *
http_file_read(const char *path, char *err, size_t err_len)
{
	FILE *f = fopen(path, "r");
	struct stat sb;
	char *buf;
	size_t n;

	if (f == NULL) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &sb) < 0 || sb.st_size <= 0 || sb.st_size > (off_t)HTTP_PEM_MAX) {
		snprintf(err, err_len, "%s: empty or larger than %u bytes", path, HTTP_PEM_MAX);
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (buf == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, (size_t)sb.st_size, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

int
vnocd_http_start(struct vnocd *d, char *err, size_t err_len)
{
	const struct vnocd_config *cfg = &d->cfg;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(cfg->port) };
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, NULL },
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, NULL },
		/* A trust list makes MHD ask clients for a certificate. */
		{ MHD_OPTION_HTTPS_MEM_TRUST, 0, NULL },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0,
		  (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" },
		{ MHD_OPTION_END, 0, NULL },
	};

	if (inet_pton(AF_INET, cfg->listen_addr, &sa.sin_addr) != 1) {
		snprintf(err, err_len, "--listen: '%s' is not an IPv4 address", cfg->listen_addr);
		return -1;
	}
	if (!cfg->insecure_http) {
		flags |= MHD_USE_TLS;
		http_key_pem = http_file_read(cfg->key_file, err, err_len);
		if (http_key_pem == NULL)
			return -1;
		http_cert_pem = http_file_read(cfg->cert_file, err, err_len);
		if (http_cert_pem == NULL)
			return -1;
		http_ca_pem = http_file_read(cfg->client_ca_file, err, err_len);
		if (http_ca_pem == NULL)
			return -1;
		tls[0].ptr_value = http_key_pem;
		tls[1].ptr_value = http_cert_pem;
		tls[2].ptr_value = http_ca_pem;
	} else {
		tls[0].option = MHD_OPTION_END;
	}
	d->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, http_access, d,
		MHD_OPTION_EXTERNAL_LOGGER, http_logger, d,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
		MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_ip_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->header_max,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		MHD_OPTION_NOTIFY_COMPLETED, http_completed, d,
		MHD_OPTION_NOTIFY_CONNECTION, http_connection, d,
		MHD_OPTION_ARRAY, tls,
		MHD_OPTION_END);
	if (d->mhd == NULL) {
		snprintf(err, err_len, "cannot start the HTTP%s server on %s:%u (see above)",
			 cfg->insecure_http ? "" : "S", cfg->listen_addr, cfg->port);
		return -1;
	}
	return 0;
}

void
vnocd_http_stop(struct vnocd *d)
{
	if (d->mhd == NULL)
		return;
	/* MHD refuses to stop with suspended connections: answer them. */
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	vnocd_watch_resume_all(&d->watch);
	pthread_mutex_unlock(&d->lock);
	MHD_stop_daemon(d->mhd);
	d->mhd = NULL;
	free(http_key_pem);
	free(http_cert_pem);
	free(http_ca_pem);
	http_key_pem = http_cert_pem = http_ca_pem = NULL;
}
