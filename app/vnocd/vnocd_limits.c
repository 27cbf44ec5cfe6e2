/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What vnocd refuses to a client that asks too much (doc/security.rst):
 * the per-site request rate, a token bucket per authenticated site id, and
 * the counters of every limit hit. A hit is logged at once the first time,
 * then at most one line per kind every VNOCD_LIMIT_LOG_MS, so that a flood
 * cannot flood the log as well; SIGUSR1 and the stop log the totals.
 *
 * The sites are those the site CA certified, so the table of buckets is as
 * large as the number of certificates in use and no larger.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnocd.h"

#define LIMITS_BUCKETS 1024
#define VNOCD_LIMIT_LOG_MS 10000

/* One site's token bucket. */
struct limits_bucket {
	struct limits_bucket *next;
	char site[VNOC_SITE_ID_MAX];
	double tokens;
	uint64_t refilled_ms;
};

struct vnocd_limits {
	pthread_mutex_t lock;
	double rate;                    /* tokens per second; 0: no rate limit */
	double burst;
	struct limits_bucket *bucket[LIMITS_BUCKETS];
	uint64_t hits[VNOCD_LIMIT_MAX];
	uint64_t unlogged[VNOCD_LIMIT_MAX];     /* hits since the last line */
	uint64_t logged_ms[VNOCD_LIMIT_MAX];
	bool ever_logged[VNOCD_LIMIT_MAX];
};

static const char *const limits_name[VNOCD_LIMIT_MAX] = {
	[VNOCD_LIMIT_SITE_RATE] = "site-rate",
	[VNOCD_LIMIT_CONNECTIONS] = "connections",
	[VNOCD_LIMIT_HEADERS] = "headers",
	[VNOCD_LIMIT_BODY] = "body",
	[VNOCD_LIMIT_SLOW] = "slow",
};

struct vnocd_limits *
vnocd_limits_create(unsigned int rate, unsigned int burst)
{
	struct vnocd_limits *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	pthread_mutex_init(&l->lock, NULL);
	l->rate = rate;
	l->burst = burst;
	return l;
}

void
vnocd_limits_free(struct vnocd_limits *l)
{
	if (l == NULL)
		return;
	for (unsigned int i = 0; i < LIMITS_BUCKETS; i++) {
		while (l->bucket[i] != NULL) {
			struct limits_bucket *b = l->bucket[i];

			l->bucket[i] = b->next;
			free(b);
		}
	}
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static struct limits_bucket *
limits_bucket_get(struct vnocd_limits *l, const char *site, uint64_t now_ms)
{
	uint32_t h = 2166136261u;      /* FNV-1a */
	struct limits_bucket *b;

	for (const unsigned char *p = (const unsigned char *)site; *p; p++)
		h = (h ^ *p) * 16777619u;
	h %= LIMITS_BUCKETS;
	for (b = l->bucket[h]; b != NULL; b = b->next)
		if (strcmp(b->site, site) == 0)
			return b;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	snprintf(b->site, sizeof(b->site), "%s", site);
	b->tokens = l->burst;           /* a site starts with a full burst */
	b->refilled_ms = now_ms;
	b->next = l->bucket[h];
	l->bucket[h] = b;
	return b;
}

unsigned int
vnocd_limits_site_take(struct vnocd_limits *l, const char *site)
{
	uint64_t now_ms;
	struct limits_bucket *b;
	unsigned int wait_s = 0;

	if (l->rate == 0)
		return 0;
	pthread_mutex_lock(&l->lock);
	/* The clock is read under the lock: read before it, a thread could
	 * come in with a time older than the refilled_ms another thread has
	 * just set, and the unsigned difference would wrap to a huge refill
	 * (a whole burst given again). */
	now_ms = vnocd_now_ms();
	b = limits_bucket_get(l, site, now_ms);
	if (b != NULL) {
		if (now_ms > b->refilled_ms) {
			b->tokens += (double)(now_ms - b->refilled_ms) * l->rate / 1000.0;
			if (b->tokens > l->burst)
				b->tokens = l->burst;
			b->refilled_ms = now_ms;
		}
		if (b->tokens >= 1.0)
			b->tokens -= 1.0;
		else
			wait_s = (unsigned int)ceil((1.0 - b->tokens) / l->rate);
	}
	pthread_mutex_unlock(&l->lock);
	/* Out of memory for a new bucket: serve rather than refuse a site
	 * the CA vouches for. */
	return wait_s;
}

void
vnocd_limits_hit(struct vnocd_limits *l, enum vnocd_limit kind, uint64_t n, const char *fmt, ...)
{
	uint64_t now_ms, total = 0, since = 0;
	bool log_now = false;
	char what[256];
	va_list ap;

	pthread_mutex_lock(&l->lock);
	now_ms = vnocd_now_ms();        /* under the lock: see vnocd_limits_site_take */
	l->hits[kind] += n;
	l->unlogged[kind] += n;
	if (!l->ever_logged[kind] || now_ms - l->logged_ms[kind] >= VNOCD_LIMIT_LOG_MS) {
		log_now = true;
		l->ever_logged[kind] = true;
		l->logged_ms[kind] = now_ms;
		total = l->hits[kind];
		since = l->unlogged[kind];
		l->unlogged[kind] = 0;
	}
	pthread_mutex_unlock(&l->lock);
	if (!log_now)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	vnocd_log("limit %s: %s (%llu since the last line, %llu in all)", limits_name[kind], what,
		  (unsigned long long)since, (unsigned long long)total);
}

void
vnocd_limits_log(struct vnocd_limits *l)
{
	uint64_t h[VNOCD_LIMIT_MAX];

	pthread_mutex_lock(&l->lock);
	memcpy(h, l->hits, sizeof(h));
	pthread_mutex_unlock(&l->lock);
	vnocd_log("limits hit: site-rate %llu, connections %llu, headers %llu, body %llu, "
		  "slow %llu", (unsigned long long)h[VNOCD_LIMIT_SITE_RATE],
		  (unsigned long long)h[VNOCD_LIMIT_CONNECTIONS],
		  (unsigned long long)h[VNOCD_LIMIT_HEADERS],
		  (unsigned long long)h[VNOCD_LIMIT_BODY], (unsigned long long)h[VNOCD_LIMIT_SLOW]);
}
