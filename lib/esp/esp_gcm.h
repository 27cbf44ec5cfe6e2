/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_ESP_GCM_H
#define IVGMP_ESP_GCM_H

/*
 * AES-GCM for ESP (RFC 4106) through ipsec-mb's direct GCM functions, both
 * directions. Private to lib/esp (and its unit test, which feeds the GCM
 * specification's own AAD through esp_gcm_seal / esp_gcm_open).
 *
 * Why not the job manager: a GCM job has no multi-buffer lanes in
 * ipsec-mb, it completes at its submission anyway, so the manager only
 * added its bookkeeping (12 % of a 64-byte decap in doc/performance.rst).
 */

#include <string.h>

#include "esp.h"

/* What one packet's GCM call needs besides the key. */
struct esp_gcm_params {
	uint8_t nonce[12];            /* salt || IV */
	uint8_t aad[12];              /* SPI || [seq high] || seq low */
	uint32_t aad_len;             /* 8, or 12 under ESN */
	uint8_t icv[ESP_ICV_LEN];     /* inbound: the ICV computed by ipsec-mb */
	uint64_t seq;
};

/* Nonce = salt || the 8-byte IV; AAD = SPI || seq (RFC 4106 5), with the
 * high half of the sequence number in between under ESN. SPI and IV are read
 * from the ESP header at esp: what the receiver authenticates is what came. */
static inline void
esp_gcm_nonce_aad(const struct esp_sa *sa, uint64_t seq, const uint8_t *esp,
		  struct esp_gcm_params *gcm)
{
	uint32_t seq_lo_be = __builtin_bswap32((uint32_t)seq);
	uint32_t seq_hi_be = __builtin_bswap32((uint32_t)(seq >> 32));

	memcpy(gcm->nonce, sa->salt, ESP_SALT_LEN);
	memcpy(gcm->nonce + ESP_SALT_LEN, esp + ESP_HDR_LEN, ESP_IV_LEN);
	memcpy(gcm->aad, esp, 4);
	if (sa->esn) {
		memcpy(gcm->aad + 4, &seq_hi_be, 4);
		memcpy(gcm->aad + 8, &seq_lo_be, 4);
		gcm->aad_len = 12;
	} else {
		memcpy(gcm->aad + 4, &seq_lo_be, 4);
		gcm->aad_len = 8;
	}
	gcm->seq = seq;
}

/* Encrypt len bytes from src to dst (may be src) and write the ICV at icv. */
static inline void
esp_gcm_seal(IMB_MGR *mgr, const struct esp_sa *sa, const uint8_t *nonce, const uint8_t *aad,
	     uint32_t aad_len, const uint8_t *src, uint8_t *dst, uint32_t len, uint8_t *icv)
{
	struct gcm_context_data ctx;

	if (sa->aead == ESP_AES_GCM_128)
		IMB_AES128_GCM_ENC(mgr, &sa->key, &ctx, dst, src, len, nonce, aad, aad_len,
				   icv, ESP_ICV_LEN);
	else
		IMB_AES256_GCM_ENC(mgr, &sa->key, &ctx, dst, src, len, nonce, aad, aad_len,
				   icv, ESP_ICV_LEN);
}

/* Decrypt len bytes from src to dst (may be src); the ICV GCM computes over
 * them lands at icv, for the caller to compare with the packet's. */
static inline void
esp_gcm_open(IMB_MGR *mgr, const struct esp_sa *sa, const uint8_t *nonce, const uint8_t *aad,
	     uint32_t aad_len, const uint8_t *src, uint8_t *dst, uint32_t len, uint8_t *icv)
{
	struct gcm_context_data ctx;

	if (sa->aead == ESP_AES_GCM_128)
		IMB_AES128_GCM_DEC(mgr, &sa->key, &ctx, dst, src, len, nonce, aad, aad_len,
				   icv, ESP_ICV_LEN);
	else
		IMB_AES256_GCM_DEC(mgr, &sa->key, &ctx, dst, src, len, nonce, aad, aad_len,
				   icv, ESP_ICV_LEN);
}

#endif
