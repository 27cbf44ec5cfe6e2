/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/esp: AES-GCM known answers through the ESP job path,
 * published ESP packets, round trips, the wire format, ICV failures,
 * sequence number exhaustion, lifetimes and SA parameter checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "esp/esp.h"
#include "esp/esp_gcm.h"

#define SEQ_MAX32  0xffffffffULL
#define INNER_MAX  1500
#define ESP_MAX    (INNER_MAX + ESP_OVERHEAD_MAX)

static IMB_MGR *mgr;

/* --- helpers --- */

/* Parse a hex string, spaces allowed; returns the number of bytes. */
static size_t
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	int hi = -1;

	for (; *s != '\0'; s++) {
		int v;

		if (*s == ' ')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			v = -1;
		assert_true(v >= 0);
		if (hi < 0) {
			hi = v;
		} else {
			assert_true(n < max);
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	assert_int_equal(hi, -1);
	return n;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static void
sa_setup_key(struct esp_sa *sa, enum esp_aead aead, const uint8_t *key,
	     const uint8_t *salt, uint32_t spi, bool esn)
{
	struct esp_sa_params p;

	memset(&p, 0, sizeof(p));
	p.spi = spi;
	p.aead = aead;
	memcpy(p.key, key, esp_aead_key_len(aead));
	memcpy(p.salt, salt, ESP_SALT_LEN);
	p.esn = esn;
	assert_int_equal(esp_sa_init(sa, &p, mgr), 0);
}

/* An SA with a fixed test key, so that two calls give a matching pair. */
static void
sa_setup(struct esp_sa *sa, enum esp_aead aead, bool esn)
{
	static const uint8_t key[32] = {
		0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
		0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
		0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
		0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	};
	static const uint8_t salt[ESP_SALT_LEN] = { 0xa0, 0xb1, 0xc2, 0xd3 };

	sa_setup_key(sa, aead, key, salt, 0x12345678, esn);
}

static void
fill_inner(uint8_t *inner, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		inner[i] = (uint8_t)(seed + i * 7);
	if (len > 0)
		inner[0] = 0x45;
}

/* Encrypt one inner packet of len bytes; returns the ESP length. */
static uint32_t
make_packet(struct esp_sa *tx, uint32_t len, uint8_t *esp, uint8_t *inner_out)
{
	uint8_t inner[INNER_MAX + 8];
	uint32_t esp_len;

	fill_inner(inner, len, (uint8_t)len);
	if (inner_out != NULL)
		memcpy(inner_out, inner, len);
	esp_len = esp_encrypt(mgr, tx, inner, len, esp);
	assert_int_equal(esp_len, ESP_HDR_LEN + ESP_IV_LEN +
			 esp_outb_payload_len(len) + ESP_ICV_LEN);
	return esp_len;
}

static int
group_setup(void **state)
{
	IMB_ARCH arch;

	(void)state;
	mgr = alloc_mb_mgr(0);
	if (mgr == NULL)
		return -1;
	init_mb_mgr_auto(mgr, &arch);
	if (imb_get_errno(mgr) != 0) {
		free_mb_mgr(mgr);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	free_mb_mgr(mgr);
	return 0;
}

/* --- AES-GCM known answers through the ESP job path ---
 *
 * McGrew and Viega, "The Galois/Counter Mode of Operation (GCM)", revised
 * 2005, Appendix B, test cases 3, 4 (AES-128) and 15, 16 (AES-256). Their
 * IV cafebabe facedbaddecaf888 is our nonce for salt cafebabe and sequence
 * number 0xfacedbaddecaf888 (the ESP IV is the sequence number). Their AAD
 * (none, or 20 bytes) is not an ESP AAD: the nonce is ours
 * (esp_gcm_nonce_aad), the AAD theirs, through esp_gcm_seal / esp_gcm_open.
 */

#define GCM_SPEC_KEY128 "feffe9928665731c6d6a8f9467308308"
#define GCM_SPEC_KEY256 "feffe9928665731c6d6a8f9467308308" \
			"feffe9928665731c6d6a8f9467308308"
#define GCM_SPEC_IV     "cafebabefacedbaddecaf888"
#define GCM_SPEC_SEQ    0xfacedbaddecaf888ULL
/* Test cases 3 and 15 take all 64 bytes, 4 and 16 the first 60. */
#define GCM_SPEC_P      "d9313225f88406e5a55909c5aff5269a" \
			"86a7a9531534f7da2e4c303d8a318a72" \
			"1c3c0c95956809532fcf0e2449a6b525" \
			"b16aedf5aa0de657ba637b391aafd255"
#define GCM_SPEC_A      "feedfacedeadbeeffeedfacedeadbeefabaddad2"

struct gcm_kat {
	enum esp_aead aead;
	const char *key;
	bool with_aad;          /* test cases 4 and 16 */
	uint32_t len;
	const char *c;
	const char *t;
};

/* Test case 3 */
static const struct gcm_kat gcm_tc3 = {
	ESP_AES_GCM_128, GCM_SPEC_KEY128, false, 64,
	"42831ec2217774244b7221b784d0d49c"
	"e3aa212f2c02a4e035c17e2329aca12e"
	"21d514b25466931c7d8f6a5aac84aa05"
	"1ba30b396a0aac973d58e091473f5985",
	"4d5c2af327cd64a62cf35abd2ba6fab4",
};

/* Test case 4 */
static const struct gcm_kat gcm_tc4 = {
	ESP_AES_GCM_128, GCM_SPEC_KEY128, true, 60,
	"42831ec2217774244b7221b784d0d49c"
	"e3aa212f2c02a4e035c17e2329aca12e"
	"21d514b25466931c7d8f6a5aac84aa05"
	"1ba30b396a0aac973d58e091",
	"5bc94fbc3221a5db94fae95ae7121a47",
};

/* Test case 15 */
static const struct gcm_kat gcm_tc15 = {
	ESP_AES_GCM_256, GCM_SPEC_KEY256, false, 64,
	"522dc1f099567d07f47f37a32a84427d"
	"643a8cdcbfe5c0c97598a2bd2555d1aa"
	"8cb08e48590dbb3da7b08b1056828838"
	"c5f61e6393ba7a0abcc9f662898015ad",
	"b094dac5d93471bdec1a502270e3cc6c",
};

/* Test case 16 */
static const struct gcm_kat gcm_tc16 = {
	ESP_AES_GCM_256, GCM_SPEC_KEY256, true, 60,
	"522dc1f099567d07f47f37a32a84427d"
	"643a8cdcbfe5c0c97598a2bd2555d1aa"
	"8cb08e48590dbb3da7b08b1056828838"
	"c5f61e6393ba7a0abcc9f662",
	"76fc6ece0f4e1768cddf8853bb2d551b",
};

static void
gcm_kat_run(const struct gcm_kat *kat)
{
	uint8_t key[32], iv[12], p[64], a[20], c[64], t[16];
	uint8_t esp[ESP_HDR_LEN + ESP_IV_LEN + 64 + ESP_ICV_LEN];
	uint8_t *ct = esp + ESP_HDR_LEN + ESP_IV_LEN;
	uint8_t computed_icv[ESP_ICV_LEN];
	struct esp_gcm_params gcm;
	struct esp_sa tx, rx;

	assert_int_equal(unhex(kat->key, key, sizeof(key)), esp_aead_key_len(kat->aead));
	assert_int_equal(unhex(GCM_SPEC_IV, iv, sizeof(iv)), 12);
	assert_int_equal(unhex(GCM_SPEC_P, p, sizeof(p)), 64);
	assert_int_equal(unhex(GCM_SPEC_A, a, sizeof(a)), 20);
	assert_int_equal(unhex(kat->c, c, sizeof(c)), kat->len);
	assert_int_equal(unhex(kat->t, t, sizeof(t)), 16);

	/* Encrypt: salt = IV[0..4), sequence number = IV[4..12); the header
	 * and IV are esp_outb_encrypt's, the ciphertext again under the spec's AAD. */
	sa_setup_key(&tx, kat->aead, key, iv, 0x1000, false);
	esp_outb_encrypt(mgr, &tx, GCM_SPEC_SEQ, p, kat->len, esp);
	assert_memory_equal(esp + ESP_HDR_LEN, iv + ESP_SALT_LEN, ESP_IV_LEN);
	esp_gcm_nonce_aad(&tx, GCM_SPEC_SEQ, esp, &gcm);
	assert_memory_equal(gcm.nonce, iv, 12);
	esp_gcm_seal(mgr, &tx, gcm.nonce, a, kat->with_aad ? sizeof(a) : 0, p, ct, kat->len,
		     ct + kat->len);
	assert_memory_equal(ct, c, kat->len);
	assert_memory_equal(ct + kat->len, t, 16);

	/* Decrypt in place, with the receiver's nonce from the packet. */
	sa_setup_key(&rx, kat->aead, key, iv, 0x1000, false);
	esp_gcm_nonce_aad(&rx, GCM_SPEC_SEQ, esp, &gcm);
	assert_memory_equal(gcm.nonce, iv, 12);
	esp_gcm_open(mgr, &rx, gcm.nonce, a, kat->with_aad ? sizeof(a) : 0, ct, ct, kat->len,
		     computed_icv);
	assert_memory_equal(computed_icv, t, 16);
	assert_memory_equal(ct, p, kat->len);
}

static void
test_gcm_spec_tc3_aes128(void **state)
{
	(void)state;
	gcm_kat_run(&gcm_tc3);
}

static void
test_gcm_spec_tc4_aes128_aad(void **state)
{
	(void)state;
	gcm_kat_run(&gcm_tc4);
}

static void
test_gcm_spec_tc15_aes256(void **state)
{
	(void)state;
	gcm_kat_run(&gcm_tc15);
}

static void
test_gcm_spec_tc16_aes256_aad(void **state)
{
	(void)state;
	gcm_kat_run(&gcm_tc16);
}

/* --- published ESP packets ---
 *
 * draft-mcgrew-gcm-test-01, "Test Cases for the use of Galois/Counter Mode
 * (GCM) and Galois Message Authentication Code (GMAC) in IPsec ESP", section
 * 4; cases numbered in their order of appearance. No case there has an IV
 * equal to its sequence number, and every case has next header 1, not 4: so
 * the packets are checked by decryption (esp_decrypt), where the ICV must
 * hold and only then the next header be refused; and by encryption, with
 * the vector's IV put in place of ours (esp_gcm_seal).
 */

struct esp_vec {
	const char *name;
	enum esp_aead aead;
	const char *key;
	uint32_t spi;
	bool esn;
	uint64_t seq;
	const char *nonce;
	const char *plaintext;  /* inner packet, padding, pad length, next header */
	uint32_t plaintext_len;
	const char *aad;
	const char *packet;     /* SPI, seq, IV, ciphertext, ICV */
	uint32_t packet_len;
};

/* draft-mcgrew-gcm-test-01 section 4, case 1 (page 7): AES-128, ESN; the low
 * half of the sequence number is 0, one past a wrap of the low half. */
static const struct esp_vec draft_case1 = {
	"draft case 1", ESP_AES_GCM_128,
	"4c80cdefbb5d10da906ac73c3613a634",
	0x00004321, true, 0x8765432100000000ULL,
	"2e443b684956ed7e3b244cfe",
	"45000048699a000080114db7c0a80102"
	"c0a801010a9bf15638d3010000010000"
	"00000000045f736970045f7564700373"
	"69700963796265726369747902646b00"
	"0021000101020201", 72,
	"000043218765432100000000",
	"00004321000000004956ed7e3b244cfe"
	"fecf537e729d5b07dc30df528dd22b76"
	"8d1b98736696a6fd348509fa13ceac34"
	"cfa2436f14a3f3cf65925bf1f4a13c5d"
	"15b21e1884f5ff6247aeabb786b93bce"
	"61bc17d768fd9732459018148f6cbe72"
	"2fd04796562dfdb4", 104,
};

/* draft-mcgrew-gcm-test-01 section 4, case 2 (page 8): AES-128, 32-bit seq. */
static const struct esp_vec draft_case2 = {
	"draft case 2", ESP_AES_GCM_128,
	"feffe9928665731c6d6a8f9467308308",
	0x0000a5f8, false, 0x0000000a,
	"cafebabefacedbaddecaf888",
	"4500003e698f000080114dccc0a80102"
	"c0a801010a980035002a2343b2d00100"
	"00010000000000000373697009637962"
	"65726369747902646b00000100010001", 64,
	"0000a5f80000000a",
	"0000a5f80000000afacedbaddecaf888"
	"deb22cd9b07c72c16e3a65beeb8df304"
	"a5a5897d33ae530f1ba76d5d114d2a5c"
	"3de81827c10e9a4f51330d0eec416642"
	"cfbb85a5b47e48a4ec3b9ba95d918bd1"
	"83b70d3aa8bc6ee4c309e9d85a41ad4a", 96,
};

/* draft-mcgrew-gcm-test-01 section 4, case 3 (page 9): AES-256, 32-bit seq,
 * two padding bytes. */
static const struct esp_vec draft_case3 = {
	"draft case 3", ESP_AES_GCM_256,
	"abbccddef00112233445566778899aab"
	"abbccddef00112233445566778899aab",
	0x4a2cbfe3, false, 0x00000002,
	"112233440102030405060708",
	"4500003069a6400080062690c0a80102"
	"9389155e0a9e008b2dc57ee000000000"
	"7002400020bf0000020405b401010402"
	"01020201", 52,
	"4a2cbfe300000002",
	"4a2cbfe3000000020102030405060708"
	"ff425c9b724599df7a3bcd510194e00d"
	"6a78107f1b0b1cbf06efae9d65a5d763"
	"748a637985771d347f0545659f14e99d"
	"ef842d8eb335f4eecfdbf831824b4c49"
	"15956c96", 84,
};

/* draft-mcgrew-gcm-test-01 section 4, case 8 (page 13): AES-128, ESN with
 * high half 0, SPI 256 (the lowest we accept). */
static const struct esp_vec draft_case8 = {
	"draft case 8", ESP_AES_GCM_128,
	"abbccddef00112233445566778899aab",
	0x00000100, true, 0x0000000000000001ULL,
	"decaf888cafedebaceface74",
	"4500004933ba00007f119106c3fb1d10"
	"c2b1d326c02831ce0035dd7b800302d5"
	"00004e20001e8c18d75b81dc91baa047"
	"6b91b924b280389d92c963bac046ec95"
	"9b6266c04722b14923010101", 76,
	"000001000000000000000001",
	"0000010000000001cafedebaceface74"
	"18a6fd42f72cbf4ab2a2ea901f73d814"
	"e3e7f243d95412e1c349c1d2fbec168f"
	"9190feebaf2cb01984e65863965d7472"
	"b79da345e0e780191f0d2f0e0f496c22"
	"6f2127b27db35724e7845d68651f57e6"
	"5f354f75ff17015769623436", 108,
};

/* draft-mcgrew-gcm-test-01 section 4, case 9 (page 14): AES-256, ESN. */
static const struct esp_vec draft_case9 = {
	"draft case 9", ESP_AES_GCM_256,
	"abbccddef00112233445566778899aab"
	"abbccddef00112233445566778899aab",
	0x17405e67, true, 0x156f3126dd0db99bULL,
	"73616c74616e640169766563",
	"45080028732c00004006e9f90a010612"
	"0a01038f06b88023dd6bafbecb712602"
	"50101f646d540001", 40,
	"17405e67156f3126dd0db99b",
	"17405e67dd0db99b616e640169766563"
	"f2d69ecdbd5a0d5b8d5ef38bad4da58d"
	"1f278fde98ef67549d524a3018d9a57f"
	"f4d3a31ce673119e451626c2415771e3"
	"b7eebca614c89b35", 72,
};

/* draft-mcgrew-gcm-test-01 section 4, case 12 (page 17): AES-128, the last
 * 32-bit sequence number, a payload of padding only (shortest ESP packet). */
static const struct esp_vec draft_case12 = {
	"draft case 12", ESP_AES_GCM_128,
	"7d773d00c144c525ac619d18c84a3f47",
	0x335467ae, false, 0xffffffff,
	"d966426743457e9182443bc6",
	"01020201", 4,
	"335467aeffffffff",
	"335467aeffffffff43457e9182443bc6"
	"437f866bcb3f699fe9b0822bac961c45"
	"04bef270", 36,
};

/* draft-mcgrew-gcm-test-01 section 4, case 14 (page 18): AES-256, the last
 * 64-bit sequence number. */
static const struct esp_vec draft_case14 = {
	"draft case 14", ESP_AES_GCM_256,
	"6c6567616c697a656d6172696a75616e"
	"61616e64646f69746265666f72656961",
	0x796b6963, true, 0xffffffffffffffffULL,
	"7475726e333021696765746d",
	"45000030da3a00008001df3bc0a80005"
	"c0a800010800c6cd0200070061626364"
	"65666768696a6b6c6d6e6f7071727374"
	"01020201", 52,
	"796b6963ffffffffffffffff",
	"796b6963ffffffff333021696765746d"
	"f97ab2aa356d8edce17644ac8c78e25d"
	"d24dedbb29ebf1b64a274b39b49c3a86"
	"4cd3d78ca4ae68a32b42458fb57dbe82"
	"1dcc63b9d0937ba2945f669368661a32"
	"9fb4c053", 84,
};

/* draft-mcgrew-gcm-test-01 section 4, case 17 (page 21): AES-128, ESN whose
 * low half sits just past the start of a subspace (RFC 4303 A2.2 case B). */
static const struct esp_vec draft_case17 = {
	"draft case 17", ESP_AES_GCM_128,
	"4c80cdefbb5d10da906ac73c3613a634",
	0x00004321, true, 0x8765432100000007ULL,
	"22433c644855ec7d3a234bfd",
	"0800c6cd020007006162636465666768"
	"696a6b6c6d6e6f707172737401020201", 32,
	"000043218765432100000007",
	"00004321000000074855ec7d3a234bfd"
	"74752e8aeb5d873cd7c0f4acc36c4bff"
	"84b7d7b98f0ca8b6acda6894bc619069"
	"ef9cbc28fe1b56a7c4e0d58c86cd2bc0", 64,
};

struct esp_vec_bytes {
	uint8_t key[32];
	uint8_t nonce[12];
	uint8_t plaintext[128];
	uint8_t aad[12];
	uint8_t packet[160];
	size_t aad_len;
};

static void
esp_vec_load(const struct esp_vec *v, struct esp_vec_bytes *b)
{
	assert_int_equal(unhex(v->key, b->key, sizeof(b->key)), esp_aead_key_len(v->aead));
	assert_int_equal(unhex(v->nonce, b->nonce, sizeof(b->nonce)), 12);
	assert_int_equal(unhex(v->plaintext, b->plaintext, sizeof(b->plaintext)),
			 v->plaintext_len);
	b->aad_len = unhex(v->aad, b->aad, sizeof(b->aad));
	assert_int_equal(b->aad_len, v->esn ? 12 : 8);
	assert_int_equal(unhex(v->packet, b->packet, sizeof(b->packet)), v->packet_len);
	assert_int_equal(v->packet_len, ESP_HDR_LEN + ESP_IV_LEN + v->plaintext_len +
			 ESP_ICV_LEN);
}

/* A receiving SA that has seen everything up to the vector's predecessor,
 * so that the high half of an ESN is inferred from the window. */
static void
esp_vec_rx_sa(const struct esp_vec *v, const struct esp_vec_bytes *b,
	      struct esp_sa *rx)
{
	sa_setup_key(rx, v->aead, b->key, b->nonce, v->spi, v->esn);
	rx->replay.top = v->seq - 1;
}

static void
esp_vec_check_decrypt(const struct esp_vec *v)
{
	struct esp_vec_bytes b;
	struct esp_gcm_params gcm;
	uint8_t esp[160];
	struct esp_sa rx;
	uint32_t ct_len = v->plaintext_len;
	uint32_t inner_len = 0;
	uint8_t pad_len;

	esp_vec_load(v, &b);

	/* Our nonce and AAD are the draft's. */
	esp_vec_rx_sa(v, &b, &rx);
	esp_gcm_nonce_aad(&rx, v->seq, b.packet, &gcm);
	assert_memory_equal(gcm.nonce, b.nonce, 12);
	assert_int_equal(gcm.aad_len, b.aad_len);
	assert_memory_equal(gcm.aad, b.aad, b.aad_len);
	/* Every draft case says next header 1, after valid padding. */
	assert_int_equal(b.plaintext[ct_len - 1], 1);
	pad_len = b.plaintext[ct_len - 2];
	for (uint8_t i = 0; i < pad_len; i++)
		assert_int_equal(b.plaintext[ct_len - 2 - pad_len + i], i + 1);

	/* Refused as not IPv4 only after the ICV held and the window moved. */
	memcpy(esp, b.packet, v->packet_len);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, v->packet_len, &inner_len),
			 ESP_INB_NOT_IPV4);
	assert_memory_equal(esp + ESP_HDR_LEN + ESP_IV_LEN, b.plaintext, ct_len);
	assert_int_equal(rx.stats.icv_failures, 0);
	assert_int_equal(rx.stats.packets, 0);
	assert_int_equal(rx.replay.top, v->seq);
	/* It was authenticated, so it is now a replay. */
	memcpy(esp, b.packet, v->packet_len);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, v->packet_len, &inner_len),
			 ESP_INB_REPLAY);
	assert_int_equal(rx.stats.replay_drops, 1);

	/* The same packet with one ICV bit flipped is a forgery. */
	esp_vec_rx_sa(v, &b, &rx);
	memcpy(esp, b.packet, v->packet_len);
	esp[v->packet_len - 1] ^= 0x01;
	assert_int_equal(esp_decrypt(mgr, &rx, esp, v->packet_len, &inner_len),
			 ESP_INB_ICV_FAIL);
	assert_int_equal(rx.stats.icv_failures, 1);
	assert_int_equal(rx.replay.top, v->seq - 1);
}

