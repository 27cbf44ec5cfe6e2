/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>
#include <strings.h>

#include "esp.h"

static const char *const aead_names[] = {
	[ESP_AES_GCM_128] = "aes-gcm-128",
	[ESP_AES_GCM_256] = "aes-gcm-256",
};

const char *
esp_aead_name(enum esp_aead aead)
{
	return aead <= ESP_AES_GCM_256 ? aead_names[aead] : "unknown";
}

int
esp_aead_from_name(const char *name, enum esp_aead *aead)
{
	for (unsigned int i = 0; i < sizeof(aead_names) / sizeof(aead_names[0]); i++) {
		if (strcasecmp(name, aead_names[i]) == 0) {
			*aead = (enum esp_aead)i;
			return 0;
		}
	}
	return -1;
}

unsigned int
esp_aead_key_len(enum esp_aead aead)
{
	return aead == ESP_AES_GCM_256 ? 32 : 16;
}

int
esp_sa_init(struct esp_sa *sa, const struct esp_sa_params *params, IMB_MGR *mgr)
{
	uint32_t window = params->replay_window ? params->replay_window
						: ESP_REPLAY_WINDOW_DEFAULT;

	if (params->aead != ESP_AES_GCM_128 && params->aead != ESP_AES_GCM_256)
		return -1;
	/* SPIs 1-255 are reserved by IANA, 0 is never sent (RFC 4303 2.1). */
	if (params->spi < 256)
		return -1;
	if (window < 64 || window > ESP_REPLAY_WINDOW_MAX || (window & (window - 1)))
		return -1;

	memset(sa, 0, sizeof(*sa));
	sa->spi = params->spi;
	sa->aead = params->aead;
	memcpy(sa->salt, params->salt, ESP_SALT_LEN);
	sa->esn = params->esn;
	sa->lifetime_packets = params->lifetime_packets;
	sa->lifetime_bytes = params->lifetime_bytes;
	if (params->aead == ESP_AES_GCM_128)
		IMB_AES128_GCM_PRE(mgr, params->key, &sa->key);
	else
		IMB_AES256_GCM_PRE(mgr, params->key, &sa->key);
	esp_replay_init(&sa->replay, window);
	return 0;
}
