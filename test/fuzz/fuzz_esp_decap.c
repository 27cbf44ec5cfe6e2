/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: ESP inbound with a real SA (AES-GCM, fixed key), the way a
 * worker runs it: outer Ethernet and IPv4 headers parsed by lib/pkt, then
 * esp_decrypt on each packet (window, lifetime, GCM, ICV, trailer), which
 * keeps the anti-replay window.
 *
 * Packets are either raw bytes after a valid outer header, or sealed by a
 * sender SA with the same key at a sequence number the input picks and then
 * maybe tampered with (a bit flipped, cut, lengthened, renumbered). What
 * must hold, checked against a model of the RFC 4303 3.4.3 window kept here:
 *   - a packet is accepted only if its ICV is right, checked again here
 *     on the bytes as they came (ipsec-mb's GCM with the AAD built here),
 *     and only once per number, and never left of the window;
 *   - without ESN, an untampered sealed packet is accepted exactly when the
 *     model says its number is new and inside the window, and gives back
 *     the inner packet that was sealed.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "esp/esp.h"
#include "pkt/pkt.h"

#define FUZZ_SPI       0x1234u
#define FUZZ_SEEN_MAX  512
#define FUZZ_ESP_MAX   600             /* raw: up to 511; sealed: 255 + overhead + 32 */
#define FUZZ_OUTER_LEN (PKT_ETHER_HDR_LEN + PKT_IPV4_MIN_HDR_LEN)
#define FUZZ_FRAME_MAX (FUZZ_OUTER_LEN + FUZZ_ESP_MAX + 64)

static IMB_MGR *mgr;

/* One packet and what it was made from. */
struct fuzz_packet {
	uint8_t frame[FUZZ_FRAME_MAX];
	uint8_t original[FUZZ_ESP_MAX + 64];    /* the ESP bytes as they came */
	uint8_t inner[256];                     /* what was sealed */
	uint32_t inner_len;
	uint32_t esp_len;
	bool sealed_intact;                     /* sealed and not tampered with */
	uint64_t seq;                           /* sealed at */
	uint64_t inferred;                      /* what the model makes of it */
};

/* The model: every number accepted so far and the highest of them. */
struct fuzz_model {
	uint64_t top;
	uint32_t window;
	uint64_t lifetime_packets;              /* 0: none */
	uint64_t n_accepted;
	uint32_t n_seen;
	uint64_t seen[FUZZ_SEEN_MAX];
};

static bool
fuzz_model_seen(const struct fuzz_model *m, uint64_t seq)
{
	for (uint32_t i = 0; i < m->n_seen; i++)
		if (m->seen[i] == seq)
			return true;
	return false;
}

/* RFC 4303 3.4.3: new, and not left of the window. */
static bool
fuzz_model_acceptable(const struct fuzz_model *m, uint64_t seq)
{
	if (seq == 0 || fuzz_model_seen(m, seq))
		return false;
	return seq > m->top || m->top - seq < m->window;
}

/* RFC 4303 Appendix A2.2, said another way: the number a receiver takes a
 * low half for is the one of that low half that lies in the 2^32 numbers
 * starting at the window's bottom (at 0 while the window is not full). */
static uint64_t
fuzz_model_infer(const struct fuzz_model *m, bool esn, uint32_t seq_low)
{
	uint64_t bottom = m->top + 1 >= m->window ? m->top + 1 - m->window : 0;

	if (!esn)
		return seq_low;
	return bottom + (uint32_t)(seq_low - (uint32_t)bottom);
}

/* RFC 4301 4.4.2.1: a hard lifetime ends the SA, whatever is in flight. */
static bool
fuzz_model_alive(const struct fuzz_model *m)
{
	return m->lifetime_packets == 0 || m->n_accepted < m->lifetime_packets;
}

static void
fuzz_model_accept(struct fuzz_model *m, uint64_t seq)
{
	m->n_accepted++;
	if (m->n_seen < FUZZ_SEEN_MAX)
		m->seen[m->n_seen++] = seq;
	if (seq > m->top)
		m->top = seq;
}

/* The ICV of the packet as it came, computed apart from esp_decrypt. */
static bool
fuzz_icv_authentic(const struct esp_sa *sa, const struct fuzz_packet *p, uint64_t seq)
{
	struct gcm_context_data ctx;
	uint32_t ct_len = p->esp_len - ESP_HDR_LEN - ESP_IV_LEN - ESP_ICV_LEN;
	uint8_t iv[12], aad[12], tag[ESP_ICV_LEN];
	uint8_t *plain = malloc(ct_len ? ct_len : 1);
	uint32_t hi = __builtin_bswap32((uint32_t)(seq >> 32));
	uint32_t lo = __builtin_bswap32((uint32_t)seq);
	bool ok;

	if (plain == NULL)
		abort();
	memcpy(iv, sa->salt, ESP_SALT_LEN);
	memcpy(iv + ESP_SALT_LEN, p->original + ESP_HDR_LEN, ESP_IV_LEN);
	memcpy(aad, p->original, 4);
	if (sa->esn) {
		memcpy(aad + 4, &hi, 4);
		memcpy(aad + 8, &lo, 4);
	} else {
		memcpy(aad + 4, &lo, 4);
	}
	IMB_AES128_GCM_DEC(mgr, &sa->key, &ctx, plain, p->original + ESP_HDR_LEN + ESP_IV_LEN,
			   ct_len, iv, aad, sa->esn ? 12 : 8, tag, ESP_ICV_LEN);
	ok = memcmp(tag, p->original + ESP_HDR_LEN + ESP_IV_LEN + ct_len, ESP_ICV_LEN) == 0;
	free(plain);
	return ok;
}

/* Seal input bytes at a number the input picks, then maybe tamper. */
static void
fuzz_seal(struct fuzz_input *in, struct esp_sa *tx, const struct fuzz_model *m,
	  struct fuzz_packet *p, uint8_t *esp)
{
	uint8_t sel = fuzz_byte(in), mut = fuzz_byte(in);
	uint8_t buf[256 + 4];
	uint64_t seq;
	int16_t delta = (int16_t)(fuzz_byte(in) << 8 | fuzz_byte(in));

	/* Near the top of the window (where the bugs live), or anywhere. */
	if (sel & 1) {
		seq = m->top + (uint64_t)(int64_t)delta;
	} else {
		seq = (uint64_t)fuzz_byte(in) << 24 | (uint64_t)fuzz_byte(in) << 16 |
		      (uint64_t)(uint16_t)delta;
		if (tx->esn && (sel & 2))
			seq |= ((m->top >> 32) + ((sel >> 2) & 1)) << 32;
	}
	if (!tx->esn)
		seq &= 0xffffffffu;
	if (seq == 0)
		seq = 1;
	p->inner_len = fuzz_byte(in);
	for (uint32_t i = 0; i < p->inner_len; i++)
		buf[i] = fuzz_byte(in);
	memcpy(p->inner, buf, p->inner_len);
	p->seq = seq;
	tx->seq_out = seq - 1;
	p->esp_len = esp_encrypt(mgr, tx, buf, p->inner_len, esp);
	if (p->esp_len == 0)
		abort();
	p->sealed_intact = true;
	switch (mut & 7) {
	case 1: {       /* one bit anywhere */
		uint32_t at = (uint32_t)(fuzz_byte(in) << 8 | fuzz_byte(in)) % p->esp_len;
		uint8_t bit = (uint8_t)(1u << (mut >> 5));

		esp[at] ^= bit;
		p->sealed_intact = false;
		break;
	}
	case 2:         /* cut */
		p->esp_len -= 1 + (mut >> 3) % p->esp_len;
		p->sealed_intact = false;
		break;
	case 3:         /* lengthened */
		for (unsigned int i = 0; i < 1u + (mut >> 3); i++)
			esp[p->esp_len++] = fuzz_byte(in);
		p->sealed_intact = false;
		break;
	case 4:         /* renumbered: the header says another number */
		esp[4 + (mut >> 6)] ^= (uint8_t)(1 + ((mut >> 3) & 7));
		p->sealed_intact = false;
		break;
	}
}

/* Raw bytes as the ESP packet. */
static void
fuzz_raw(struct fuzz_input *in, struct fuzz_packet *p, uint8_t *esp)
{
	uint32_t len = fuzz_byte(in);

	len = len << 1 | (fuzz_byte(in) & 1);
	if (len > in->left)
		len = (uint32_t)in->left;
	memcpy(esp, in->p, len);
	in->p += len;
	in->left -= len;
	p->esp_len = len;
	p->sealed_intact = false;
	p->seq = 0;
}

/* Ethernet and IPv4 (protocol 50) around the ESP packet, as a peer sends. */
static void
fuzz_outer_write(struct fuzz_packet *p)
{
	uint8_t *ip = p->frame + PKT_ETHER_HDR_LEN;
	uint16_t total = (uint16_t)(PKT_IPV4_MIN_HDR_LEN + p->esp_len), csum;

	memset(p->frame, 0, FUZZ_OUTER_LEN);
	p->frame[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(total >> 8);
	ip[3] = (uint8_t)total;
	ip[8] = 64;
	ip[9] = PKT_IPPROTO_ESP;
	memcpy(ip + 12, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8);
	csum = pkt_ipv4_checksum(ip, PKT_IPV4_MIN_HDR_LEN);
	ip[10] = (uint8_t)(csum >> 8);
	ip[11] = (uint8_t)csum;
}

/* What esp_decrypt must say of an intact sealed packet: the window and the
 * lifetime are checked first; then the AAD holds the number the window
 * took the packet for, so the ICV fails unless that is the sealed one. */
static enum esp_inb_verdict
fuzz_model_verdict(const struct fuzz_model *m, const struct fuzz_packet *p)
{
	if (!fuzz_model_acceptable(m, p->inferred))
		return ESP_INB_REPLAY;
	if (!fuzz_model_alive(m))
		return ESP_INB_EXPIRED;
	return p->inferred == p->seq ? ESP_INB_OK : ESP_INB_ICV_FAIL;
}

/* esp_decrypt and the checks against the model. */
static void
fuzz_decrypt(struct esp_sa *sa, struct fuzz_model *m, struct fuzz_packet *p)
{
	uint8_t *esp = p->frame + FUZZ_OUTER_LEN;
	enum esp_inb_verdict want = p->sealed_intact ? fuzz_model_verdict(m, p) : ESP_INB_OK;
	enum esp_inb_verdict v;
	uint32_t seq_lo_be, inner_len = 0;
	uint64_t seq;

	/* The number the window takes the packet for, before it moves. */
	memcpy(&seq_lo_be, p->original + 4, 4);
	esp_replay_check(&sa->replay, __builtin_bswap32(seq_lo_be), sa->esn, &seq);
	v = esp_decrypt(mgr, sa, esp, p->esp_len, &inner_len);
	if (esp_inb_verdict_name(v) == NULL)
		abort();
	if (p->sealed_intact && (v != want || seq != p->inferred))
		abort();
	if (v == ESP_INB_OK) {
		if (!fuzz_icv_authentic(sa, p, seq) || !fuzz_model_acceptable(m, seq) ||
		    !fuzz_model_alive(m) ||
		    inner_len > p->esp_len - ESP_HDR_LEN - ESP_IV_LEN - ESP_ICV_LEN - ESP_TRAILER_LEN)
			abort();
		if (p->sealed_intact && (inner_len != p->inner_len ||
		    memcmp(esp + ESP_HDR_LEN + ESP_IV_LEN, p->inner, inner_len) != 0))
			abort();
		fuzz_model_accept(m, seq);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t windows[] = { 64, 128, 1024, ESP_REPLAY_WINDOW_MAX };
	struct fuzz_input in = { .p = data, .left = size };
	uint8_t conf = fuzz_byte(&in);
	struct esp_sa_params params = {
		.spi = FUZZ_SPI,
		.aead = ESP_AES_GCM_128,
		.key = "0123456789abcdef",
		.salt = { 0xca, 0xfe, 0xba, 0xbe },
		.esn = conf & 1,
		.replay_window = windows[(conf >> 1) & 3],
	};
	struct fuzz_packet *p;
	struct fuzz_model *model;
	struct esp_sa *rx, *tx;

	if (mgr == NULL) {
		IMB_ARCH arch;

		mgr = alloc_mb_mgr(0);
		if (mgr == NULL)
			abort();
		init_mb_mgr_auto(mgr, &arch);
	}
	rx = aligned_alloc(64, sizeof(*rx));
	tx = aligned_alloc(64, sizeof(*tx));
	p = calloc(1, sizeof(*p));
	model = calloc(1, sizeof(*model));
	if (rx == NULL || tx == NULL || p == NULL || model == NULL)
		abort();
	/* The sender: no lifetime, it seals whatever the input asks. */
	if (esp_sa_init(tx, &params, mgr) != 0)
		abort();
	/* A short packet lifetime, to meet its end within one input. */
	if (conf & 0x20)
		params.lifetime_packets = 1 + 2 * ((conf >> 6) & 3);
	if (esp_sa_init(rx, &params, mgr) != 0)
		abort();
	model->window = params.replay_window;
	model->lifetime_packets = params.lifetime_packets;
	/* Start the window somewhere: at 0, or high up (ESN: near a wrap). */
	if (conf & 0x10) {
		uint64_t top = (conf & 1) ? 0xfffffff0ull : 0x7ffffff0ull;

		rx->replay.top = top;
		model->top = top;
	}

	while (in.left > 0) {
		uint8_t op = fuzz_byte(&in);
		uint8_t *esp = p->frame + FUZZ_OUTER_LEN;
		struct pkt_ipv4_info info;

		if (op & 1)
			fuzz_raw(&in, p, esp);
		else
			fuzz_seal(&in, tx, model, p, esp);
		memcpy(p->original, esp, p->esp_len);
		fuzz_outer_write(p);
		if (pkt_ipv4_parse(p->frame, FUZZ_OUTER_LEN + p->esp_len, &info) != PKT_OK ||
		    info.proto != PKT_IPPROTO_ESP)
			abort();
		p->inferred = fuzz_model_infer(model, rx->esn, (uint32_t)p->seq);
		fuzz_decrypt(rx, model, p);
	}
	free(model);
	free(p);
	free(tx);
	free(rx);
	return 0;
}
