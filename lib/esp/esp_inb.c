/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "esp_gcm.h"

#define ESP_INB_MIN_LEN (ESP_HDR_LEN + ESP_IV_LEN + ESP_TRAILER_LEN + ESP_ICV_LEN)

enum esp_inb_verdict
esp_inb_job_fill(IMB_JOB *job, struct esp_sa *sa, uint8_t *esp,
		 uint32_t esp_len, struct esp_job_scratch *scratch)
{
	uint32_t seq_lo_be;
	uint32_t ct_len;
	uint64_t seq;

	if (esp_len < ESP_INB_MIN_LEN)
		return ESP_INB_TRUNCATED;
	ct_len = esp_len - ESP_HDR_LEN - ESP_IV_LEN - ESP_ICV_LEN;
	/* GCM ciphertext is 4-byte aligned by the sender's padding (RFC 4303 2.4). */
	if (ct_len & 3)
		return ESP_INB_TRUNCATED;
	memcpy(&seq_lo_be, esp + 4, 4);
	/* Cheap check before paying for the decryption (RFC 4303 3.4.3). */
	if (!esp_replay_check(&sa->replay, __builtin_bswap32(seq_lo_be), sa->esn, &seq)) {
		sa->stats.replay_drops++;
		return ESP_INB_REPLAY;
	}
	if (sa->lifetime_packets && sa->stats.packets >= sa->lifetime_packets) {
		sa->stats.expired_drops++;
		return ESP_INB_EXPIRED;
	}

	esp_gcm_job_fill(job, sa, seq, esp, esp + ESP_HDR_LEN + ESP_IV_LEN,
			 esp + ESP_HDR_LEN + ESP_IV_LEN, ct_len, scratch->icv, IMB_DIR_DECRYPT,
			 scratch);
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
