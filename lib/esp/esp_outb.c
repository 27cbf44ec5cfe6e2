/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "esp_gcm.h"

void
esp_outb_trailer_write(uint8_t *inner, uint32_t inner_len)
{
	uint32_t payload_len = esp_outb_payload_len(inner_len);
	uint8_t pad_len = (uint8_t)(payload_len - inner_len - ESP_TRAILER_LEN);
	uint8_t *p = inner + inner_len;

	/* RFC 4303 2.4: padding bytes are 1, 2, 3, ... so the receiver can check them. */
	for (uint8_t i = 1; i <= pad_len; i++)
		*p++ = i;
	*p++ = pad_len;
	*p = ESP_NEXT_HEADER_IPV4;
}

static inline bool
unlikely_expired(const struct esp_sa *sa)
{
	return __builtin_expect(__atomic_load_n(&sa->expired, __ATOMIC_RELAXED), 0);
}

uint64_t
esp_outb_soft_packets(const struct esp_sa *sa, uint64_t configured)
{
	uint64_t hard = sa->esn ? UINT64_MAX : UINT32_MAX;
	uint64_t soft;

	if (sa->lifetime_packets && sa->lifetime_packets < hard)
		hard = sa->lifetime_packets;
	soft = hard / 4 * 3 + (hard % 4) * 3 / 4;
	return configured && configured < soft ? configured : soft;
}

bool
esp_outb_rekey_due(const struct esp_sa *sa, uint64_t soft_packets)
{
	uint64_t seq = __atomic_load_n(&sa->seq_out, __ATOMIC_RELAXED);
	uint64_t bytes = __atomic_load_n(&sa->bytes_out, __ATOMIC_RELAXED);

	return seq >= soft_packets ||
	       (sa->lifetime_bytes && bytes >= sa->lifetime_bytes / 4 * 3);
}

uint64_t
esp_outb_seq_reserve(struct esp_sa *sa, uint32_t n, const uint32_t *inner_len,
		     uint32_t *granted)
{
	uint64_t bytes = 0, first, used_bytes, limit = UINT64_MAX;
	uint32_t ok;

	for (uint32_t i = 0; i < n; i++)
		bytes += inner_len[i];
	/* Relaxed: a number must be handed out once, not in any order with
	 * other memory; the counters are read only for statistics. */
	first = __atomic_fetch_add(&sa->seq_out, n, __ATOMIC_RELAXED) + 1;
	used_bytes = __atomic_fetch_add(&sa->bytes_out, bytes, __ATOMIC_RELAXED);

	/* Without ESN the counter must not cycle (RFC 4303 3.3.3): the SA is
	 * spent and a new one must take over. With ESN, 2^64 is out of reach. */
	if (!sa->esn)
		limit = UINT32_MAX;
	if (sa->lifetime_packets && sa->lifetime_packets < limit)
		limit = sa->lifetime_packets;
	/* Past its time lifetime: nothing more, and no other SA in its place. */
	if (unlikely_expired(sa))
		limit = 0;
	if (first > limit)
		ok = 0;
	else
		ok = limit - first + 1 < n ? (uint32_t)(limit - first + 1) : n;
	if (sa->lifetime_bytes) {
		/* Bytes reserved by others before ours count first. */
		uint32_t k = 0;

		while (k < ok && used_bytes + inner_len[k] <= sa->lifetime_bytes)
			used_bytes += inner_len[k++];
		ok = k;
	}
	if (ok < n)
		__atomic_fetch_add(&sa->stats.expired_drops, n - ok, __ATOMIC_RELAXED);
	*granted = ok;
	return ok ? first : 0;
}

/* SPI, the low half of seq and the IV at esp. */
static inline void
outb_header_write(const struct esp_sa *sa, uint64_t seq, uint8_t *esp)
{
	uint32_t spi_be = __builtin_bswap32(sa->spi);
	uint32_t seq_lo_be = __builtin_bswap32((uint32_t)seq);
	/* The IV only has to be unique per key (RFC 4106 3.1): the 64-bit
	 * sequence number is, and costs no random bytes. */
	uint64_t iv_be = __builtin_bswap64(seq);

	memcpy(esp, &spi_be, 4);
	memcpy(esp + 4, &seq_lo_be, 4);
	memcpy(esp + ESP_HDR_LEN, &iv_be, ESP_IV_LEN);
}

/* One copy, encrypted at once; see esp_gcm.h for why not through jobs. */
void
esp_outb_encrypt(IMB_MGR *mgr, const struct esp_sa *sa, uint64_t seq,
		 const uint8_t *payload, uint32_t payload_len, uint8_t *esp)
{
	uint8_t *ciphertext = esp + ESP_HDR_LEN + ESP_IV_LEN;
	struct esp_gcm_params gcm;

	outb_header_write(sa, seq, esp);
	esp_gcm_nonce_aad(sa, seq, esp, &gcm);
	esp_gcm_seal(mgr, sa, gcm.nonce, gcm.aad, gcm.aad_len, payload, ciphertext, payload_len,
		     ciphertext + payload_len);
}

/* The control plane's and the tests' way: one packet, its own number. */
uint32_t
esp_encrypt(IMB_MGR *mgr, struct esp_sa *sa, uint8_t *inner, uint32_t inner_len,
	    uint8_t *esp)
{
	uint32_t payload_len = esp_outb_payload_len(inner_len);
	uint32_t granted;
	uint64_t seq = esp_outb_seq_reserve(sa, 1, &inner_len, &granted);

	if (granted == 0)
		return 0;
	esp_outb_trailer_write(inner, inner_len);
	esp_outb_encrypt(mgr, sa, seq, inner, payload_len, esp);
	return ESP_HDR_LEN + ESP_IV_LEN + payload_len + ESP_ICV_LEN;
}
