/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the ESP anti-replay window (lib/esp/esp_replay.c): RFC 4303
 * section 3.4.3 and Appendix A, on an RFC 6479 style ring.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "esp/esp.h"

/* Check, then mark as received: what the inbound path does for a packet
 * whose ICV held. Returns whether it was accepted. */
static bool
receive(struct esp_replay *r, uint32_t seq_low, bool esn, uint64_t *seq)
{
	uint64_t s;

	if (!esp_replay_check(r, seq_low, esn, &s))
		return false;
	if (seq != NULL)
		*seq = s;
	return esp_replay_update(r, s);
}

static bool
is_new(const struct esp_replay *r, uint32_t seq_low, bool esn)
{
	uint64_t s;

	return esp_replay_check(r, seq_low, esn, &s);
}

/* Mark a full 64-bit number received (ESN), asserting it is accepted. */
static void
receive64(struct esp_replay *r, uint64_t seq)
{
	uint64_t s;

	assert_true(esp_replay_check(r, (uint32_t)seq, true, &s));
	assert_int_equal(s, seq);
	assert_true(esp_replay_update(r, s));
}

/* A window whose top is already seq, as after a run of packets up to it. */
static void
start_at(struct esp_replay *r, uint32_t window, uint64_t seq)
{
	esp_replay_init(r, window);
	assert_true(esp_replay_update(r, seq));
	assert_int_equal(r->top, seq);
}

static void
test_init_sets_window_and_clears_state(void **state)
{
	struct esp_replay r;

	(void)state;
	memset(&r, 0xa5, sizeof(r));
	esp_replay_init(&r, 1024);
	assert_int_equal(r.top, 0);
	assert_int_equal(r.window, 1024);
	for (size_t i = 0; i < sizeof(r.bitmap) / sizeof(r.bitmap[0]); i++)
		assert_int_equal(r.bitmap[i], 0);
}

static void
test_first_packet_accepted(void **state)
{
	struct esp_replay r;
	uint64_t s = 0;

	(void)state;
	esp_replay_init(&r, 1024);
	assert_true(esp_replay_check(&r, 1, false, &s));
	assert_int_equal(s, 1);
	assert_true(esp_replay_update(&r, s));
	assert_int_equal(r.top, 1);

	/* The first packet need not be number 1. */
	esp_replay_init(&r, 1024);
	assert_true(receive(&r, 5000, false, &s));
	assert_int_equal(r.top, 5000);
}

static void
test_sequence_zero_refused(void **state)
{
	struct esp_replay r;
	uint64_t s;

	(void)state;
	esp_replay_init(&r, 64);
	assert_false(esp_replay_check(&r, 0, false, &s));
	assert_false(esp_replay_check(&r, 0, true, &s));
	assert_int_equal(s, 0);
	assert_true(receive(&r, 10, false, NULL));
	assert_false(is_new(&r, 0, false));
	assert_false(is_new(&r, 0, true));
}

static void
test_in_window_new_accepted(void **state)
{
	struct esp_replay r;

	(void)state;
	esp_replay_init(&r, 1024);
	assert_true(receive(&r, 100, false, NULL));
	assert_true(is_new(&r, 90, false));
	assert_true(receive(&r, 90, false, NULL));
	assert_true(receive(&r, 99, false, NULL));
	assert_true(receive(&r, 1, false, NULL));
	/* Late arrivals do not move the top. */
	assert_int_equal(r.top, 100);
	assert_true(receive(&r, 101, false, NULL));
	assert_int_equal(r.top, 101);
}

static void
test_duplicate_refused(void **state)
{
	struct esp_replay r;

	(void)state;
	esp_replay_init(&r, 1024);
	assert_true(receive(&r, 100, false, NULL));
	assert_true(receive(&r, 90, false, NULL));
	assert_false(is_new(&r, 100, false));
	assert_false(is_new(&r, 90, false));
	assert_true(is_new(&r, 91, false));
	/* Seen meanwhile (two copies in one burst): the update refuses. */
	assert_false(esp_replay_update(&r, 90));
	assert_false(esp_replay_update(&r, 100));
	assert_int_equal(r.top, 100);
}

static void
test_too_old_refused(void **state)
{
	struct esp_replay r;

	(void)state;
	esp_replay_init(&r, 1024);
	assert_true(receive(&r, 5000, false, NULL));
	assert_false(is_new(&r, 1, false));
	assert_false(is_new(&r, 5000 - 2000, false));
	assert_false(esp_replay_update(&r, 1));
	assert_false(esp_replay_update(&r, 5000 - 1024));
	assert_int_equal(r.top, 5000);
}

