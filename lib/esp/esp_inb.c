/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "esp.h"

#define ESP_INB_MIN_LEN (ESP_HDR_LEN + ESP_IV_LEN + ESP_TRAILER_LEN + ESP_ICV_LEN)

enum esp_inb_verdict
esp_inb_job_fill(IMB_JOB *job, struct esp_sa *sa, uint8_t *esp,
		 uint32_t esp_len, struct esp_job_scratch *scratch)
{
	uint32_t spi_be, seq_lo_be, seq_hi_be;
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

	memcpy(&spi_be, esp, 4);
	seq_hi_be = __builtin_bswap32((uint32_t)(seq >> 32));
	memcpy(scratch->nonce, sa->salt, ESP_SALT_LEN);
	memcpy(scratch->nonce + ESP_SALT_LEN, esp + ESP_HDR_LEN, ESP_IV_LEN);
	memcpy(scratch->aad, &spi_be, 4);
	if (sa->esn) {
		memcpy(scratch->aad + 4, &seq_hi_be, 4);
		memcpy(scratch->aad + 8, &seq_lo_be, 4);
	} else {
		memcpy(scratch->aad + 4, &seq_lo_be, 4);
	}
	scratch->seq = seq;

	job->cipher_mode = IMB_CIPHER_GCM;
	job->hash_alg = IMB_AUTH_AES_GMAC;
	job->cipher_direction = IMB_DIR_DECRYPT;
	job->chain_order = IMB_ORDER_HASH_CIPHER;
	job->enc_keys = &sa->key;
	job->dec_keys = &sa->key;
	job->key_len_in_bytes = esp_aead_key_len(sa->aead);
	job->src = esp + ESP_HDR_LEN + ESP_IV_LEN;
	job->dst = esp + ESP_HDR_LEN + ESP_IV_LEN;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = ct_len;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = ct_len;
	job->iv = scratch->nonce;
	job->iv_len_in_bytes = 12;
	job->u.GCM.aad = scratch->aad;
	job->u.GCM.aad_len_in_bytes = sa->esn ? 12 : 8;
	job->auth_tag_output = scratch->icv;
	job->auth_tag_output_len_in_bytes = ESP_ICV_LEN;
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
