/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_ESP_GCM_H
#define IVGMP_ESP_GCM_H

/* The AES-GCM job both directions submit (RFC 4106). Private to lib/esp. */

#include <string.h>

#include "esp.h"

/* Nonce = salt || the 8-byte IV; AAD = SPI || seq (RFC 4106 5), with the
 * high half of the sequence number in between under ESN. SPI and IV are read
 * from the ESP header at esp: what the receiver authenticates is what came. */
static inline void
esp_gcm_nonce_aad(const struct esp_sa *sa, uint64_t seq, const uint8_t *esp,
		  struct esp_job_scratch *scratch)
{
	uint32_t seq_lo_be = __builtin_bswap32((uint32_t)seq);
	uint32_t seq_hi_be = __builtin_bswap32((uint32_t)(seq >> 32));

	memcpy(scratch->nonce, sa->salt, ESP_SALT_LEN);
	memcpy(scratch->nonce + ESP_SALT_LEN, esp + ESP_HDR_LEN, ESP_IV_LEN);
	memcpy(scratch->aad, esp, 4);
	if (sa->esn) {
		memcpy(scratch->aad + 4, &seq_hi_be, 4);
		memcpy(scratch->aad + 8, &seq_lo_be, 4);
	} else {
		memcpy(scratch->aad + 4, &seq_lo_be, 4);
	}
	scratch->seq = seq;
}

/* The job's fields for len bytes from src to dst; nonce and AAD from scratch. */
static inline void
esp_gcm_job_set(IMB_JOB *job, const struct esp_sa *sa, const uint8_t *src, uint8_t *dst,
		uint32_t len, uint8_t *icv, IMB_CIPHER_DIRECTION direction,
		const struct esp_job_scratch *scratch)
{
	job->cipher_mode = IMB_CIPHER_GCM;
	job->hash_alg = IMB_AUTH_AES_GMAC;
	job->cipher_direction = direction;
	/* GCM authenticates the ciphertext: hash after encrypting, before decrypting. */
	job->chain_order = direction == IMB_DIR_ENCRYPT ? IMB_ORDER_CIPHER_HASH
							: IMB_ORDER_HASH_CIPHER;
	job->enc_keys = &sa->key;
	job->dec_keys = &sa->key;
	job->key_len_in_bytes = esp_aead_key_len(sa->aead);
	job->src = src;
	job->dst = dst;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = len;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = len;
	job->iv = scratch->nonce;
	job->iv_len_in_bytes = 12;
	job->u.GCM.aad = scratch->aad;
	job->u.GCM.aad_len_in_bytes = sa->esn ? 12 : 8;
	job->auth_tag_output = icv;
	job->auth_tag_output_len_in_bytes = ESP_ICV_LEN;
}

static inline void
esp_gcm_job_fill(IMB_JOB *job, const struct esp_sa *sa, uint64_t seq, const uint8_t *esp,
		 const uint8_t *src, uint8_t *dst, uint32_t len, uint8_t *icv,
		 IMB_CIPHER_DIRECTION direction, struct esp_job_scratch *scratch)
{
	esp_gcm_nonce_aad(sa, seq, esp, scratch);
	esp_gcm_job_set(job, sa, src, dst, len, icv, direction, scratch);
}

#endif