static void
esp_vec_check_encrypt(const struct esp_vec *v)
{
	uint8_t *ct;
	struct esp_vec_bytes b;
	struct esp_gcm_params gcm;
	uint8_t esp[160];
	struct esp_sa tx;

	esp_vec_load(v, &b);
	sa_setup_key(&tx, v->aead, b.key, b.nonce, v->spi, v->esn);
	memset(esp, 0, sizeof(esp));
	esp_outb_encrypt(mgr, &tx, v->seq, b.plaintext, v->plaintext_len, esp);
	/* Header, salt and AAD are ours; the draft's IV is not the sequence
	 * number, so put it in the packet and encrypt again with its nonce. */
	assert_memory_equal(esp, b.packet, ESP_HDR_LEN);
	assert_int_equal(get_be64(esp + ESP_HDR_LEN), v->seq);
	memcpy(esp + ESP_HDR_LEN, b.nonce + ESP_SALT_LEN, ESP_IV_LEN);
	esp_gcm_nonce_aad(&tx, v->seq, esp, &gcm);
	assert_memory_equal(gcm.nonce, b.nonce, 12);
	assert_int_equal(gcm.aad_len, b.aad_len);
	assert_memory_equal(gcm.aad, b.aad, b.aad_len);
	ct = esp + ESP_HDR_LEN + ESP_IV_LEN;
	esp_gcm_seal(mgr, &tx, gcm.nonce, gcm.aad, gcm.aad_len, b.plaintext, ct,
		     v->plaintext_len, ct + v->plaintext_len);
	assert_memory_equal(esp, b.packet, v->packet_len);
}

