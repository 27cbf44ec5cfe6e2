/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Exponential backoff with jitter: the n-th delay since the last success is
 * min_ms * 2^n, capped at max_ms, then drawn uniformly within +-jitter_pct
 * of that, so that many sites cut off by one VNOC outage do not come back in
 * the same millisecond.
 */
#include "vnoc_client_private.h"

/* xorshift64* (Vigna): small, and good enough to spread retries. */
static uint64_t
backoff_random(struct vnoc_client_backoff *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * 0x2545F4914F6CDD1DULL;
}

void
vnoc_client_backoff_init(struct vnoc_client_backoff *b, uint32_t min_ms, uint32_t max_ms,
			 uint8_t jitter_pct, uint64_t seed)
{
	b->min_ms = min_ms;
	b->max_ms = max_ms < min_ms ? min_ms : max_ms;
	b->jitter_pct = jitter_pct > 100 ? 100 : jitter_pct;
	b->attempt = 0;
	/* splitmix64 step: any seed, 0 included, gives a non-zero state. */
	seed += 0x9E3779B97F4A7C15ULL;
	seed = (seed ^ (seed >> 30)) * 0xBF58476D1CE4E5B9ULL;
	seed = (seed ^ (seed >> 27)) * 0x94D049BB133111EBULL;
	seed ^= seed >> 31;
	b->rng = seed ? seed : 1;
}

uint32_t
vnoc_client_backoff_next(struct vnoc_client_backoff *b)
{
	uint64_t nominal = b->min_ms;

	for (uint32_t i = 0; i < b->attempt && nominal < b->max_ms; i++)
		nominal *= 2;
	if (nominal > b->max_ms)
		nominal = b->max_ms;
	if (nominal < b->max_ms)
		b->attempt++;

	uint64_t spread = nominal * b->jitter_pct / 100;    /* one side */
	uint64_t low = nominal - spread;
	uint64_t delay = low + backoff_random(b) % (2 * spread + 1);

	return delay > UINT32_MAX ? UINT32_MAX : (uint32_t)delay;
}

void
vnoc_client_backoff_reset(struct vnoc_client_backoff *b)
{
	b->attempt = 0;
}
