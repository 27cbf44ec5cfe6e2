/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "esp_gcm.h"

#define ESP_INB_MIN_LEN (ESP_HDR_LEN + ESP_IV_LEN + ESP_TRAILER_LEN + ESP_ICV_LEN)

/* Length, the replay window (cheap, before paying for the decryption:
 * RFC 4303 3.4.3) and the lifetime; then the nonce and AAD in gcm. */
static enum esp_inb_verdict
inb_prepare(struct esp_sa *sa, const uint8_t *esp, uint32_t esp_len,
	    struct esp_gcm_params *gcm, uint32_t *ct_len)
{
	uint32_t seq_lo_be;
	uint64_t seq;

	if (esp_len < ESP_INB_MIN_LEN)
		return ESP_INB_TRUNCATED;
	*ct_len = esp_len - ESP_HDR_LEN - ESP_IV_LEN - ESP_ICV_LEN;
	/* GCM ciphertext is 4-byte aligned by the sender's padding (RFC 4303 2.4). */
	if (*ct_len & 3)
		return ESP_INB_TRUNCATED;
	memcpy(&seq_lo_be, esp + 4, 4);
	if (!esp_replay_check(&sa->replay, __builtin_bswap32(seq_lo_be), sa->esn, &seq)) {
		sa->stats.replay_drops++;
		return ESP_INB_REPLAY;
	}
	if (sa->lifetime_packets && sa->stats.packets >= sa->lifetime_packets) {
		sa->stats.expired_drops++;
		return ESP_INB_EXPIRED;
	}
	esp_gcm_nonce_aad(sa, seq, esp, gcm);
	return ESP_INB_OK;
}

static bool
icv_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t diff = 0;

	/* Constant time: an attacker learns nothing from how long a forgery took. */
	for (unsigned int i = 0; i < ESP_ICV_LEN; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/* After the decryption: the ICV (constant time), the window, the trailer. */
static enum esp_inb_verdict
inb_finish(struct esp_sa *sa, const uint8_t *esp, uint32_t esp_len,
	   const struct esp_gcm_params *gcm, uint32_t *inner_len)
{
	uint32_t ct_len = esp_len - ESP_HDR_LEN - ESP_IV_LEN - ESP_ICV_LEN;
	const uint8_t *payload = esp + ESP_HDR_LEN + ESP_IV_LEN;
	uint8_t pad_len, next_header;

	if (!icv_equal(gcm->icv, payload + ct_len)) {
		sa->stats.icv_failures++;
		return ESP_INB_ICV_FAIL;
	}
	if (!esp_replay_update(&sa->replay, gcm->seq)) {
		sa->stats.replay_drops++;
		return ESP_INB_REPLAY;
	}
	pad_len = payload[ct_len - 2];
	next_header = payload[ct_len - 1];
	if ((uint32_t)pad_len + ESP_TRAILER_LEN > ct_len)
		return ESP_INB_BAD_TRAILER;
	for (uint8_t i = 0; i < pad_len; i++)
		if (payload[ct_len - ESP_TRAILER_LEN - pad_len + i] != i + 1)
			return ESP_INB_BAD_TRAILER;
	if (next_header != ESP_NEXT_HEADER_IPV4)
		return ESP_INB_NOT_IPV4;

	*inner_len = ct_len - ESP_TRAILER_LEN - pad_len;
	sa->stats.packets++;
	sa->stats.bytes += *inner_len;
	return ESP_INB_OK;
}

/* One call per packet; see esp_gcm.h for why not through jobs. */
enum esp_inb_verdict
esp_decrypt(IMB_MGR *mgr, struct esp_sa *sa, uint8_t *esp, uint32_t esp_len,
	    uint32_t *inner_len)
{
	uint8_t *payload = esp + ESP_HDR_LEN + ESP_IV_LEN;
	struct esp_gcm_params gcm;
	enum esp_inb_verdict v;
	uint32_t ct_len;

	v = inb_prepare(sa, esp, esp_len, &gcm, &ct_len);
	if (v != ESP_INB_OK)
		return v;
	esp_gcm_open(mgr, sa, gcm.nonce, gcm.aad, gcm.aad_len, payload, payload, ct_len, gcm.icv);
	return inb_finish(sa, esp, esp_len, &gcm, inner_len);
}

const char *
esp_inb_verdict_name(enum esp_inb_verdict v)
{
	switch (v) {
	case ESP_INB_OK: return "ok";
	case ESP_INB_TRUNCATED: return "esp_truncated";
	case ESP_INB_REPLAY: return "esp_replay";
	case ESP_INB_ICV_FAIL: return "esp_icv_fail";
	case ESP_INB_BAD_TRAILER: return "esp_bad_trailer";
	case ESP_INB_NOT_IPV4: return "esp_not_ipv4";
	case ESP_INB_EXPIRED: return "esp_sa_expired";
	}
	return "unknown";
}
