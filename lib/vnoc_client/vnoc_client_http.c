/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libcurl multi plumbing: one easy handle per request, all in one multi
 * handle whose connection cache keeps connections to the VNOC open between
 * requests. Only curl_multi_perform and curl_multi_info_read are called from
 * the poll: both return at once (sockets are non-blocking, names are
 * resolved by curl's resolver thread), so nothing here waits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnoc_client_private.h"

int
vnoc_client_http_init(struct vnoc_client *c)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	c->multi = curl_multi_init();
	if (c->multi == NULL) {
		curl_global_cleanup();
		return -1;
	}
	return 0;
}

void
vnoc_client_http_fini(struct vnoc_client *c)
{
	vnoc_client_http_abort_all(c);
	curl_multi_cleanup(c->multi);
	c->multi = NULL;
	curl_global_cleanup();
}

void
vnoc_client_request_free(struct vnoc_client_request *req)
{
	if (req == NULL)
		return;
	if (req->easy != NULL)
		curl_easy_cleanup(req->easy);
	curl_slist_free_all(req->headers);
	free(req->body);
	free(req->answer);
	free(req);
}

static size_t
http_answer_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct vnoc_client_request *req = arg;
	size_t n = size * nmemb;

	if (req->answer_len + n > req->answer_max) {
		req->answer_too_big = true;
		return 0;                       /* curl fails the transfer */
	}
	if (req->answer_len + n + 1 > req->answer_cap) {
		size_t cap = req->answer_cap ? req->answer_cap : 4096;
		char *grown;

		while (cap < req->answer_len + n + 1)
			cap *= 2;
		grown = realloc(req->answer, cap);
		if (grown == NULL)
			return 0;
		req->answer = grown;
		req->answer_cap = cap;
	}
	memcpy(req->answer + req->answer_len, data, n);
	req->answer_len += n;
	req->answer[req->answer_len] = '\0';
	return n;
}

static int
http_header_add(struct vnoc_client_request *req, const char *fmt, const char *value)
{
	char line[VNOC_CLIENT_URL_MAX + 64];
	struct curl_slist *l;

	snprintf(line, sizeof(line), fmt, value);
	l = curl_slist_append(req->headers, line);
	if (l == NULL)
		return -1;
	req->headers = l;
	return 0;
}

int
vnoc_client_http_start(struct vnoc_client *c, struct vnoc_client_request *req,
		       uint32_t timeout_ms)
{
	const struct vnoc_client_config *cfg = &c->cfg;
	char action[128];
	CURL *e = curl_easy_init();

	if (e == NULL)
		return -1;
	req->easy = e;
	req->answer_max = cfg->max_response_bytes;
	/* SOAP 1.1 (section 6.1.1): POST, text/xml, a SOAPAction header. */
	snprintf(action, sizeof(action), "SOAPAction: \"%s#%s\"", VNOC_NS, vnoc_op_name(req->op));
	if (http_header_add(req, "%s", "Content-Type: text/xml; charset=utf-8") < 0 ||
	    http_header_add(req, "%s", action) < 0 ||
	    http_header_add(req, "%s", "Expect:") < 0 ||
	    (cfg->insecure_http && http_header_add(req, "X-Ivgmp-Site: %s", cfg->site) < 0))
		return -1;

	CURLcode rc = CURLE_OK;

#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_URL, cfg->urls[c->url_index]);
	SET(CURLOPT_PROTOCOLS_STR, cfg->insecure_http ? "http,https" : "https");
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_POSTFIELDS, req->body);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	SET(CURLOPT_HTTPHEADER, req->headers);
	SET(CURLOPT_WRITEFUNCTION, http_answer_write);
	SET(CURLOPT_WRITEDATA, req);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->max_response_bytes);
	SET(CURLOPT_PRIVATE, req);
	SET(CURLOPT_ERRORBUFFER, req->error);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	/* Trust the VNOC's CA alone, not the system's store: that is the
	 * security, and loading the store (/etc/ssl/certs, Debian's default
	 * CA path) would cost ~25 ms of this poll at every connection. */
	if (cfg->ca_file[0]) {
		SET(CURLOPT_CAINFO, cfg->ca_file);
		SET(CURLOPT_CAPATH, NULL);
	}
	if (cfg->cert_file[0])
		SET(CURLOPT_SSLCERT, cfg->cert_file);
	if (cfg->key_file[0])
		SET(CURLOPT_SSLKEY, cfg->key_file);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
#undef SET
	if (rc != CURLE_OK)
		return -1;
	if (curl_multi_add_handle(c->multi, e) != CURLM_OK)
		return -1;
	req->next = c->in_flight;
	c->in_flight = req;
	c->n_in_flight++;
	return 0;
}

static void
http_unlink(struct vnoc_client *c, struct vnoc_client_request *req)
{
	for (struct vnoc_client_request **p = &c->in_flight; *p != NULL; p = &(*p)->next) {
		if (*p == req) {
			*p = req->next;
			req->next = NULL;
			c->n_in_flight--;
			return;
		}
	}
}

struct vnoc_client_request *
vnoc_client_http_perform(struct vnoc_client *c)
{
	struct vnoc_client_request *done = NULL, **tail = &done;
	struct CURLMsg *m;
	int running, left;

	if (c->n_in_flight == 0)
		return NULL;
	curl_multi_perform(c->multi, &running);
	while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
		struct vnoc_client_request *req = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&req);
		req->result = m->data.result;
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &req->http_status);
		/* m is invalid once its handle leaves the multi handle. */
		curl_multi_remove_handle(c->multi, req->easy);
		http_unlink(c, req);
		*tail = req;
		tail = &req->next;
	}
	return done;
}

void
vnoc_client_http_abort_all(struct vnoc_client *c)
{
	while (c->in_flight != NULL) {
		struct vnoc_client_request *req = c->in_flight;

		c->in_flight = req->next;
		curl_multi_remove_handle(c->multi, req->easy);
		vnoc_client_request_free(req);
	}
	c->n_in_flight = 0;
}