static void
check_window_edge(uint32_t w)
{
	struct esp_replay r;
	uint32_t top = 100000;

	esp_replay_init(&r, w);
	assert_true(receive(&r, top, false, NULL));
	/* The window holds w numbers: top - w + 1 .. top. */
	assert_false(is_new(&r, top - w, false));
	assert_false(esp_replay_update(&r, top - w));
	assert_true(is_new(&r, top - w + 1, false));
	assert_true(receive(&r, top - w + 1, false, NULL));
	assert_false(is_new(&r, top - w + 1, false));
	/* One more step moves the edge past it. */
	assert_true(receive(&r, top + 1, false, NULL));
	assert_false(is_new(&r, top - w + 1, false));
	assert_true(is_new(&r, top - w + 2, false));
}

static void
test_window_edge_exact(void **state)
{
	(void)state;
	check_window_edge(64);
	check_window_edge(128);
	check_window_edge(1024);
	check_window_edge(4096);
}

/* A jump of more than the whole ring: the window is empty afterwards, even
 * where old bits sit in the same ring positions as new numbers. */
static void
test_far_jump_beyond_ring_accepted_and_forgets_old_bits(void **state)
{
	struct esp_replay r;
	const uint32_t w = 64, far = 1000; /* ring: 128 bits */

	(void)state;
	esp_replay_init(&r, w);
	for (uint32_t s = 1; s <= w; s++)
		assert_true(receive(&r, s, false, NULL));
	assert_true(receive(&r, far, false, NULL));
	assert_int_equal(r.top, far);
	assert_false(is_new(&r, far, false));
	/* 937 .. 999; 937..960 share ring bits with the 41..64 seen before. */
	for (uint32_t s = far - w + 1; s < far; s++)
		assert_true(is_new(&r, s, false));
	assert_false(is_new(&r, far - w, false));
	for (uint32_t s = far - w + 1; s < far; s++)
		assert_true(receive(&r, s, false, NULL));
	for (uint32_t s = far - w + 1; s <= far; s++)
		assert_false(is_new(&r, s, false));
}

/* A jump of more than the window but less than the ring. */
static void
test_jump_within_ring_clears_aliased_bits(void **state)
{
	struct esp_replay r;
	const uint32_t w = 1024, jump = 1500; /* ring: 2048 bits */

	(void)state;
	esp_replay_init(&r, w);
	for (uint32_t s = 1; s <= w; s++)
		assert_true(receive(&r, s, false, NULL));
	assert_true(receive(&r, w + jump, false, NULL));
	/* New window 1501 .. 2524; 2049 .. 2523 alias 1 .. 475, all seen. */
	for (uint32_t s = w + jump - w + 1; s < w + jump; s++)
		assert_true(is_new(&r, s, false));
	assert_false(is_new(&r, jump, false));
}

/* A slide shorter than the window keeps what is still inside it. */
static void
test_slide_keeps_seen_numbers_still_in_window(void **state)
{
	struct esp_replay r;

	(void)state;
	esp_replay_init(&r, 64);
	assert_true(receive(&r, 100, false, NULL));
	assert_true(receive(&r, 110, false, NULL));
	assert_true(receive(&r, 120, false, NULL));
	assert_true(receive(&r, 150, false, NULL)); /* window 87 .. 150 */
	assert_false(is_new(&r, 100, false));
	assert_false(is_new(&r, 110, false));
	assert_false(is_new(&r, 120, false));
	assert_true(is_new(&r, 101, false));
	assert_true(is_new(&r, 128, false));
	assert_true(is_new(&r, 149, false));
	assert_false(is_new(&r, 86, false));
	/* Across a word and a ring boundary: 100 .. 120 leave, 150 stays. */
	assert_true(receive(&r, 200, false, NULL)); /* window 137 .. 200 */
	assert_false(is_new(&r, 120, false));
	assert_false(is_new(&r, 150, false));
	assert_true(is_new(&r, 151, false));
	assert_true(is_new(&r, 137, false));
	assert_true(is_new(&r, 192, false)); /* ring position of 64 */
}

/* Every other number received over several windows: exactly the missing
 * ones in the window are new. */
static void
check_window_every_other(uint32_t w)
{
	struct esp_replay r;
	uint32_t top = 3 * w + 1;

	esp_replay_init(&r, w);
	assert_int_equal(r.window, w);
	for (uint32_t s = 1; s <= top; s += 2)
		assert_true(receive(&r, s, false, NULL));
	assert_int_equal(r.top, top);
	for (uint32_t s = top - w + 1; s <= top; s++)
		assert_int_equal(is_new(&r, s, false), (s & 1) == 0);
	assert_false(is_new(&r, top - w, false));
	assert_true(is_new(&r, top + 1, false));
	assert_true(is_new(&r, top + 2 * w, false));
}