static void
test_draft_case1_aes128_esn_wrapped_low_half(void **state)
{
	(void)state;
	esp_vec_check_decrypt(&draft_case1);
	esp_vec_check_encrypt(&draft_case1);
}

static void
test_draft_case2_aes128(void **state)
{
	(void)state;
	esp_vec_check_decrypt(&draft_case2);
	esp_vec_check_encrypt(&draft_case2);
}

static void
test_draft_case3_aes256_padding(void **state)
{
	(void)state;
	esp_vec_check_decrypt(&draft_case3);
	esp_vec_check_encrypt(&draft_case3);
}

static void
test_draft_case8_aes128_esn_spi_256(void **state)
{
	(void)state;
	esp_vec_check_decrypt(&draft_case8);
	esp_vec_check_encrypt(&draft_case8);
}

static void
test_draft_case9_aes256_esn(void **state)
{
	(void)state;
	esp_vec_check_decrypt(&draft_case9);
	esp_vec_check_encrypt(&draft_case9);
}

static void
test_draft_case12_aes128_last_seq_empty_payload(void **state)
{
	(void)state;
	esp_vec_check_decrypt(&draft_case12);
	esp_vec_check_encrypt(&draft_case12);
}

static void
test_draft_case14_aes256_last_esn(void **state)
{
	(void)state;
	esp_vec_check_decrypt(&draft_case14);
	esp_vec_check_encrypt(&draft_case14);
}

static void
test_draft_case17_aes128_esn_window_spans_subspaces(void **state)
{
	(void)state;
	esp_vec_check_decrypt(&draft_case17);
	esp_vec_check_encrypt(&draft_case17);
}

/*
 * DPDK app/test/test_cryptodev_security_ipsec_test_vectors.h, pkt_aes_128_gcm
 * and pkt_aes_256_gcm: draft-mcgrew-gcm-test-01 cases 2 and 3 made into
 * tunnel mode packets (next header 4) with sequence number 1, as published
 * there. The arrays are output_text, outer IPv4 header included.
 */
static const uint8_t dpdk_128_key[16] = {
	0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c,
	0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83, 0x08
};

static const uint8_t dpdk_128_salt[4] = { 0xca, 0xfe, 0xba, 0xbe };

static const uint8_t dpdk_128_iv[8] = {
	0xfa, 0xce, 0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88
};

static const uint8_t dpdk_128_input[62] = {
	/* IP */
	0x45, 0x00, 0x00, 0x3e, 0x69, 0x8f, 0x00, 0x00,
	0x80, 0x11, 0x4d, 0xcc, 0xc0, 0xa8, 0x01, 0x02,
	0xc0, 0xa8, 0x01, 0x01,

	/* UDP */
	0x0a, 0x98, 0x00, 0x35, 0x00, 0x2a, 0x23, 0x43,
	0xb2, 0xd0, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x03, 0x73, 0x69, 0x70,
	0x09, 0x63, 0x79, 0x62, 0x65, 0x72, 0x63, 0x69,
	0x74, 0x79, 0x02, 0x64, 0x6b, 0x00, 0x00, 0x01,
	0x00, 0x01,
};

