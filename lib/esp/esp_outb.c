/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "esp.h"

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

uint64_t
esp_outb_seq_reserve(struct esp_sa *sa, uint32_t n, uint64_t bytes)
{
	uint64_t first = __atomic_fetch_add(&sa->seq_out, n, __ATOMIC_RELAXED) + 1;
	uint64_t last = first + n - 1;
	uint64_t used_bytes = __atomic_add_fetch(&sa->bytes_out, bytes, __ATOMIC_RELAXED);

	/* Without ESN the counter must not cycle (RFC 4303 3.3.3): the SA is
	 * spent and a new one must take over. With ESN, 2^64 is out of reach. */
	if (!sa->esn && last > UINT32_MAX)
		goto refuse;
	if (sa->lifetime_packets && last > sa->lifetime_packets)
		goto refuse;
	if (sa->lifetime_bytes && used_bytes > sa->lifetime_bytes)
		goto refuse;
	return first;
refuse:
	__atomic_fetch_add(&sa->stats.expired_drops, n, __ATOMIC_RELAXED);
	return 0;
}

void
esp_outb_job_fill(IMB_JOB *job, const struct esp_sa *sa, uint64_t seq,
		  const uint8_t *payload, uint32_t payload_len, uint8_t *esp,
		  struct esp_job_scratch *scratch)
{
	uint32_t spi_be = __builtin_bswap32(sa->spi);
	uint32_t seq_lo_be = __builtin_bswap32((uint32_t)seq);
	uint32_t seq_hi_be = __builtin_bswap32((uint32_t)(seq >> 32));
	/* The IV only has to be unique per key (RFC 4106 3.1): the 64-bit
	 * sequence number is, and costs no random bytes. */
	uint64_t iv_be = __builtin_bswap64(seq);

	memcpy(esp, &spi_be, 4);
	memcpy(esp + 4, &seq_lo_be, 4);
	memcpy(esp + ESP_HDR_LEN, &iv_be, ESP_IV_LEN);

	memcpy(scratch->nonce, sa->salt, ESP_SALT_LEN);
	memcpy(scratch->nonce + ESP_SALT_LEN, &iv_be, ESP_IV_LEN);
	/* RFC 4106 5: AAD is SPI || seq, with the high half in between under ESN. */
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
	job->cipher_direction = IMB_DIR_ENCRYPT;
	job->chain_order = IMB_ORDER_CIPHER_HASH;
	job->enc_keys = &sa->key;
	job->dec_keys = &sa->key;
	job->key_len_in_bytes = esp_aead_key_len(sa->aead);
	job->src = payload;
	job->dst = esp + ESP_HDR_LEN + ESP_IV_LEN;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = payload_len;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = payload_len;
	job->iv = scratch->nonce;
	job->iv_len_in_bytes = 12;
	job->u.GCM.aad = scratch->aad;
	job->u.GCM.aad_len_in_bytes = sa->esn ? 12 : 8;
	job->auth_tag_output = esp + ESP_HDR_LEN + ESP_IV_LEN + payload_len;
	job->auth_tag_output_len_in_bytes = ESP_ICV_LEN;
}
