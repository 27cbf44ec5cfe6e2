/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_ESP_H
#define IVGMP_ESP_H

/*
 * esp: IPsec ESP in tunnel mode with AES-GCM (RFC 4303, RFC 4106), on
 * libIPSec_MB.
 *
 * Owns the security association (keys, sequence numbers, anti-replay window,
 * lifetime), the ESP wire format (header, IV, padding, trailer, ICV) and
 * the AES-GCM calls, one per packet through ipsec-mb's direct GCM API. The
 * caller owns the buffers and the ipsec-mb manager (one per worker).
 * Encryption may be out of place: the plaintext is read from the original
 * packet and the ciphertext lands in the copy's own buffer.
 */

#include <stdbool.h>
#include <stdint.h>

#include <intel-ipsec-mb.h>

#define ESP_HDR_LEN          8   /* SPI + low 32 bits of the sequence number */
#define ESP_IV_LEN           8   /* RFC 4106 explicit IV */
#define ESP_ICV_LEN          16
#define ESP_SALT_LEN         4
#define ESP_TRAILER_LEN      2   /* pad length + next header */
#define ESP_NEXT_HEADER_IPV4 4
/* Bytes ESP adds around an inner packet at most (GCM pads to 4 bytes). */
#define ESP_OVERHEAD_MAX     (ESP_HDR_LEN + ESP_IV_LEN + 3 + ESP_TRAILER_LEN + ESP_ICV_LEN)

#define ESP_REPLAY_WINDOW_DEFAULT 1024
#define ESP_REPLAY_WINDOW_MAX     4096

enum esp_aead {
	ESP_AES_GCM_128,
	ESP_AES_GCM_256,
};

struct esp_sa_params {
	uint32_t spi;
	enum esp_aead aead;
	uint8_t key[32];              /* 16 or 32 bytes used */
	uint8_t salt[ESP_SALT_LEN];   /* the last 4 bytes of the RFC 4106 keying material */
	bool esn;                     /* 64-bit extended sequence numbers */
	uint32_t replay_window;       /* inbound, in packets; 0 = default */
	uint64_t lifetime_packets;    /* hard limit, 0 = none */
	uint64_t lifetime_bytes;      /* hard limit on inner bytes, 0 = none */
};

/* RFC 4303 section 3.4.3 window, kept as an RFC 6479 ring of 64-bit words
 * twice the window's size, so that sliding never shifts the bitmap. */
struct esp_replay {
	uint64_t top;                 /* highest authenticated sequence number */
	uint32_t window;              /* power of two, 64..ESP_REPLAY_WINDOW_MAX */
	uint32_t word_mask;
	uint64_t bitmap[2 * ESP_REPLAY_WINDOW_MAX / 64];
};

struct esp_sa_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t icv_failures;
	uint64_t replay_drops;
	uint64_t expired_drops;
};

struct esp_sa {
	/* Expanded key and GHASH tables; the SIMD code wants them aligned. */
	struct gcm_key_data key __attribute__((aligned(64)));
	uint32_t spi;                 /* host byte order */
	enum esp_aead aead;
	uint8_t salt[ESP_SALT_LEN];
	bool esn;
	uint64_t lifetime_packets;
	uint64_t lifetime_bytes;
	/* Outbound: the last sequence number handed out; shared by workers. */
	uint64_t seq_out;
	uint64_t bytes_out;
	/* Outbound: set once (esp_outb_expire) by the management lcore when
	 * the SA's time lifetime is over; the workers send nothing more on it. */
	bool expired;
	/* Inbound: written by its owner only (esp_inb_owner_claim), so the
	 * window and the statistics need no atomics. */
	uint32_t inb_owner;           /* 0, or 1 + the worker that owns it */
	struct esp_replay replay;
	struct esp_sa_stats stats;
};