static const uint8_t dpdk_128_output[116] = {
	/* IP - outer header */
	0x45, 0x00, 0x00, 0x74, 0x69, 0x8f, 0x00, 0x00,
	0x80, 0x32, 0x4d, 0x75, 0xc0, 0xa8, 0x01, 0x02,
	0xc0, 0xa8, 0x01, 0x01,

	/* ESP */
	0x00, 0x00, 0xa5, 0xf8, 0x00, 0x00, 0x00, 0x01,

	/* IV */
	0xfa, 0xce, 0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88,

	/* Data */
	0xde, 0xb2, 0x2c, 0xd9, 0xb0, 0x7c, 0x72, 0xc1,
	0x6e, 0x3a, 0x65, 0xbe, 0xeb, 0x8d, 0xf3, 0x04,
	0xa5, 0xa5, 0x89, 0x7d, 0x33, 0xae, 0x53, 0x0f,
	0x1b, 0xa7, 0x6d, 0x5d, 0x11, 0x4d, 0x2a, 0x5c,
	0x3d, 0xe8, 0x18, 0x27, 0xc1, 0x0e, 0x9a, 0x4f,
	0x51, 0x33, 0x0d, 0x0e, 0xec, 0x41, 0x66, 0x42,
	0xcf, 0xbb, 0x85, 0xa5, 0xb4, 0x7e, 0x48, 0xa4,
	0xec, 0x3b, 0x9b, 0xa9, 0x5d, 0x91, 0x8b, 0xd4,
	0x29, 0xc7, 0x37, 0x57, 0x9f, 0xf1, 0x9e, 0x58,
	0xcf, 0xfc, 0x60, 0x7a, 0x3b, 0xce, 0x89, 0x94,
};

static const uint8_t dpdk_256_key[32] = {
	0xab, 0xbc, 0xcd, 0xde, 0xf0, 0x01, 0x12, 0x23,
	0x34, 0x45, 0x56, 0x67, 0x78, 0x89, 0x9a, 0xab,
	0xab, 0xbc, 0xcd, 0xde, 0xf0, 0x01, 0x12, 0x23,
	0x34, 0x45, 0x56, 0x67, 0x78, 0x89, 0x9a, 0xab,
};

static const uint8_t dpdk_256_salt[4] = { 0x11, 0x22, 0x33, 0x44 };

static const uint8_t dpdk_256_iv[8] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08
};

static const uint8_t dpdk_256_input[48] = {
	/* IP */
	0x45, 0x00, 0x00, 0x30, 0x69, 0xa6, 0x40, 0x00,
	0x80, 0x06, 0x26, 0x90, 0xc0, 0xa8, 0x01, 0x02,
	0x93, 0x89, 0x15, 0x5e,

	/* TCP */
	0x0a, 0x9e, 0x00, 0x8b, 0x2d, 0xc5, 0x7e, 0xe0,
	0x00, 0x00, 0x00, 0x00, 0x70, 0x02, 0x40, 0x00,
	0x20, 0xbf, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
	0x01, 0x01, 0x04, 0x02,
};

static const uint8_t dpdk_256_output[104] = {
	/* IP - outer header */
	0x45, 0x00, 0x00, 0x68, 0x69, 0x8f, 0x00, 0x00,
	0x80, 0x32, 0x4d, 0x81, 0xc0, 0xa8, 0x01, 0x02,
	0xc0, 0xa8, 0x01, 0x01,

	/* ESP */
	0x4a, 0x2c, 0xbf, 0xe3, 0x00, 0x00, 0x00, 0x01,

	/* IV */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,

	/* Data */
	0xff, 0x42, 0x5c, 0x9b, 0x72, 0x45, 0x99, 0xdf,
	0x7a, 0x3b, 0xcd, 0x51, 0x01, 0x94, 0xe0, 0x0d,
	0x6a, 0x78, 0x10, 0x7f, 0x1b, 0x0b, 0x1c, 0xbf,
	0x06, 0xef, 0xae, 0x9d, 0x65, 0xa5, 0xd7, 0x63,
	0x74, 0x8a, 0x63, 0x79, 0x85, 0x77, 0x1d, 0x34,
	0x7f, 0x05, 0x45, 0x65, 0x9f, 0x14, 0xe9, 0x9d,
	0xef, 0x84, 0x2d, 0x8b, 0x00, 0x14, 0x4a, 0x1f,
	0xec, 0x6a, 0xdf, 0x0c, 0x9a, 0x92, 0x7f, 0xee,
	0xa6, 0xc5, 0x11, 0x60,
};

#define OUTER_IPV4_LEN 20

static void
dpdk_vec_check(enum esp_aead aead, const uint8_t *key, const uint8_t *salt,
	       uint32_t spi, const uint8_t *iv, const uint8_t *input,
	       uint32_t input_len, const uint8_t *output, uint32_t output_len)
{
	const uint8_t *want = output + OUTER_IPV4_LEN;
	uint32_t esp_len = output_len - OUTER_IPV4_LEN;
	uint32_t payload_len = esp_outb_payload_len(input_len);
	uint8_t *ct = NULL;
	struct esp_gcm_params gcm;
	uint8_t inner[128], esp[160];
	struct esp_sa sa;
	uint32_t inner_len = 0;

	assert_int_equal(esp_len, ESP_HDR_LEN + ESP_IV_LEN +
			 esp_outb_payload_len(input_len) + ESP_ICV_LEN);

	/* Inbound: a tunnel mode packet, all the way to ESP_INB_OK. */
	sa_setup_key(&sa, aead, key, salt, spi, false);
	memcpy(esp, want, esp_len);
	assert_int_equal(esp_decrypt(mgr, &sa, esp, esp_len, &inner_len), ESP_INB_OK);
	assert_int_equal(inner_len, input_len);
	assert_memory_equal(esp + ESP_HDR_LEN + ESP_IV_LEN, input, input_len);
	assert_int_equal(sa.stats.packets, 1);
	assert_int_equal(sa.stats.bytes, input_len);
	assert_int_equal(sa.replay.top, 1);

	/* Outbound: our trailer and header, the vector's IV. */
	sa_setup_key(&sa, aead, key, salt, spi, false);
	memcpy(inner, input, input_len);
	esp_outb_trailer_write(inner, input_len);
	{
		uint32_t len = input_len, granted;

		assert_int_equal(esp_outb_seq_reserve(&sa, 1, &len, &granted), 1);
		assert_int_equal(granted, 1);
	}
	esp_outb_encrypt(mgr, &sa, 1, inner, payload_len, esp);
	assert_memory_equal(esp, want, ESP_HDR_LEN);
	memcpy(esp + ESP_HDR_LEN, iv, ESP_IV_LEN);
	esp_gcm_nonce_aad(&sa, 1, esp, &gcm);
	ct = esp + ESP_HDR_LEN + ESP_IV_LEN;
	esp_gcm_seal(mgr, &sa, gcm.nonce, gcm.aad, gcm.aad_len, inner, ct, payload_len,
		     ct + payload_len);
	assert_memory_equal(esp, want, esp_len);
}

static void
test_dpdk_pkt_aes_128_gcm_tunnel_packet(void **state)
{
	(void)state;
	dpdk_vec_check(ESP_AES_GCM_128, dpdk_128_key, dpdk_128_salt, 0xa5f8,
		       dpdk_128_iv, dpdk_128_input, sizeof(dpdk_128_input),
		       dpdk_128_output, sizeof(dpdk_128_output));
}

static void
test_dpdk_pkt_aes_256_gcm_tunnel_packet(void **state)
{
	(void)state;
	dpdk_vec_check(ESP_AES_GCM_256, dpdk_256_key, dpdk_256_salt, 0x4a2cbfe3,
		       dpdk_256_iv, dpdk_256_input, sizeof(dpdk_256_input),
		       dpdk_256_output, sizeof(dpdk_256_output));
}

/* --- round trips --- */

static const uint32_t round_trip_lens[] = {
	1, 2, 3, 4, 20, 21, 22, 23, 24, 61, 62, 63, 64, 65, 1397, 1398, 1399, 1400,
};

