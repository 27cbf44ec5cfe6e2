/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "esp.h"

void
esp_replay_init(struct esp_replay *replay, uint32_t window)
{
	memset(replay, 0, sizeof(*replay));
	replay->window = window;
	replay->word_mask = 2 * window / 64 - 1;
}

/* RFC 4303 Appendix A2.2: the high half is the top's, or one more when the
 * low half has wrapped past the window, or one less when the window straddles
 * a wrap and the packet sits in its older part. */
static uint64_t
esn_infer(const struct esp_replay *replay, uint32_t seq_low)
{
	uint32_t top_low = (uint32_t)replay->top;
	uint32_t top_high = (uint32_t)(replay->top >> 32);
	uint32_t bottom = top_low - replay->window + 1; /* wraps in case B */
	uint32_t seq_high;

	if (top_low >= replay->window - 1) {
		/* Case A: the window lies within one subspace. */
		seq_high = seq_low >= bottom ? top_high : top_high + 1;
	} else {
		/* Case B: the window spans two subspaces. */
		if (seq_low >= bottom)
			seq_high = top_high - 1;
		else
			seq_high = top_high;
		if (top_high == 0 && seq_low >= bottom)
			seq_high = 0; /* nothing lies below subspace 0 */
	}
	return (uint64_t)seq_high << 32 | seq_low;
}

static inline bool
bit_is_set(const struct esp_replay *replay, uint64_t seq)
{
	return replay->bitmap[(seq >> 6) & replay->word_mask] & (1ULL << (seq & 63));
}

bool
esp_replay_check(const struct esp_replay *replay, uint32_t seq_low, bool esn,
		 uint64_t *seq)
{
	uint64_t s = esn ? esn_infer(replay, seq_low) : seq_low;

	*seq = s;
	if (s == 0)
		return false;
	if (s > replay->top)
		return true;
	if (replay->top - s >= replay->window)
		return false;
	return !bit_is_set(replay, s);
}

bool
esp_replay_update(struct esp_replay *replay, uint64_t seq)
{
	if (seq > replay->top) {
		uint64_t top_word = replay->top >> 6;
		uint64_t new_word = seq >> 6;
		uint64_t words = new_word - top_word;

		/* Clear the words the window slides into: at most the whole ring. */
		if (words > replay->word_mask + 1ULL)
			words = replay->word_mask + 1ULL;
		for (uint64_t i = 1; i <= words; i++)
			replay->bitmap[(top_word + i) & replay->word_mask] = 0;
		replay->top = seq;
	} else if (replay->top - seq >= replay->window || bit_is_set(replay, seq)) {
		return false;
	}
	replay->bitmap[(seq >> 6) & replay->word_mask] |= 1ULL << (seq & 63);
	return true;
}