enum esp_inb_verdict {
	ESP_INB_OK = 0,
	ESP_INB_TRUNCATED,            /* shorter than header + IV + trailer + ICV */
	ESP_INB_REPLAY,               /* duplicate or left of the window */
	ESP_INB_ICV_FAIL,
	ESP_INB_BAD_TRAILER,          /* pad length too long, padding bytes wrong */
	ESP_INB_NOT_IPV4,             /* next header is not 4 (IPv4 in tunnel mode) */
	ESP_INB_EXPIRED,              /* SA lifetime used up */
};

/* Key expansion and initial state. Returns 0, or -1 for bad parameters. */
int esp_sa_init(struct esp_sa *sa, const struct esp_sa_params *params, IMB_MGR *mgr);

/* "aes-gcm-128" / "aes-gcm-256". */
const char *esp_aead_name(enum esp_aead aead);
int esp_aead_from_name(const char *name, enum esp_aead *aead);
unsigned int esp_aead_key_len(enum esp_aead aead);

/* --- outbound (esp_outb.c) --- */

/* Length of what gets encrypted for an inner packet: inner, padding, trailer. */
static inline uint32_t
esp_outb_payload_len(uint32_t inner_len)
{
	return (inner_len + ESP_TRAILER_LEN + 3) & ~3u;
}

/* Write padding (1, 2, 3, ...), pad length and next header right after the
 * inner packet. The trailer is the same for every copy of a packet, so it is
 * written once into the original and read by every copy's encryption. */
void esp_outb_trailer_write(uint8_t *inner, uint32_t inner_len);

/*
 * Reserve n consecutive sequence numbers for n packets of inner_len[0..n-1]
 * inner bytes, with one atomic add on the SA's number and one on its bytes:
 * several workers may send on one SA, and each gets numbers no other does.
 * *granted is how many of the first packets may be sent, a prefix of 0..n;
 * the others would pass 2^32 - 1 without ESN (a rekey must come first, never
 * a wrap) or a lifetime, or the SA expired (esp_outb_expire): they are
 * counted in expired_drops and their numbers are never used. Returns the first number, or 0 when none is granted.
 */
uint64_t esp_outb_seq_reserve(struct esp_sa *sa, uint32_t n, const uint32_t *inner_len,
			      uint32_t *granted);

/* The SA's time lifetime is over: esp_outb_seq_reserve grants nothing from
 * now on (the refused packets are counted in expired_drops). Called by the
 * management lcore; the workers see it at their next reservation, one
 * relaxed load per burst and SA. */
static inline void
esp_outb_expire(struct esp_sa *sa)
{
	__atomic_store_n(&sa->expired, true, __ATOMIC_RELAXED);
}

/*
 * Soft limit (RFC 4301 4.4.2.1: a soft lifetime warns that the hard one is
 * near, so that a new SA is in place before it): the packets after which an
 * outbound SA is due for replacement. 3/4 of the hard limit (2^32 - 1
 * without ESN, 2^64 - 1 with, or lifetime_packets when lower); configured,
 * when not 0 and lower than that, replaces it.
 */
uint64_t esp_outb_soft_packets(const struct esp_sa *sa, uint64_t configured);

/* Has the SA passed its soft limit: soft_packets sequence numbers handed
 * out, or 3/4 of lifetime_bytes? For the management lcore: reads the
 * workers' counters atomically, writes nothing. */
bool esp_outb_rekey_due(const struct esp_sa *sa, uint64_t soft_packets);

/* Packets an outbound SA has carried: every number handed out was either
 * sent or refused and counted in expired_drops. */
static inline uint64_t
esp_outb_packets(const struct esp_sa *sa)
{
	return __atomic_load_n(&sa->seq_out, __ATOMIC_RELAXED) -
	       __atomic_load_n(&sa->stats.expired_drops, __ATOMIC_RELAXED);
}

