/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The limits of the VNOC's outbound SAs, watched from the management lcore
 * so that the workers pay nothing for them beyond esp_outb_seq_reserve's
 * one load of the SA's expired flag per burst:
 *
 *   soft limit   (esp_outb_soft_packets: 3/4 of the hard one, or
 *                sa-rekey-packets) passed: ask the VNOC to replace the SA
 *                now, in a Heartbeat sent at once and in every Heartbeat
 *                while the SA is still the one in use. The VNOC replaces it
 *                make-before-break; the hard limit (2^32 - 1 without ESN)
 *                still refuses numbers if the replacement is late: a
 *                sequence number never wraps, a (key, IV) is never reused.
 *   time lifetime over, on this device's clock: the SA sends nothing more
 *                (esp_outb_expire; its packets are counted in its
 *                expired_drops), whether or not the VNOC answered.
 */
#include <inttypes.h>

#include "ivgmpd.h"

/* 100 years: longer is as good as none, and keeps milliseconds in range. */
#define IVGMPD_SA_LIFETIME_MAX_S (100ull * 365 * 86400)

/*
 * The VNOC's lifetime_s is what is left of the SA's life when it built the
 * view: expires - now in whole seconds (vnocd_view.c), up to a second more
 * than is really left since vnocd's now is truncated; that second is taken
 * off here. The clock here starts when the view is applied, so the SA may
 * still stop later than the VNOC reckons, by the view's time in transit
 * (its encoding, transfer and decoding: milliseconds on a sound link; the
 * protocol carries no issue time to subtract it). Each view that lists the
 * SA again gives a new reading; the earliest deadline wins.
 */
void
ivgmpd_vnoc_sa_lifetime_start(struct ivgmpd_vnoc_sa *s, const struct ivgmpd_vnoc_sa *old,
			      uint64_t lifetime_s, uint64_t now_ms)
{
	uint64_t expires;

	if (lifetime_s > IVGMPD_SA_LIFETIME_MAX_S)
		lifetime_s = IVGMPD_SA_LIFETIME_MAX_S;   /* no overflow below */
	expires = lifetime_s ? now_ms + lifetime_s * 1000 - 1000 : 0;

	s->expires_ms = expires;
	if (old != NULL) {
		s->rekey_asked = old->rekey_asked;
		s->lifetime_expired = old->lifetime_expired;
		if (old->expires_ms && (expires == 0 || old->expires_ms < expires))
			s->expires_ms = old->expires_ms;
	}
}

/* Is sa the one a peer or a group is sent with? A replaced SA stays in the
 * view (the receiver still decrypts with it) but is no longer asked about. */
static bool
sa_in_use(const struct ivgmpd_vnoc_state *vs, const struct esp_sa *sa)
{
	for (uint16_t i = 0; i < vs->n_peers; i++)
		if (vs->peers[i].sa_out == sa)
			return true;
	for (uint32_t i = 0; i < vs->n_groups; i++)
		if (vs->groups[i].sa_out == sa)
			return true;
	return false;
}

void
ivgmpd_vnoc_sa_check(struct ivgmpd *d, uint64_t now_ms)
{
	bool ask = false;

	for (uint32_t i = 0; i < d->vnoc.n_sas; i++) {
		struct ivgmpd_vnoc_sa *s = &d->vnoc.sas[i];

		if (s->inbound)
			continue;
		if (!s->lifetime_expired && s->expires_ms && now_ms >= s->expires_ms) {
			/* esp_outb_seq_reserve reads the flag once per burst. */
			esp_outb_expire(s->sa);
			s->lifetime_expired = true;
			d->sa_lifetime_expiries++;
			if (sa_in_use(&d->vnoc, s->sa))
				ivgmpd_event("SA 0x%08x to %s: time lifetime over and no "
					     "replacement; it sends nothing more (seq %" PRIu64 ")",
					     s->sa->spi, s->peer,
					     __atomic_load_n(&s->sa->seq_out, __ATOMIC_RELAXED));
		}
		if (!s->rekey_asked &&
		    esp_outb_rekey_due(s->sa, esp_outb_soft_packets(s->sa,
								    d->conf->sa_rekey_packets))) {
			s->rekey_asked = true;
			d->sa_soft_limit_hits++;
			ask = true;
			ivgmpd_event("SA 0x%08x to %s: soft limit passed (seq %" PRIu64
				     "); asking the VNOC for a new one", s->sa->spi, s->peer,
				     __atomic_load_n(&s->sa->seq_out, __ATOMIC_RELAXED));
		}
	}
	if (ask && d->vnoc_client != NULL)
		vnoc_client_heartbeat_soon(d->vnoc_client);
}

uint8_t
ivgmpd_vnoc_sa_rekey_list(const struct ivgmpd *d, uint32_t *spi, uint8_t max)
{
	uint8_t n = 0;

	for (uint32_t i = 0; i < d->vnoc.n_sas && n < max; i++) {
		const struct ivgmpd_vnoc_sa *s = &d->vnoc.sas[i];

		if (!s->inbound && s->rekey_asked && sa_in_use(&d->vnoc, s->sa))
			spi[n++] = s->sa->spi;
	}
	return n;
}