static void
round_trip(enum esp_aead aead, bool esn, uint64_t first_seq)
{
	uint8_t inner[INNER_MAX + 8], esp[ESP_MAX];
	struct esp_sa tx, rx;
	uint64_t seq = first_seq;

	sa_setup(&tx, aead, esn);
	sa_setup(&rx, aead, esn);
	tx.seq_out = first_seq - 1;
	if (first_seq > 1)
		rx.replay.top = first_seq - 1;
	for (size_t i = 0; i < sizeof(round_trip_lens) / sizeof(round_trip_lens[0]); i++) {
		uint32_t len = round_trip_lens[i];
		uint32_t esp_len, inner_len = 0;

		esp_len = make_packet(&tx, len, esp, inner);
		assert_int_equal(get_be64(esp + ESP_HDR_LEN), seq);
		/* Ciphertext is not plaintext. */
		assert_true(memcmp(esp + ESP_HDR_LEN + ESP_IV_LEN, inner, len) != 0 || len < 4);
		assert_int_equal(esp_decrypt(mgr, &rx, esp, esp_len, &inner_len), ESP_INB_OK);
		assert_int_equal(inner_len, len);
		assert_memory_equal(esp + ESP_HDR_LEN + ESP_IV_LEN, inner, len);
		assert_int_equal(rx.replay.top, seq);
		seq++;
	}
	assert_int_equal(rx.stats.packets, sizeof(round_trip_lens) / sizeof(round_trip_lens[0]));
	assert_int_equal(rx.stats.icv_failures, 0);
}

static void
test_round_trip_aes128(void **state)
{
	(void)state;
	round_trip(ESP_AES_GCM_128, false, 1);
}

static void
test_round_trip_aes256(void **state)
{
	(void)state;
	round_trip(ESP_AES_GCM_256, false, 1);
}

static void
test_round_trip_aes128_esn_across_wrap(void **state)
{
	(void)state;
	round_trip(ESP_AES_GCM_128, true, SEQ_MAX32 - 5);
}

static void
test_round_trip_aes256_esn_across_wrap(void **state)
{
	(void)state;
	round_trip(ESP_AES_GCM_256, true, SEQ_MAX32 - 5);
}

/* Both ends must agree on ESN: it changes the AAD. */
static void
test_esn_mismatch_fails_icv(void **state)
{
	uint8_t esp[ESP_MAX];
	struct esp_sa tx, rx;
	uint32_t esp_len, inner_len;

	(void)state;
	sa_setup(&tx, ESP_AES_GCM_128, true);
	sa_setup(&rx, ESP_AES_GCM_128, false);
	esp_len = make_packet(&tx, 40, esp, NULL);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, esp_len, &inner_len), ESP_INB_ICV_FAIL);
	assert_int_equal(rx.stats.icv_failures, 1);
}

/* --- wire format --- */

static void
check_wire_format(bool esn, uint64_t seq_out)
{
	uint8_t inner[INNER_MAX + 8], esp[ESP_MAX];
	struct esp_sa tx, rx;

	sa_setup(&tx, ESP_AES_GCM_128, esn);
	sa_setup(&rx, ESP_AES_GCM_128, esn);
	tx.seq_out = seq_out;
	rx.replay.top = seq_out;
	for (uint32_t len = 20; len < 28; len++) {
		uint32_t payload_len = esp_outb_payload_len(len);
		uint64_t seq = ++seq_out;
		uint32_t esp_len, inner_len = 0;
		const uint8_t *pt = esp + ESP_HDR_LEN + ESP_IV_LEN;
		uint8_t pad_len;

		assert_int_equal(payload_len % 4, 0);
		assert_true(payload_len >= len + ESP_TRAILER_LEN);
		assert_true(payload_len <= len + ESP_TRAILER_LEN + 3);

		esp_len = make_packet(&tx, len, esp, inner);
		assert_int_equal(esp_len, 8 + 8 + payload_len + 16);
		assert_int_equal(get_be32(esp), 0x12345678);
		assert_int_equal(esp_spi(esp), 0x12345678);
		assert_int_equal(get_be32(esp + 4), (uint32_t)seq);
		assert_int_equal(get_be64(esp + ESP_HDR_LEN), seq);

		assert_int_equal(esp_decrypt(mgr, &rx, esp, esp_len, &inner_len), ESP_INB_OK);
		assert_int_equal(inner_len, len);
		/* Decrypted in place: inner, 1, 2, 3.., pad length, next header. */
		pad_len = pt[payload_len - 2];
		assert_int_equal(pad_len, payload_len - len - ESP_TRAILER_LEN);
		for (uint8_t i = 0; i < pad_len; i++)
			assert_int_equal(pt[len + i], i + 1);
		assert_int_equal(pt[payload_len - 1], ESP_NEXT_HEADER_IPV4);
	}
}

static void
test_wire_format_header_iv_padding_trailer(void **state)
{
	(void)state;
	check_wire_format(false, 41);
}

static void
test_wire_format_esn_header_carries_low_half_iv_full(void **state)
{
	(void)state;
	check_wire_format(true, 0x100000000ULL + 41);
}

static void
test_wire_format_padding_covers_0_to_3(void **state)
{
	uint8_t buf[32];
	bool seen[4] = { false, false, false, false };

	(void)state;
	for (uint32_t len = 20; len < 24; len++) {
		uint32_t payload_len = esp_outb_payload_len(len);
		uint32_t pad_len = payload_len - len - ESP_TRAILER_LEN;

		memset(buf, 0xee, sizeof(buf));
		esp_outb_trailer_write(buf, len);
		assert_true(pad_len <= 3);
		seen[pad_len] = true;
		for (uint32_t i = 0; i < pad_len; i++)
			assert_int_equal(buf[len + i], i + 1);
		assert_int_equal(buf[len + pad_len], pad_len);
		assert_int_equal(buf[len + pad_len + 1], ESP_NEXT_HEADER_IPV4);
		/* Nothing written past the trailer. */
		assert_int_equal(buf[payload_len], 0xee);
	}
	for (int i = 0; i < 4; i++)
		assert_true(seen[i]);
}

/* --- inbound refusals after a good ICV --- */

/* Encrypt an arbitrary payload (trailer included) with a valid ICV. */
static uint32_t
make_raw_packet(struct esp_sa *tx, uint64_t seq, const uint8_t *payload,
		uint32_t payload_len, uint8_t *esp)
{
	esp_outb_encrypt(mgr, tx, seq, payload, payload_len, esp);
	return ESP_HDR_LEN + ESP_IV_LEN + payload_len + ESP_ICV_LEN;
}

static void
test_bad_padding_refused_after_good_icv(void **state)
{
	/* 23 bytes, padding 1, 2, 9 (should be 3), pad length 3, IPv4. */
	uint8_t payload[28], esp[ESP_MAX];
	struct esp_sa tx, rx;
	uint32_t esp_len, inner_len;

	(void)state;
	fill_inner(payload, 23, 1);
	payload[23] = 1;
	payload[24] = 2;
	payload[25] = 9;
	payload[26] = 3;
	payload[27] = ESP_NEXT_HEADER_IPV4;
	sa_setup(&tx, ESP_AES_GCM_128, false);
	sa_setup(&rx, ESP_AES_GCM_128, false);
	esp_len = make_raw_packet(&tx, 6, payload, sizeof(payload), esp);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, esp_len, &inner_len),
			 ESP_INB_BAD_TRAILER);
	assert_int_equal(rx.stats.icv_failures, 0);
	assert_int_equal(rx.stats.packets, 0);
	/* The ICV held, so the window moved (RFC 4303 3.4.3). */
	assert_int_equal(rx.replay.top, 6);

	/* The same with the padding right is accepted. */
	payload[25] = 3;
	esp_len = make_raw_packet(&tx, 7, payload, sizeof(payload), esp);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, esp_len, &inner_len), ESP_INB_OK);
	assert_int_equal(inner_len, 23);
}

static void
test_pad_length_beyond_payload_refused(void **state)
{
	uint8_t payload[8] = { 0x45, 0, 0, 0, 0, 0, 7, ESP_NEXT_HEADER_IPV4 };
	uint8_t esp[ESP_MAX];
	struct esp_sa tx, rx;
	uint32_t esp_len, inner_len;

	(void)state;
	sa_setup(&tx, ESP_AES_GCM_256, false);
	sa_setup(&rx, ESP_AES_GCM_256, false);
	esp_len = make_raw_packet(&tx, 1, payload, sizeof(payload), esp);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, esp_len, &inner_len),
			 ESP_INB_BAD_TRAILER);
	assert_int_equal(rx.stats.icv_failures, 0);

	/* Pad length 6 of 8 bytes: padding 1..6, no inner packet: fine. */
	for (uint8_t i = 0; i < 6; i++)
		payload[i] = i + 1;
	payload[6] = 6;
	esp_len = make_raw_packet(&tx, 2, payload, sizeof(payload), esp);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, esp_len, &inner_len), ESP_INB_OK);
	assert_int_equal(inner_len, 0);
}

static void
test_next_header_not_ipv4_refused_after_good_icv(void **state)
{
	/* 22 bytes, pad length 0, next header 41 (IPv6). */
	uint8_t payload[24], esp[ESP_MAX];
	struct esp_sa tx, rx;
	uint32_t esp_len, inner_len;

	(void)state;
	fill_inner(payload, 22, 3);
	payload[22] = 0;
	payload[23] = 41;
	sa_setup(&tx, ESP_AES_GCM_128, false);
	sa_setup(&rx, ESP_AES_GCM_128, false);
	esp_len = make_raw_packet(&tx, 9, payload, sizeof(payload), esp);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, esp_len, &inner_len),
			 ESP_INB_NOT_IPV4);
	assert_int_equal(rx.stats.icv_failures, 0);
	assert_int_equal(rx.stats.packets, 0);
	assert_int_equal(rx.replay.top, 9);
}