/* Write the ESP header and IV at esp and encrypt payload_len bytes of payload
 * (trailer included: esp_outb_payload_len) into esp + ESP_HDR_LEN + ESP_IV_LEN,
 * ICV after it; payload may be that very place (in place). Total ESP length:
 * ESP_HDR_LEN + ESP_IV_LEN + payload_len + ESP_ICV_LEN. What a worker does for
 * each copy, with a number from esp_outb_seq_reserve. */
void esp_outb_encrypt(IMB_MGR *mgr, const struct esp_sa *sa, uint64_t seq,
		      const uint8_t *payload, uint32_t payload_len, uint8_t *esp);

/* --- inbound (esp_inb.c) --- */

/*
 * One writer per inbound SA. The window, the ICV and lifetime counters of an
 * inbound SA are plain memory: the first worker that claims the SA owns it
 * for the SA's life, and a packet of that SA received by another worker is
 * dropped (the caller counts it). With RSS on the outer addresses (or the
 * kernel's fanout hash for af_packet) one peer's ESP lands on one queue, so
 * the other worker never gets any; if it does (a NIC's RSS table changed,
 * af_packet rolled a packet over to another socket under load), dropping it
 * costs one packet, where two writers would corrupt the window: accept a
 * replay, or drop good packets for good. Compared with a lock-free window
 * (compare-and-swap on its words and top), this keeps every inbound field
 * single-writer, the statistics included, at the price of one load that
 * stays in the SA's cache line. worker is the caller's index + 1 (never 0).
 * Returns true when the caller may go on with the packet.
 */
static inline bool
esp_inb_owner_claim(struct esp_sa *sa, uint32_t worker)
{
	uint32_t owner = __atomic_load_n(&sa->inb_owner, __ATOMIC_RELAXED);

	if (__builtin_expect(owner == worker, 1))
		return true;
	if (owner != 0)
		return false;
	/* Acquire: the SA was made by the management lcore before the snapshot
	 * naming it was published, so nothing else needs ordering here. */
	return __atomic_compare_exchange_n(&sa->inb_owner, &owner, worker, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED) ||
	       owner == worker;
}

/*
 * Check length, the replay window and the lifetime (before paying for the
 * decryption), decrypt in place, verify the ICV (constant time), move the
 * window, check the trailer: what a worker does with each packet. On
 * ESP_INB_OK the inner packet is at esp + ESP_HDR_LEN + ESP_IV_LEN,
 * *inner_len bytes long.
 */
enum esp_inb_verdict esp_decrypt(IMB_MGR *mgr, struct esp_sa *sa, uint8_t *esp,
				 uint32_t esp_len, uint32_t *inner_len);

const char *esp_inb_verdict_name(enum esp_inb_verdict v);

/* SPI of an ESP packet, host order. */
static inline uint32_t
esp_spi(const uint8_t *esp)
{
	return (uint32_t)esp[0] << 24 | (uint32_t)esp[1] << 16 |
	       (uint32_t)esp[2] << 8 | esp[3];
}

/* --- one packet, its own number (esp_outb.c): control plane and tests --- */

/* Encrypt inner (inner_len bytes, with room for the trailer after it) into
 * esp. Returns the ESP length, or 0 when the SA may not send. */
uint32_t esp_encrypt(IMB_MGR *mgr, struct esp_sa *sa, uint8_t *inner,
		     uint32_t inner_len, uint8_t *esp);

/* --- anti-replay (esp_replay.c) --- */

void esp_replay_init(struct esp_replay *replay, uint32_t window);

/* RFC 4303 Appendix A: rebuild the 64-bit number from its low half (ESN),
 * and say whether it may be new: not 0, not left of the window, not seen. */
bool esp_replay_check(const struct esp_replay *replay, uint32_t seq_low,
		      bool esn, uint64_t *seq);

/* Mark seq as received; only after its ICV checked out. Returns false when
 * it was seen meanwhile (two packets with one number in the same burst). */
bool esp_replay_update(struct esp_replay *replay, uint64_t seq);

#endif
