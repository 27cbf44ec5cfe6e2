/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pairwise SAs (design.md 4, `pairwise`): one SA per (sender site, receiver
 * site) that share a group where the first sends and the second receives.
 * Keys, salts and SPIs come from getrandom(2); an SPI is unique among the
 * receiver's inbound SAs (the receiver finds the SA by SPI alone).
 *
 * Life of an SA, in seconds from its creation (lifetime L):
 *   0        created: in the receiver's view (inbound) only
 *   ~0       the receiver holds it: its next WatchUpdates asks for views
 *            newer than the one with the SA, so the SA is installed; it
 *            becomes the sender's (outbound). Make before break: no copy
 *            can reach the receiver before its key. A receiver that does
 *            not ask in time (down, slow) is not waited for: the pair's
 *            first SA is the sender's at the latest VNOCD_INSTALL_GRACE_S after
 *            its creation, a replacement at 0.9 L.
 *   0.8 L    replaced: a new SA (new SPI, key, salt) enters the receiver's
 *            view; the old one is superseded; the replacement becomes the
 *            sender's as above
 *   L        the old SA expires and leaves the receiver's view
 * The sender may ask for the 0.8 L step earlier, when the SA passed its
 * soft limit on sequence numbers (vnocd_keys_rekey_asked).
 * Each step bumps the version of the views it changes.
 *
 * A site that starts afresh is the exception: its new SAs are the
 * sender's at once (vnocd_keys_renew_outbound).
 *
 * The pair needs the SA no more (LeaveVpn, a policy reload, liveness): the
 * SA is deleted and leaves both views in one step. Break before unmake is
 * the receiver's edge device's: it keeps an inbound SA that left its view
 * a few seconds, decrypting only (app/ivgmpd/ivgmpd_vnoc_view.c), so that
 * what the sender sent before it applied its own view still decrypts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <arpa/inet.h>

#include "vnocd.h"

#define KEYS_SPI_TRIES 64
/* A pair's first SA waits at most this long for its receiver to hold it. */

int
vnocd_keys_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Keying material for a new SA: an SPI no receiver of it can confuse with
 * another (to: unique among to's inbound SAs and every group SA; NULL, for
 * a group SA that many sites receive: unique among all SAs), a random key
 * of the configured AEAD and a random salt.
 */
int
vnocd_keys_draw(struct vnocd *d, const char *to, uint32_t *spi, uint8_t *key,
		unsigned int *key_len, uint8_t salt[4])
{
	struct vnocd_store *st = &d->store;
	sqlite3_stmt *s;
	int rc;

	*key_len = d->cfg.sa_aead == VNOCD_AEAD_AES_GCM_256 ? 32 : 16;
	for (int i = 0; ; i++) {
		if (i == KEYS_SPI_TRIES) {
			vnocd_log("keys: no free SPI for %s after %d draws", to ? to : "a group", i);
			return -1;
		}
		if (vnocd_keys_random(spi, sizeof(*spi)) < 0)
			return -1;
		if (*spi < VNOCD_SPI_MIN)
			continue;
		s = vnocd_store_stmt(st, to ? VNOCD_SQL_SA_SPI_TAKEN : VNOCD_SQL_SPI_TAKEN_ANYWHERE);
		if (to)
			sqlite3_bind_text(s, 1, to, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, *spi);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW)
			return -1;
	}
	if (vnocd_keys_random(key, *key_len) < 0 || vnocd_keys_random(salt, 4) < 0)
		return -1;
	return 0;
}

/* The timer sleeps until the next SA event it knows of. */
void
vnocd_keys_timer_note(struct vnocd *d, int64_t now, int64_t activate_at, int64_t rekey_at)
{
	int64_t next = activate_at > now && activate_at < rekey_at ? activate_at : rekey_at;

	if (next < d->keys_next_s) {
		d->keys_next_s = next;
		vnocd_timer_kick(d, 0);
	}
}