static void
test_truncated_packets_refused(void **state)
{
	uint8_t esp[ESP_MAX];
	struct esp_sa tx, rx;
	uint32_t esp_len, inner_len;

	(void)state;
	sa_setup(&tx, ESP_AES_GCM_128, false);
	sa_setup(&rx, ESP_AES_GCM_128, false);
	esp_len = make_packet(&tx, 2, esp, NULL);
	assert_int_equal(esp_len, 36);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, 33, &inner_len), ESP_INB_TRUNCATED);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, 0, &inner_len), ESP_INB_TRUNCATED);
	/* 35 bytes: ciphertext of 3, not a multiple of 4. */
	assert_int_equal(esp_decrypt(mgr, &rx, esp, 35, &inner_len), ESP_INB_TRUNCATED);
	assert_int_equal(rx.replay.top, 0);
	assert_int_equal(rx.stats.icv_failures, 0);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, esp_len, &inner_len), ESP_INB_OK);
	assert_int_equal(inner_len, 2);
}

/* --- ICV failures --- */

static void
check_forgery(size_t flip_at, uint8_t mask)
{
	uint8_t esp[ESP_MAX], good[ESP_MAX];
	struct esp_sa tx, rx;
	uint32_t esp_len, inner_len;

	sa_setup(&tx, ESP_AES_GCM_128, false);
	sa_setup(&rx, ESP_AES_GCM_128, false);
	tx.seq_out = 99;
	rx.replay.top = 90;
	esp_len = make_packet(&tx, 60, good, NULL);
	assert_true(flip_at < esp_len);

	memcpy(esp, good, esp_len);
	esp[flip_at] ^= mask;
	assert_int_equal(esp_decrypt(mgr, &rx, esp, esp_len, &inner_len), ESP_INB_ICV_FAIL);
	assert_int_equal(rx.stats.icv_failures, 1);
	assert_int_equal(rx.stats.packets, 0);
	/* The forgery moved nothing: the window is where it was ... */
	assert_int_equal(rx.replay.top, 90);
	/* ... and the genuine packet with that number still gets in. */
	memcpy(esp, good, esp_len);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, esp_len, &inner_len), ESP_INB_OK);
	assert_int_equal(rx.replay.top, 100);
	assert_int_equal(rx.stats.icv_failures, 1);
}

static void
test_icv_fail_ciphertext_bit_flip(void **state)
{
	(void)state;
	check_forgery(ESP_HDR_LEN + ESP_IV_LEN + 10, 0x04);
}

static void
test_icv_fail_trailer_bit_flip(void **state)
{
	(void)state;
	/* 60 bytes + trailer = 64 of ciphertext; its last byte is next header. */
	check_forgery(ESP_HDR_LEN + ESP_IV_LEN + 63, 0x01);
}

static void
test_icv_fail_icv_bit_flip(void **state)
{
	(void)state;
	check_forgery(ESP_HDR_LEN + ESP_IV_LEN + 64 + 7, 0x80);
}

static void
test_icv_fail_spi_bit_flip(void **state)
{
	(void)state;
	check_forgery(2, 0x10);
}

static void
test_icv_fail_seq_bit_flip(void **state)
{
	(void)state;
	/* Sequence 100 becomes 101: new to the window, but the AAD differs. */
	check_forgery(7, 0x01);
}

static void
test_icv_fail_iv_bit_flip(void **state)
{
	(void)state;
	check_forgery(ESP_HDR_LEN + 3, 0x20);
}

/* A forgery carrying a sequence number far ahead must not drag the window
 * along: genuine packets behind it still get in. */
static void
test_forged_far_ahead_seq_does_not_move_window(void **state)
{
	uint8_t esp[ESP_MAX], good[4][ESP_MAX];
	uint32_t len[4], inner_len;
	struct esp_sa tx, rx;

	(void)state;
	sa_setup(&tx, ESP_AES_GCM_256, false);
	sa_setup(&rx, ESP_AES_GCM_256, false);
	for (int i = 0; i < 4; i++)
		len[i] = make_packet(&tx, 30 + i, good[i], NULL);

	memcpy(esp, good[0], len[0]);
	put_be32(esp + 4, 0x40000001);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, len[0], &inner_len), ESP_INB_ICV_FAIL);
	assert_int_equal(rx.replay.top, 0);
	for (int i = 0; i < 4; i++) {
		memcpy(esp, good[i], len[i]);
		assert_int_equal(esp_decrypt(mgr, &rx, esp, len[i], &inner_len), ESP_INB_OK);
		assert_int_equal(inner_len, 30 + i);
	}
	assert_int_equal(rx.replay.top, 4);
	assert_int_equal(rx.stats.icv_failures, 1);
}

static void
test_wrong_key_fails_icv(void **state)
{
	static const uint8_t other_key[32] = { 1 };
	static const uint8_t salt[4] = { 0xa0, 0xb1, 0xc2, 0xd3 };
	uint8_t esp[ESP_MAX];
	struct esp_sa tx, rx;
	uint32_t esp_len, inner_len;

	(void)state;
	sa_setup(&tx, ESP_AES_GCM_128, false);
	sa_setup_key(&rx, ESP_AES_GCM_128, other_key, salt, 0x12345678, false);
	esp_len = make_packet(&tx, 100, esp, NULL);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, esp_len, &inner_len), ESP_INB_ICV_FAIL);
	assert_int_equal(rx.stats.icv_failures, 1);
	assert_int_equal(rx.replay.top, 0);
}

/* --- replay through the ESP path --- */

static void
test_duplicate_packet_refused(void **state)
{
	uint8_t esp[ESP_MAX], good[ESP_MAX];
	struct esp_sa tx, rx;
	uint32_t esp_len, inner_len;

	(void)state;
	sa_setup(&tx, ESP_AES_GCM_128, false);
	sa_setup(&rx, ESP_AES_GCM_128, false);
	esp_len = make_packet(&tx, 50, good, NULL);
	memcpy(esp, good, esp_len);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, esp_len, &inner_len), ESP_INB_OK);
	memcpy(esp, good, esp_len);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, esp_len, &inner_len), ESP_INB_REPLAY);
	assert_int_equal(rx.stats.replay_drops, 1);
	assert_int_equal(rx.stats.packets, 1);
}

/* --- sequence numbers --- */

static void
test_seq_exhausted_without_esn_refuses_instead_of_wrapping(void **state)
{
	uint8_t esp[ESP_MAX];
	struct esp_sa tx, rx;
	uint32_t esp_len, inner_len;

	(void)state;
	sa_setup(&tx, ESP_AES_GCM_128, false);
	sa_setup(&rx, ESP_AES_GCM_128, false);
	tx.seq_out = SEQ_MAX32 - 2;
	rx.replay.top = SEQ_MAX32 - 2;

	esp_len = make_packet(&tx, 40, esp, NULL);
	assert_int_equal(get_be32(esp + 4), 0xfffffffe);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, esp_len, &inner_len), ESP_INB_OK);
	esp_len = make_packet(&tx, 40, esp, NULL);
	assert_int_equal(get_be32(esp + 4), 0xffffffff);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, esp_len, &inner_len), ESP_INB_OK);

	/* 2^32 would be sent as 0: refused, and it stays refused. */
	memset(esp, 0, sizeof(esp));
	{
		uint8_t inner[48];

		fill_inner(inner, 40, 0);
		assert_int_equal(esp_encrypt(mgr, &tx, inner, 40, esp), 0);
		assert_int_equal(esp_encrypt(mgr, &tx, inner, 40, esp), 0);
	}
	{
		uint32_t len = 40, granted;

		assert_int_equal(esp_outb_seq_reserve(&tx, 1, &len, &granted), 0);
		assert_int_equal(granted, 0);
	}
	assert_int_equal(tx.stats.expired_drops, 3);
	/* Nothing was written for the refused packets. */
	assert_int_equal(get_be32(esp), 0);
}

static void
test_seq_reserve_batch_up_to_last_32bit_number(void **state)
{
	static const uint32_t len[4] = { 100, 100, 100, 100 };
	struct esp_sa tx;
	uint32_t granted;

	(void)state;
	sa_setup(&tx, ESP_AES_GCM_128, false);
	tx.seq_out = SEQ_MAX32 - 3;
	/* Three fit exactly, ending on 0xffffffff. */
	assert_int_equal(esp_outb_seq_reserve(&tx, 3, len, &granted), SEQ_MAX32 - 2);
	assert_int_equal(granted, 3);
	assert_int_equal(esp_outb_seq_reserve(&tx, 1, len, &granted), 0);
	assert_int_equal(granted, 0);

	sa_setup(&tx, ESP_AES_GCM_128, false);
	tx.seq_out = SEQ_MAX32 - 3;
	/* Four do not: the first three go, the fourth is refused and counted. */
	assert_int_equal(esp_outb_seq_reserve(&tx, 4, len, &granted), SEQ_MAX32 - 2);
	assert_int_equal(granted, 3);
	assert_int_equal(tx.stats.expired_drops, 1);
	assert_int_equal(esp_outb_packets(&tx), SEQ_MAX32);
}