static void
test_window_1024(void **state)
{
	(void)state;
	check_window_every_other(1024);
}

static void
test_window_4096(void **state)
{
	(void)state;
	check_window_every_other(4096);
}

static void
test_window_64(void **state)
{
	(void)state;
	check_window_every_other(64);
}

/* --- ESN: RFC 4303 Appendix A2.2 --- */

/* Case A (Tl >= W - 1): the window lies in one subspace; a low half at or
 * above its bottom is in the top's subspace, one below it in the next. */
static void
test_esn_case_a_window_in_one_subspace(void **state)
{
	struct esp_replay r;
	uint64_t s;

	(void)state;
	start_at(&r, 1024, 0x500001000ULL);
	/* Bottom: 0x1000 - 1023 = 0xc01. */
	assert_true(esp_replay_check(&r, 0xd00, true, &s));
	assert_int_equal(s, 0x500000d00ULL);
	assert_true(esp_replay_check(&r, 0xc01, true, &s));
	assert_int_equal(s, 0x500000c01ULL);
	assert_true(esp_replay_check(&r, 0x2000, true, &s));
	assert_int_equal(s, 0x500002000ULL);
	assert_true(esp_replay_check(&r, 0xc00, true, &s));
	assert_int_equal(s, 0x600000c00ULL);
	assert_false(esp_replay_check(&r, 0x1000, true, &s));
	assert_int_equal(s, 0x500001000ULL);
}

/* Case A across a wrap: the top near the end of a subspace, the packet
 * already in the next one. */
static void
test_esn_case_a_low_half_wrapped_is_next_subspace(void **state)
{
	struct esp_replay r;
	uint64_t s;

	(void)state;
	start_at(&r, 1024, 0x5fffffff0ULL);
	assert_true(esp_replay_check(&r, 5, true, &s));
	assert_int_equal(s, 0x600000005ULL);
	assert_true(esp_replay_update(&r, s));
	assert_int_equal(r.top, 0x600000005ULL);
	assert_true(esp_replay_check(&r, 0xfffffff5, true, &s));
	assert_int_equal(s, 0x5fffffff5ULL);
}

/* Case B (Tl < W - 1): the window spans two subspaces; a low half at or
 * above its bottom is in the previous subspace, one below in the top's. */
static void
test_esn_case_b_window_spans_two_subspaces(void **state)
{
	struct esp_replay r;
	uint64_t s;

	(void)state;
	start_at(&r, 1024, 0x600000005ULL);
	/* Bottom: 5 - 1024 + 1 mod 2^32 = 0xfffffc06, 1023 behind the top. */
	assert_true(esp_replay_check(&r, 0xfffffff0, true, &s));
	assert_int_equal(s, 0x5fffffff0ULL);
	assert_true(esp_replay_check(&r, 0xfffffc06, true, &s));
	assert_int_equal(s, 0x5fffffc06ULL);
	assert_true(esp_replay_update(&r, s));
	assert_int_equal(r.top, 0x600000005ULL);
	assert_true(esp_replay_check(&r, 3, true, &s));
	assert_int_equal(s, 0x600000003ULL);
	assert_true(esp_replay_check(&r, 0x100, true, &s));
	assert_int_equal(s, 0x600000100ULL);
	/* Below the bottom: taken for the top's subspace, far ahead; its ICV
	 * (computed with that high half) is what refuses a stale packet. */
	assert_true(esp_replay_check(&r, 0xfffffc05, true, &s));
	assert_int_equal(s, 0x6fffffc05ULL);
}

/* The boundary between the two cases, Tl = W - 1 and Tl = W - 2. */
static void
test_esn_case_boundary_at_w_minus_1(void **state)
{
	struct esp_replay r;
	uint64_t s;

	(void)state;
	start_at(&r, 64, 0x20000003fULL); /* Tl = 63: case A, bottom 0 */
	assert_true(esp_replay_check(&r, 0, true, &s));
	assert_int_equal(s, 0x200000000ULL);
	assert_true(esp_replay_check(&r, 0xffffffff, true, &s));
	assert_int_equal(s, 0x2ffffffffULL); /* below the bottom: next subspace */

	start_at(&r, 64, 0x20000003eULL); /* Tl = 62: case B, bottom 0xffffffff */
	assert_true(esp_replay_check(&r, 0xffffffff, true, &s));
	assert_int_equal(s, 0x1ffffffffULL);
	assert_true(esp_replay_check(&r, 0, true, &s));
	assert_int_equal(s, 0x200000000ULL);
	assert_true(esp_replay_check(&r, 0xfffffffe, true, &s));
	assert_int_equal(s, 0x2fffffffeULL);
}