int
vnocd_keys_insert(struct vnocd *d, const char *from, const char *to, uint32_t group,
		  int64_t now, int64_t activate_at)
{
	struct vnocd_store *st = &d->store;
	int64_t life = d->cfg.sa_lifetime_s;
	uint8_t key[32], salt[4];
	unsigned int key_len;
	uint32_t spi = 0;
	sqlite3_stmt *s;
	int rc;

	if (vnocd_keys_draw(d, to, &spi, key, &key_len, salt) < 0)
		return -1;
	s = vnocd_store_stmt(st, to ? VNOCD_SQL_SA_INSERT : VNOCD_SQL_GSA_INSERT);
	sqlite3_bind_text(s, 1, from, -1, SQLITE_STATIC);
	if (to)
		sqlite3_bind_text(s, 2, to, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(s, 2, ntohl(group));
	sqlite3_bind_int64(s, 3, spi);
	sqlite3_bind_int(s, 4, d->cfg.sa_aead);
	sqlite3_bind_blob(s, 5, key, (int)key_len, SQLITE_TRANSIENT);
	sqlite3_bind_blob(s, 6, salt, sizeof(salt), SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 7, d->cfg.sa_esn);
	sqlite3_bind_int64(s, 8, now);
	sqlite3_bind_int64(s, 9, activate_at);
	sqlite3_bind_int(s, 10, activate_at <= now);
	sqlite3_bind_int64(s, 11, now + life * 8 / 10);
	sqlite3_bind_int64(s, 12, now + life);
	rc = vnocd_store_exec(st, s);
	if (rc == 0)
		vnocd_keys_timer_note(d, now, activate_at, now + life * 8 / 10);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(salt, sizeof(salt));
	return rc;
}

/* A new SA from -> to. activate_at <= now makes it the sender's at once. */
static int
keys_sa_insert(struct vnocd *d, const char *from, const char *to, int64_t now,
	       int64_t activate_at)
{
	return vnocd_keys_insert(d, from, to, 0, now, activate_at);
}

int
vnocd_keys_sa_ensure(struct vnocd *d, const char *from, const char *to, int64_t now)
{
	sqlite3_stmt *s = vnocd_store_stmt(&d->store, VNOCD_SQL_SA_CURRENT_EXISTS);
	int rc;

	sqlite3_bind_text(s, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, to, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return -1;
	return keys_sa_insert(d, from, to, now, now + VNOCD_INSTALL_GRACE_S);
}

int
vnocd_sa_rows(struct vnocd *d, enum vnocd_sql id, int64_t number, const char *text,
	      struct vnocd_sa_row **rows, size_t *n)
{
	sqlite3_stmt *s = vnocd_store_stmt(&d->store, id);
	size_t cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	if (text != NULL)
		sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(s, 1, number);
	if (text != NULL && sqlite3_bind_parameter_count(s) >= 2)
		sqlite3_bind_int64(s, 2, number);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct vnocd_sa_row *r;
		int cols = sqlite3_column_count(s);

		if (*n == cap) {
			size_t c = cap ? cap * 2 : 16;
			struct vnocd_sa_row *p = realloc(*rows, c * sizeof(*p));

			if (p == NULL) {
				sqlite3_reset(s);
				return -1;
			}
			*rows = p;
			cap = c;
		}
		r = &(*rows)[(*n)++];
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(s, 0);
		snprintf(r->from, sizeof(r->from), "%s", (const char *)sqlite3_column_text(s, 1));
		if (cols > 2 && sqlite3_column_type(s, 2) == SQLITE_INTEGER)
			r->group = htonl((uint32_t)sqlite3_column_int64(s, 2));
		else if (cols > 2)
			snprintf(r->to, sizeof(r->to), "%s", (const char *)sqlite3_column_text(s, 2));
		if (cols > 3)
			r->expires = sqlite3_column_int64(s, 3);
		if (cols > 4)
			r->superseded = sqlite3_column_int(s, 4) != 0;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
keys_by_id(struct vnocd *d, enum vnocd_sql id, int64_t row)
{
	sqlite3_stmt *s = vnocd_store_stmt(&d->store, id);

	sqlite3_bind_int64(s, 1, row);
	return vnocd_store_exec(&d->store, s);
}

/* A replacement is the sender's at the latest this long after it was
 * issued (0.9 L - 0.8 L), at least a second. */
int64_t
vnocd_keys_rekey_grace(const struct vnocd *d)
{
	return d->cfg.sa_lifetime_s / 10 > 0 ? d->cfg.sa_lifetime_s / 10 : 1;
}

/* The SAs of rows become their senders' (frees rows). */
static int
keys_activate(struct vnocd *d, struct vnocd_sa_row *rows, size_t n,
	      struct vnocd_siteset *changed)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++)
		if (keys_by_id(d, VNOCD_SQL_SA_ACTIVATE, rows[i].id) < 0 ||
		    vnocd_siteset_add(changed, rows[i].from) < 0)
			rc = -1;
	free(rows);
	return rc;
}

/* Make before break: r is superseded by a new SA that enters the
 * receiver's view now and becomes the sender's once the receiver holds it,
 * or at activate_at at the latest. */
static int
keys_replace(struct vnocd *d, const struct vnocd_sa_row *r, int64_t now, int64_t activate_at,
	     struct vnocd_siteset *changed, const char *why)
{
	if (keys_by_id(d, VNOCD_SQL_SA_SUPERSEDE, r->id) < 0 ||
	    keys_sa_insert(d, r->from, r->to, now, activate_at) < 0 ||
	    vnocd_siteset_add(changed, r->to) < 0 ||
	    (activate_at <= now && vnocd_siteset_add(changed, r->from) < 0))
		return -1;
	vnocd_log("rekey %s -> %s: %s: new SA, the sender's in %llds at the latest", r->from,
		  r->to, why, (long long)(activate_at - now));
	return 0;
}

int
vnocd_keys_run(struct vnocd *d, int64_t now, struct vnocd_siteset *changed)
{
	int64_t grace = vnocd_keys_rekey_grace(d);
	struct vnocd_sa_row *rows;
	size_t n;

	/* Replace at 80 % of life. */
	if (vnocd_sa_rows(d, VNOCD_SQL_SA_REKEY_DUE, now, NULL, &rows, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct vnocd_sa_row *r = &rows[i];
		int64_t activate_at = now + grace < r->expires ? now + grace : r->expires;

		if (keys_replace(d, r, now, activate_at, changed, "0.8 of its lifetime") < 0) {
			free(rows);
			return -1;
		}
	}
	free(rows);

	/* Replacements become the sender's. */
	if (vnocd_sa_rows(d, VNOCD_SQL_SA_ACTIVATE_DUE, now, NULL, &rows, &n) < 0)
		return -1;
	if (keys_activate(d, rows, n, changed) < 0)
		return -1;

	/* Expired SAs leave the views. */
	if (vnocd_sa_rows(d, VNOCD_SQL_SA_EXPIRED, now, NULL, &rows, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (keys_by_id(d, VNOCD_SQL_SA_DELETE, rows[i].id) < 0 ||
		    vnocd_siteset_add(changed, rows[i].to) < 0 ||
		    (!rows[i].superseded && vnocd_siteset_add(changed, rows[i].from) < 0)) {
			free(rows);
			return -1;
		}
	}
	free(rows);
	return vnocd_group_keys_run(d, now, changed);
}

/*
 * A site that starts afresh has lost its ESP sequence numbers: sending
 * again from 1 on a key it used before would repeat AES-GCM IVs (RFC 4106
 * section 3: the IV must never repeat under a key). So each of its current
 * outbound SAs is superseded and replaced by a new one that is the
 * sender's at once; the old ones stay in the receivers' views until they
 * expire, which costs nothing since nobody sends on them any more. The
 * receivers install the new SAs from their next view (WatchUpdates answers
 * within a round trip), so a restarted sender may lose its first packets,
 * never its keys' secrecy.
 */
int
vnocd_keys_renew_outbound(struct vnocd *d, const char *site, int64_t now,
			  struct vnocd_siteset *changed)
{
	struct vnocd_sa_row *rows;
	size_t n;

	if (vnocd_sa_rows(d, VNOCD_SQL_SA_CURRENT_FROM, now, site, &rows, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct vnocd_sa_row *r = &rows[i];

		if (keys_by_id(d, VNOCD_SQL_SA_SUPERSEDE, r->id) < 0 ||
		    keys_sa_insert(d, r->from, r->to, now, now) < 0 ||
		    vnocd_siteset_add(changed, r->to) < 0 ||
		    vnocd_siteset_add(changed, r->from) < 0) {
			free(rows);
			return -1;
		}
		vnocd_log("rekey %s -> %s: the sender started afresh", r->from, r->to);
	}
	free(rows);
	return vnocd_group_keys_renew_outbound(d, site, now, changed);
}

/*
 * The receiver's WatchUpdates asks for views newer than the one it holds,
 * and that one has every SA to it: the SAs waiting for it become their
 * senders'.
 */
int
vnocd_keys_receiver_holds(struct vnocd *d, const char *site, struct vnocd_siteset *changed)
{
	struct vnocd_sa_row *rows;
	size_t n;

	if (vnocd_sa_rows(d, VNOCD_SQL_SA_PENDING_TO, 0, site, &rows, &n) < 0)
		return -1;
	return keys_activate(d, rows, n, changed);
}

bool
vnocd_keys_pending_to(struct vnocd *d, const char *site)
{
	struct vnocd_sa_row *rows;
	size_t n;
	bool any;

	if (vnocd_sa_rows(d, VNOCD_SQL_SA_PENDING_TO, 0, site, &rows, &n) < 0)
		return false;
	any = n > 0;
	free(rows);
	return any;
}

int64_t
vnocd_keys_next_event(struct vnocd *d)
{
	sqlite3_stmt *s = vnocd_store_stmt(&d->store, VNOCD_SQL_SA_NEXT_EVENT);
	int64_t t = INT64_MAX;

	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		t = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return t;
}

/*
 * A site's Heartbeat asks for its outbound SA spi to be replaced now: the
 * SA passed its soft limit (sequence numbers or bytes) on the site's side.
 * Only the site's own SAs in its view (sender = site, activated) are looked
 * at, so a site cannot make the VNOC replace another site's SAs; spi may
 * name several of its pairwise SAs (an SPI is unique per receiver, not per
 * sender): each is replaced. The replacement is the 0.8 L step's (new SPI,
 * key and salt; the receivers get it first, the sender once the receiver
 * holds it), except that it is the sender's VNOCD_INSTALL_GRACE_S after at
 * the latest, not 0.1 L: the old SA is running out of sequence numbers. An
 * SA already superseded is not replaced again: repeats (the site asks in
 * every Heartbeat until its view has the new SA) change nothing.
 */
int
vnocd_keys_rekey_asked(struct vnocd *d, const char *site, uint32_t spi, int64_t now,
		       struct vnocd_siteset *changed)
{
	struct vnocd_sa_row *rows;
	size_t n, replaced = 0;
	int rc = 0;

	if (vnocd_sa_rows(d, VNOCD_SQL_SA_OF_SENDER_SPI, spi, site, &rows, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct vnocd_sa_row *r = &rows[i];
		int64_t activate_at = now + VNOCD_INSTALL_GRACE_S;

		if (r->superseded)
			continue;
		if (activate_at > r->expires)
			activate_at = r->expires;
		rc = keys_replace(d, r, now, activate_at, changed, "the sender asked (soft limit)");
		replaced++;
	}
	free(rows);
	if (rc < 0)
		return -1;
	if (replaced > 0)
		return VNOCD_REKEY_HONOURED;
	if (n > 0)
		return VNOCD_REKEY_ALREADY;
	return vnocd_group_keys_rekey_asked(d, site, spi, now, changed);
}