static void
test_seq_reserve_batch_stops_at_lifetime_bytes(void **state)
{
	static const uint32_t len[4] = { 40, 50, 20, 10 };
	struct esp_sa tx;
	uint32_t granted;

	(void)state;
	sa_setup(&tx, ESP_AES_GCM_128, false);
	tx.lifetime_bytes = 100;
	/* 40 + 50 fit; 40 + 50 + 20 does not: a prefix of two. */
	assert_int_equal(esp_outb_seq_reserve(&tx, 4, len, &granted), 1);
	assert_int_equal(granted, 2);
	assert_int_equal(tx.stats.expired_drops, 2);
	assert_int_equal(esp_outb_packets(&tx), 2);
	/* The bytes of refused packets count too: the SA stays spent. */
	assert_int_equal(esp_outb_seq_reserve(&tx, 1, &len[3], &granted), 0);
	assert_int_equal(granted, 0);
}

static void
test_seq_continues_past_2_32_with_esn(void **state)
{
	uint8_t esp[6][ESP_MAX];
	uint32_t len[6], inner_len;
	struct esp_sa tx, rx;
	uint64_t first = SEQ_MAX32 - 2;

	(void)state;
	sa_setup(&tx, ESP_AES_GCM_256, true);
	sa_setup(&rx, ESP_AES_GCM_256, true);
	tx.seq_out = first - 1;
	for (int i = 0; i < 6; i++) {
		len[i] = make_packet(&tx, 40 + i, esp[i], NULL);
		assert_int_equal(get_be32(esp[i] + 4), (uint32_t)(first + i));
		assert_int_equal(get_be64(esp[i] + ESP_HDR_LEN), first + i);
	}
	/* 0xfffffffd, 0xfffffffe, 0xffffffff, then 0, 1, 2 on the wire. */
	assert_int_equal(get_be32(esp[3] + 4), 0);
	assert_int_equal(tx.seq_out, 0x100000002ULL);

	/* In order up to the wrap, then out of order across it. */
	assert_int_equal(esp_decrypt(mgr, &rx, esp[0], len[0], &inner_len), ESP_INB_OK);
	assert_int_equal(esp_decrypt(mgr, &rx, esp[3], len[3], &inner_len), ESP_INB_OK);
	assert_int_equal(rx.replay.top, 0x100000000ULL);
	assert_int_equal(esp_decrypt(mgr, &rx, esp[5], len[5], &inner_len), ESP_INB_OK);
	assert_int_equal(rx.replay.top, 0x100000002ULL);
	/* Just before the wrap, arriving after the top moved past it. */
	assert_int_equal(esp_decrypt(mgr, &rx, esp[1], len[1], &inner_len), ESP_INB_OK);
	assert_int_equal(inner_len, 41);
	assert_int_equal(esp_decrypt(mgr, &rx, esp[2], len[2], &inner_len), ESP_INB_OK);
	assert_int_equal(esp_decrypt(mgr, &rx, esp[4], len[4], &inner_len), ESP_INB_OK);
	assert_int_equal(inner_len, 44);
	assert_int_equal(rx.stats.packets, 6);
	assert_int_equal(rx.stats.icv_failures, 0);
	assert_int_equal(rx.replay.top, 0x100000002ULL);
}

/* --- soft limit: rekey before the hard one --- */

static void
test_soft_limit_is_three_quarters_of_the_hard_limit(void **state)
{
	struct esp_sa tx;

	(void)state;
	sa_setup(&tx, ESP_AES_GCM_128, false);
	/* 3/4 of 2^32 - 1, rounded down. */
	assert_true(esp_outb_soft_packets(&tx, 0) == 3221225471ull);
	/* A configured value below it wins, one above changes nothing. */
	assert_true(esp_outb_soft_packets(&tx, 500) == 500);
	assert_true(esp_outb_soft_packets(&tx, 4000000000ull) == 3221225471ull);
	tx.lifetime_packets = 1000;
	assert_true(esp_outb_soft_packets(&tx, 0) == 750);
	assert_true(esp_outb_soft_packets(&tx, 900) == 750);
	sa_setup(&tx, ESP_AES_GCM_128, true);
	/* With ESN: 3/4 of 2^64 - 1, never reached in practice. */
	assert_true(esp_outb_soft_packets(&tx, 0) == 13835058055282163711ull);
}

static void
test_sa_passing_its_soft_limit_is_due_for_rekey_and_still_sends(void **state)
{
	static const uint32_t len[4] = { 100, 100, 100, 100 };
	struct esp_sa tx;
	uint32_t granted;
	uint64_t soft;

	(void)state;
	sa_setup(&tx, ESP_AES_GCM_128, false);
	soft = esp_outb_soft_packets(&tx, 6);
	assert_int_equal(esp_outb_seq_reserve(&tx, 4, len, &granted), 1);
	assert_false(esp_outb_rekey_due(&tx, soft));
	assert_int_equal(esp_outb_seq_reserve(&tx, 2, len, &granted), 5);
	assert_true(esp_outb_rekey_due(&tx, soft));
	/* Due is a request, not a stop: the SA sends until its hard limit. */
	assert_int_equal(esp_outb_seq_reserve(&tx, 4, len, &granted), 7);
	assert_int_equal(granted, 4);
	assert_int_equal(tx.stats.expired_drops, 0);
	/* Near 2^32 without a configured value. */
	sa_setup(&tx, ESP_AES_GCM_128, false);
	soft = esp_outb_soft_packets(&tx, 0);
	tx.seq_out = soft - 1;
	assert_false(esp_outb_rekey_due(&tx, soft));
	tx.seq_out = soft;
	assert_true(esp_outb_rekey_due(&tx, soft));
}

static void
test_sa_passing_three_quarters_of_its_byte_lifetime_is_due_for_rekey(void **state)
{
	static const uint32_t len[2] = { 70, 10 };
	struct esp_sa tx;
	uint32_t granted;

	(void)state;
	sa_setup(&tx, ESP_AES_GCM_128, false);
	tx.lifetime_bytes = 100;
	assert_int_equal(esp_outb_seq_reserve(&tx, 1, len, &granted), 1);
	assert_false(esp_outb_rekey_due(&tx, esp_outb_soft_packets(&tx, 0)));
	assert_int_equal(esp_outb_seq_reserve(&tx, 1, &len[1], &granted), 2);
	assert_true(esp_outb_rekey_due(&tx, esp_outb_soft_packets(&tx, 0)));
}

/* Time lifetime over (the management lcore's esp_outb_expire): nothing more
 * is sent, the refused packets are the SA's expired_drops. */
static void
test_expired_sa_grants_no_number_and_counts_its_drops(void **state)
{
	static const uint32_t len[3] = { 100, 100, 100 };
	struct esp_sa tx;
	uint32_t granted;

	(void)state;
	sa_setup(&tx, ESP_AES_GCM_128, false);
	assert_int_equal(esp_outb_seq_reserve(&tx, 2, len, &granted), 1);
	assert_int_equal(granted, 2);
	esp_outb_expire(&tx);
	assert_int_equal(esp_outb_seq_reserve(&tx, 3, len, &granted), 0);
	assert_int_equal(granted, 0);
	assert_int_equal(tx.stats.expired_drops, 3);
	assert_int_equal(esp_outb_packets(&tx), 2);
}

/* --- lifetimes --- */

static void
test_lifetime_packets_outbound_stops_sending(void **state)
{
	struct esp_sa_params p;
	struct esp_sa tx;
	uint8_t inner[64], esp[ESP_MAX];

	(void)state;
	memset(&p, 0, sizeof(p));
	p.spi = 0x1000;
	p.aead = ESP_AES_GCM_128;
	p.lifetime_packets = 3;
	assert_int_equal(esp_sa_init(&tx, &p, mgr), 0);
	for (int i = 0; i < 3; i++) {
		fill_inner(inner, 40, 0);
		assert_int_not_equal(esp_encrypt(mgr, &tx, inner, 40, esp), 0);
	}
	assert_int_equal(esp_encrypt(mgr, &tx, inner, 40, esp), 0);
	assert_int_equal(esp_encrypt(mgr, &tx, inner, 40, esp), 0);
	assert_int_equal(tx.stats.expired_drops, 2);
}

