/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "esp_gcm.h"

#define ESP_INB_MIN_LEN (ESP_HDR_LEN + ESP_IV_LEN + ESP_TRAILER_LEN + ESP_ICV_LEN)

/* Length, the replay window (cheap, before paying for the decryption:
 * RFC 4303 3.4.3) and the lifetime; then the nonce and AAD in scratch. */
static enum esp_inb_verdict
inb_prepare(struct esp_sa *sa, const uint8_t *esp, uint32_t esp_len,
	    struct esp_job_scratch *scratch, uint32_t *ct_len)
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
	esp_gcm_nonce_aad(sa, seq, esp, scratch);
	return ESP_INB_OK;
}

enum esp_inb_verdict
esp_inb_job_fill(IMB_JOB *job, struct esp_sa *sa, uint8_t *esp,
		 uint32_t esp_len, struct esp_job_scratch *scratch)
{
	enum esp_inb_verdict v;
	uint32_t ct_len;

	v = inb_prepare(sa, esp, esp_len, scratch, &ct_len);
	if (v != ESP_INB_OK)
		return v;
	esp_gcm_job_set(job, sa, esp + ESP_HDR_LEN + ESP_IV_LEN, esp + ESP_HDR_LEN + ESP_IV_LEN,
			ct_len, scratch->icv, IMB_DIR_DECRYPT, scratch);
	return ESP_INB_OK;
}

/*
 * The worker's path: ipsec-mb's direct GCM functions, one call per packet.
 * GCM has no multi-buffer lanes in ipsec-mb (a submitted GCM job completes
 * at once), so the job manager only added its bookkeeping: 12 % of a
 * 64-byte decap in doc/performance.rst's profile.
 */
enum esp_inb_verdict
esp_decrypt(IMB_MGR *mgr, struct esp_sa *sa, uint8_t *esp, uint32_t esp_len,
	    uint32_t *inner_len)
{
	struct esp_job_scratch scratch;
	struct gcm_context_data ctx;
	uint8_t *payload = esp + ESP_HDR_LEN + ESP_IV_LEN;
	enum esp_inb_verdict v;
	uint32_t ct_len;

	v = inb_prepare(sa, esp, esp_len, &scratch, &ct_len);
	if (v != ESP_INB_OK)
		return v;
	if (sa->aead == ESP_AES_GCM_128)
		IMB_AES128_GCM_DEC(mgr, &sa->key, &ctx, payload, payload, ct_len, scratch.nonce,
				   scratch.aad, sa->esn ? 12 : 8, scratch.icv, ESP_ICV_LEN);
	else
		IMB_AES256_GCM_DEC(mgr, &sa->key, &ctx, payload, payload, ct_len, scratch.nonce,
				   scratch.aad, sa->esn ? 12 : 8, scratch.icv, ESP_ICV_LEN);
	return esp_inb_finish(sa, esp, esp_len, &scratch, inner_len);
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

enum esp_inb_verdict
esp_inb_finish(struct esp_sa *sa, const uint8_t *esp, uint32_t esp_len,
	       const struct esp_job_scratch *scratch, uint32_t *inner_len)
{
	uint32_t ct_len = esp_len - ESP_HDR_LEN - ESP_IV_LEN - ESP_ICV_LEN;
	const uint8_t *payload = esp + ESP_HDR_LEN + ESP_IV_LEN;
	uint8_t pad_len, next_header;

	if (!icv_equal(scratch->icv, payload + ct_len)) {
		sa->stats.icv_failures++;
		return ESP_INB_ICV_FAIL;
	}
	if (!esp_replay_update(&sa->replay, scratch->seq)) {
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