/* A packet sent just before the wrap, arriving after the top moved past it,
 * is accepted while in the window, and refused as a duplicate after. */
static void
test_esn_pre_wrap_packet_after_top_crossed_wrap_accepted(void **state)
{
	struct esp_replay r;
	uint64_t s;

	(void)state;
	esp_replay_init(&r, 1024);
	for (uint64_t q = 0xfffffff0ULL; q <= 0xfffffffeULL; q++)
		if (q != 0xfffffff8ULL)
			receive64(&r, q);
	for (uint64_t q = 0x100000000ULL; q <= 0x100000003ULL; q++)
		receive64(&r, q);
	assert_int_equal(r.top, 0x100000003ULL);

	assert_true(receive(&r, 0xfffffff8, true, &s));
	assert_int_equal(s, 0xfffffff8ULL);
	assert_true(receive(&r, 0xffffffff, true, &s));
	assert_int_equal(s, 0xffffffffULL);
	assert_false(is_new(&r, 0xfffffff8, true));
	assert_false(is_new(&r, 0xfffffff5, true));
	assert_false(is_new(&r, 0, true)); /* 2^32, seen */
	assert_false(is_new(&r, 1, true));
	assert_true(is_new(&r, 4, true));
	assert_int_equal(r.top, 0x100000003ULL);
	/* Far enough behind, the same low half is older than the window. */
	for (uint64_t q = 0x100000004ULL; q <= 0x100000000ULL + 1100; q++)
		receive64(&r, q);
	assert_true(esp_replay_check(&r, 0xfffffff8, true, &s));
	/* Case A, above the bottom: the top's subspace, i.e. far ahead. */
	assert_int_equal(s, 0x1fffffff8ULL);
}

/* Low numbers in subspace 0, right after the SA starts. */
static void
test_esn_start_of_first_subspace(void **state)
{
	struct esp_replay r;
	uint64_t s;

	(void)state;
	esp_replay_init(&r, 1024);
	assert_true(receive(&r, 1, true, &s));
	assert_int_equal(s, 1);
	assert_true(receive(&r, 3, true, &s));
	assert_int_equal(s, 3);
	assert_true(receive(&r, 2, true, &s));
	assert_int_equal(s, 2);
	assert_false(is_new(&r, 2, true));
	assert_false(is_new(&r, 0, true));
}

/* Without ESN there is no next subspace: small numbers after a top near
 * 2^32 are just old. */
static void
test_no_esn_low_after_high_top_refused(void **state)
{
	struct esp_replay r;
	uint64_t s;

	(void)state;
	esp_replay_init(&r, 1024);
	assert_true(receive(&r, 0xfffffff0, false, NULL));
	assert_false(esp_replay_check(&r, 5, false, &s));
	assert_int_equal(s, 5);
	assert_false(is_new(&r, 1, false));
	assert_true(is_new(&r, 0xffffff00, false));
	assert_true(is_new(&r, 0xffffffff, false));
	assert_false(is_new(&r, 0xfffffff0 - 1024, false));
	assert_int_equal(r.top, 0xfffffff0ULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_sets_window_and_clears_state),
		cmocka_unit_test(test_first_packet_accepted),
		cmocka_unit_test(test_sequence_zero_refused),
		cmocka_unit_test(test_in_window_new_accepted),
		cmocka_unit_test(test_duplicate_refused),
		cmocka_unit_test(test_too_old_refused),
		cmocka_unit_test(test_window_edge_exact),
		cmocka_unit_test(test_far_jump_beyond_ring_accepted_and_forgets_old_bits),
		cmocka_unit_test(test_jump_within_ring_clears_aliased_bits),
		cmocka_unit_test(test_slide_keeps_seen_numbers_still_in_window),
		cmocka_unit_test(test_window_64),
		cmocka_unit_test(test_window_1024),
		cmocka_unit_test(test_window_4096),
		cmocka_unit_test(test_esn_case_a_window_in_one_subspace),
		cmocka_unit_test(test_esn_case_a_low_half_wrapped_is_next_subspace),
		cmocka_unit_test(test_esn_case_b_window_spans_two_subspaces),
		cmocka_unit_test(test_esn_case_boundary_at_w_minus_1),
		cmocka_unit_test(test_esn_pre_wrap_packet_after_top_crossed_wrap_accepted),
		cmocka_unit_test(test_esn_start_of_first_subspace),
		cmocka_unit_test(test_no_esn_low_after_high_top_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