static void
test_lifetime_bytes_outbound_stops_sending(void **state)
{
	struct esp_sa_params p;
	struct esp_sa tx;
	uint8_t inner[128], esp[ESP_MAX];

	(void)state;
	memset(&p, 0, sizeof(p));
	p.spi = 0x1000;
	p.aead = ESP_AES_GCM_256;
	p.lifetime_bytes = 100;
	assert_int_equal(esp_sa_init(&tx, &p, mgr), 0);
	fill_inner(inner, 60, 0);
	assert_int_not_equal(esp_encrypt(mgr, &tx, inner, 60, esp), 0);
	assert_int_not_equal(esp_encrypt(mgr, &tx, inner, 40, esp), 0);
	assert_int_equal(esp_encrypt(mgr, &tx, inner, 1, esp), 0);
	assert_int_equal(tx.stats.expired_drops, 1);
}

static void
test_lifetime_packets_inbound_stops_accepting(void **state)
{
	struct esp_sa tx, rx;
	uint8_t esp[ESP_MAX];
	uint32_t esp_len, inner_len;

	(void)state;
	sa_setup(&tx, ESP_AES_GCM_128, false);
	sa_setup(&rx, ESP_AES_GCM_128, false);
	rx.lifetime_packets = 2;
	for (int i = 0; i < 2; i++) {
		esp_len = make_packet(&tx, 40, esp, NULL);
		assert_int_equal(esp_decrypt(mgr, &rx, esp, esp_len, &inner_len), ESP_INB_OK);
	}
	esp_len = make_packet(&tx, 40, esp, NULL);
	assert_int_equal(esp_decrypt(mgr, &rx, esp, esp_len, &inner_len), ESP_INB_EXPIRED);
	assert_int_equal(rx.stats.expired_drops, 1);
	assert_int_equal(rx.stats.packets, 2);
}

/* --- SA parameters --- */

static void
params_default(struct esp_sa_params *p)
{
	memset(p, 0, sizeof(*p));
	p->spi = 0x1000;
	p->aead = ESP_AES_GCM_128;
}

static void
test_sa_init_rejects_reserved_spi(void **state)
{
	struct esp_sa_params p;
	struct esp_sa sa;

	(void)state;
	params_default(&p);
	p.spi = 0;
	assert_int_equal(esp_sa_init(&sa, &p, mgr), -1);
	p.spi = 1;
	assert_int_equal(esp_sa_init(&sa, &p, mgr), -1);
	p.spi = 255;
	assert_int_equal(esp_sa_init(&sa, &p, mgr), -1);
	p.spi = 256;
	assert_int_equal(esp_sa_init(&sa, &p, mgr), 0);
	assert_int_equal(sa.spi, 256);
	p.spi = 0xffffffff;
	assert_int_equal(esp_sa_init(&sa, &p, mgr), 0);
}

static void
test_sa_init_rejects_bad_replay_window(void **state)
{
	static const uint32_t bad[] = { 1, 32, 63, 65, 100, 1000, 1025, 3000, 8192, 0x80000000 };
	static const uint32_t good[] = { 64, 128, 256, 512, 1024, 2048, 4096 };
	struct esp_sa_params p;
	struct esp_sa sa;

	(void)state;
	params_default(&p);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p.replay_window = bad[i];
		assert_int_equal(esp_sa_init(&sa, &p, mgr), -1);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		p.replay_window = good[i];
		assert_int_equal(esp_sa_init(&sa, &p, mgr), 0);
		assert_int_equal(sa.replay.window, good[i]);
	}
	p.replay_window = 0;
	assert_int_equal(esp_sa_init(&sa, &p, mgr), 0);
	assert_int_equal(sa.replay.window, ESP_REPLAY_WINDOW_DEFAULT);
}

static void
test_sa_init_rejects_bad_aead(void **state)
{
	struct esp_sa_params p;
	struct esp_sa sa;

	(void)state;
	params_default(&p);
	p.aead = (enum esp_aead)2;
	assert_int_equal(esp_sa_init(&sa, &p, mgr), -1);
	p.aead = (enum esp_aead)-1;
	assert_int_equal(esp_sa_init(&sa, &p, mgr), -1);
	p.aead = ESP_AES_GCM_256;
	assert_int_equal(esp_sa_init(&sa, &p, mgr), 0);
	assert_int_equal(sa.aead, ESP_AES_GCM_256);
}

static void
test_aead_names_and_key_lengths(void **state)
{
	enum esp_aead aead;

	(void)state;
	assert_string_equal(esp_aead_name(ESP_AES_GCM_128), "aes-gcm-128");
	assert_string_equal(esp_aead_name(ESP_AES_GCM_256), "aes-gcm-256");
	assert_int_equal(esp_aead_from_name("aes-gcm-256", &aead), 0);
	assert_int_equal(aead, ESP_AES_GCM_256);
	assert_int_equal(esp_aead_from_name("AES-GCM-128", &aead), 0);
	assert_int_equal(aead, ESP_AES_GCM_128);
	assert_int_equal(esp_aead_from_name("aes-gcm-192", &aead), -1);
	assert_int_equal(esp_aead_key_len(ESP_AES_GCM_128), 16);
	assert_int_equal(esp_aead_key_len(ESP_AES_GCM_256), 32);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcm_spec_tc3_aes128),
		cmocka_unit_test(test_gcm_spec_tc4_aes128_aad),
		cmocka_unit_test(test_gcm_spec_tc15_aes256),
		cmocka_unit_test(test_gcm_spec_tc16_aes256_aad),
		cmocka_unit_test(test_draft_case1_aes128_esn_wrapped_low_half),
		cmocka_unit_test(test_draft_case2_aes128),
		cmocka_unit_test(test_draft_case3_aes256_padding),
		cmocka_unit_test(test_draft_case8_aes128_esn_spi_256),
		cmocka_unit_test(test_draft_case9_aes256_esn),
		cmocka_unit_test(test_draft_case12_aes128_last_seq_empty_payload),
		cmocka_unit_test(test_draft_case14_aes256_last_esn),
		cmocka_unit_test(test_draft_case17_aes128_esn_window_spans_subspaces),
		cmocka_unit_test(test_dpdk_pkt_aes_128_gcm_tunnel_packet),
		cmocka_unit_test(test_dpdk_pkt_aes_256_gcm_tunnel_packet),
		cmocka_unit_test(test_round_trip_aes128),
		cmocka_unit_test(test_round_trip_aes256),
		cmocka_unit_test(test_round_trip_aes128_esn_across_wrap),
		cmocka_unit_test(test_round_trip_aes256_esn_across_wrap),
		cmocka_unit_test(test_esn_mismatch_fails_icv),
		cmocka_unit_test(test_wire_format_header_iv_padding_trailer),
		cmocka_unit_test(test_wire_format_esn_header_carries_low_half_iv_full),
		cmocka_unit_test(test_wire_format_padding_covers_0_to_3),
		cmocka_unit_test(test_bad_padding_refused_after_good_icv),
		cmocka_unit_test(test_pad_length_beyond_payload_refused),
		cmocka_unit_test(test_next_header_not_ipv4_refused_after_good_icv),
		cmocka_unit_test(test_truncated_packets_refused),
		cmocka_unit_test(test_icv_fail_ciphertext_bit_flip),
		cmocka_unit_test(test_icv_fail_trailer_bit_flip),
		cmocka_unit_test(test_icv_fail_icv_bit_flip),
		cmocka_unit_test(test_icv_fail_spi_bit_flip),
		cmocka_unit_test(test_icv_fail_seq_bit_flip),
		cmocka_unit_test(test_icv_fail_iv_bit_flip),
		cmocka_unit_test(test_forged_far_ahead_seq_does_not_move_window),
		cmocka_unit_test(test_wrong_key_fails_icv),
		cmocka_unit_test(test_duplicate_packet_refused),
		cmocka_unit_test(test_seq_exhausted_without_esn_refuses_instead_of_wrapping),
		cmocka_unit_test(test_seq_reserve_batch_up_to_last_32bit_number),
		cmocka_unit_test(test_seq_reserve_batch_stops_at_lifetime_bytes),
		cmocka_unit_test(test_seq_continues_past_2_32_with_esn),
		cmocka_unit_test(test_soft_limit_is_three_quarters_of_the_hard_limit),
		cmocka_unit_test(test_sa_passing_its_soft_limit_is_due_for_rekey_and_still_sends),
		cmocka_unit_test(test_sa_passing_three_quarters_of_its_byte_lifetime_is_due_for_rekey),
		cmocka_unit_test(test_expired_sa_grants_no_number_and_counts_its_drops),
		cmocka_unit_test(test_lifetime_packets_outbound_stops_sending),
		cmocka_unit_test(test_lifetime_bytes_outbound_stops_sending),
		cmocka_unit_test(test_lifetime_packets_inbound_stops_accepting),
		cmocka_unit_test(test_sa_init_rejects_reserved_spi),
		cmocka_unit_test(test_sa_init_rejects_bad_replay_window),
		cmocka_unit_test(test_sa_init_rejects_bad_aead),
		cmocka_unit_test(test_aead_names_and_key_lengths),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
