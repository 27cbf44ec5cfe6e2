/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/esp with several workers: outbound sequence numbers reserved by
 * threads hammering one SA (esp_outb_seq_reserve), and the one-writer rule
 * of inbound SAs (esp_inb_owner_claim). Real threads, real races.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esp/esp.h"

#define THREADS      4
#define RESERVATIONS 50000          /* per thread */
#define BATCH_MAX    32             /* a burst's copies for one SA, at most */
#define SEQ_MAX32    0xffffffffULL

static IMB_MGR *mgr;

static void
sa_setup(struct esp_sa *sa, bool esn, uint64_t lifetime_packets)
{
	struct esp_sa_params p;

	memset(&p, 0, sizeof(p));
	p.spi = 0x1000;
	p.aead = ESP_AES_GCM_128;
	p.esn = esn;
	p.lifetime_packets = lifetime_packets;
	assert_int_equal(esp_sa_init(sa, &p, mgr), 0);
}

/* What one thread got: each reservation's first number and count. */
struct reserver {
	pthread_t thread;
	struct esp_sa *sa;
	pthread_barrier_t *start;
	unsigned int seed;
	uint64_t asked;                 /* numbers asked for */
	uint64_t granted;               /* numbers handed out */
	uint64_t refused;               /* numbers refused (not granted) */
	uint64_t nonzero_first_refused; /* refusals that returned a number: a bug */
	uint32_t n;
	uint64_t *first;
	uint32_t *count;
};

static void *
reserver_run(void *arg)
{
	struct reserver *r = arg;

	uint32_t len[BATCH_MAX];

	for (int i = 0; i < BATCH_MAX; i++)
		len[i] = 100;
	pthread_barrier_wait(r->start);
	for (uint32_t i = 0; i < RESERVATIONS; i++) {
		uint32_t n = 1 + (uint32_t)rand_r(&r->seed) % BATCH_MAX, granted;
		uint64_t first = esp_outb_seq_reserve(r->sa, n, len, &granted);

		r->asked += n;
		r->refused += n - granted;
		if (granted == 0) {
			r->nonzero_first_refused += first != 0;  /* cmocka asserts not in threads */
			continue;
		}
		r->granted += granted;
		r->first[r->n] = first;
		r->count[r->n++] = granted;
	}
	return NULL;
}

/* Run THREADS reservers on sa; returns the numbers handed out (unsorted). */
static uint64_t *
hammer(struct esp_sa *sa, struct reserver *r, uint64_t *n_out)
{
	pthread_barrier_t start;
	uint64_t total = 0, k = 0;
	uint64_t *all;

	assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
	for (int t = 0; t < THREADS; t++) {
		memset(&r[t], 0, sizeof(r[t]));
		r[t].sa = sa;
		r[t].start = &start;
		r[t].seed = 1234u + (unsigned int)t;
		r[t].first = calloc(RESERVATIONS, sizeof(uint64_t));
		r[t].count = calloc(RESERVATIONS, sizeof(uint32_t));
		assert_non_null(r[t].first);
		assert_non_null(r[t].count);
		assert_int_equal(pthread_create(&r[t].thread, NULL, reserver_run, &r[t]), 0);
	}
	for (int t = 0; t < THREADS; t++) {
		assert_int_equal(pthread_join(r[t].thread, NULL), 0);
		assert_int_equal(r[t].nonzero_first_refused, 0);
		total += r[t].granted;
	}
	pthread_barrier_destroy(&start);
	all = malloc((total ? total : 1) * sizeof(*all));
	assert_non_null(all);
	for (int t = 0; t < THREADS; t++) {
		for (uint32_t i = 0; i < r[t].n; i++) {
			/* Within a reservation, consecutive and increasing. */
			for (uint32_t j = 0; j < r[t].count[i]; j++)
				all[k++] = r[t].first[i] + j;
			/* Each thread sees its own reservations increase. */
			if (i > 0)
				assert_true(r[t].first[i] > r[t].first[i - 1]);
		}
		free(r[t].first);
		free(r[t].count);
	}
	*n_out = total;
	return all;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_seq_reserve_from_threads_no_duplicate_no_gap(void **state)
{
	struct reserver r[THREADS];
	struct esp_sa sa;
	uint64_t n, asked = 0, *all;

	(void)state;
	sa_setup(&sa, false, 0);
	all = hammer(&sa, r, &n);
	qsort(all, n, sizeof(*all), cmp_u64);
	/* The union is exactly 1..n: no number twice, none skipped. */
	for (uint64_t i = 0; i < n; i++)
		if (all[i] != i + 1)
			fail_msg("number %llu at position %llu",
				 (unsigned long long)all[i], (unsigned long long)i);
	for (int t = 0; t < THREADS; t++) {
		asked += r[t].asked;
		assert_int_equal(r[t].refused, 0);
	}
	/* Counts add up: the SA's counter, its packets and its bytes. */
	assert_int_equal(n, asked);
	assert_int_equal(sa.seq_out, n);
	assert_int_equal(esp_outb_packets(&sa), n);
	assert_int_equal(sa.bytes_out, 100 * n);
	assert_int_equal(sa.stats.expired_drops, 0);
	print_message("    %d threads, %llu numbers in %d reservations each\n", THREADS,
		      (unsigned long long)n, RESERVATIONS);
	free(all);
}

static void
test_seq_reserve_from_threads_crosses_2_32_with_esn(void **state)
{
	struct reserver r[THREADS];
	struct esp_sa sa;
	uint64_t n, *all;
	const uint64_t start = SEQ_MAX32 - 1000000;

	(void)state;
	sa_setup(&sa, true, 0);
	sa.seq_out = start;
	all = hammer(&sa, r, &n);
	qsort(all, n, sizeof(*all), cmp_u64);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(all[i], start + 1 + i);
	assert_true(all[n - 1] > SEQ_MAX32);
	assert_int_equal(sa.seq_out, start + n);
	free(all);
}

static void
test_seq_reserve_from_threads_never_passes_lifetime_packets(void **state)
{
	const uint64_t lifetime = 1000003;
	struct reserver r[THREADS];
	struct esp_sa sa;
	uint64_t n, asked = 0, refused = 0, *all;

	(void)state;
	sa_setup(&sa, false, lifetime);
	all = hammer(&sa, r, &n);
	qsort(all, n, sizeof(*all), cmp_u64);
	/* Exactly 1..lifetime: the reservation that crosses the limit gets
	 * the numbers up to it, every later one nothing. */
	assert_int_equal(n, lifetime);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(all[i], i + 1);
	for (int t = 0; t < THREADS; t++) {
		asked += r[t].asked;
		refused += r[t].refused;
	}
	assert_int_equal(n + refused, asked);
	assert_int_equal(sa.stats.expired_drops, refused);
	assert_int_equal(esp_outb_packets(&sa), n);
	free(all);
}

/* ------------------------------------------------------------- inbound */

static void
test_inbound_sa_owned_by_first_worker_others_refused(void **state)
{
	struct esp_sa sa;

	(void)state;
	sa_setup(&sa, false, 0);
	assert_int_equal(sa.inb_owner, 0);
	assert_true(esp_inb_owner_claim(&sa, 2));
	assert_true(esp_inb_owner_claim(&sa, 2));
	assert_false(esp_inb_owner_claim(&sa, 1));
	assert_false(esp_inb_owner_claim(&sa, 3));
	assert_true(esp_inb_owner_claim(&sa, 2));
	assert_int_equal(sa.inb_owner, 2);
}

/* A refused worker leaves the window alone: the owner's packets still go
 * through in any order the window allows, nothing is seen twice. */
static void
test_inbound_refused_worker_leaves_window_to_owner(void **state)
{
	struct esp_sa sa;
	uint64_t seq;

	(void)state;
	sa_setup(&sa, false, 0);
	assert_true(esp_inb_owner_claim(&sa, 1));
	assert_true(esp_replay_check(&sa.replay, 5, false, &seq));
	assert_true(esp_replay_update(&sa.replay, seq));
	/* Worker 2 got packet 7: refused before the window is read or written. */
	assert_false(esp_inb_owner_claim(&sa, 2));
	assert_int_equal(sa.replay.top, 5);
	assert_true(esp_replay_check(&sa.replay, 7, false, &seq));
	assert_true(esp_replay_update(&sa.replay, seq));
	assert_false(esp_replay_check(&sa.replay, 5, false, &seq));
}

struct claimer {
	pthread_t thread;
	struct esp_sa *sa;
	pthread_barrier_t *start;
	uint32_t worker;
	uint32_t won;
};

static void *
claimer_run(void *arg)
{
	struct claimer *c = arg;

	pthread_barrier_wait(c->start);
	for (int i = 0; i < 1000; i++)
		c->won += esp_inb_owner_claim(c->sa, c->worker);
	return NULL;
}

static void
test_inbound_owner_claim_race_has_one_winner(void **state)
{
	(void)state;
	for (int round = 0; round < 200; round++) {
		struct claimer c[THREADS];
		pthread_barrier_t start;
		struct esp_sa sa;
		int winners = 0;

		sa_setup(&sa, false, 0);
		assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
		for (int t = 0; t < THREADS; t++) {
			c[t] = (struct claimer){ .sa = &sa, .start = &start,
						 .worker = (uint32_t)t + 1 };
			assert_int_equal(pthread_create(&c[t].thread, NULL, claimer_run, &c[t]), 0);
		}
		for (int t = 0; t < THREADS; t++) {
			assert_int_equal(pthread_join(c[t].thread, NULL), 0);
			if (c[t].won) {
				winners++;
				/* The winner wins every time; the others never. */
				assert_int_equal(c[t].won, 1000);
				assert_int_equal(sa.inb_owner, c[t].worker);
			}
		}
		pthread_barrier_destroy(&start);
		assert_int_equal(winners, 1);
	}
}

static int
setup(void **state)
{
	IMB_ARCH arch;

	(void)state;
	mgr = alloc_mb_mgr(0);
	if (mgr == NULL)
		return -1;
	init_mb_mgr_auto(mgr, &arch);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free_mb_mgr(mgr);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_reserve_from_threads_no_duplicate_no_gap),
		cmocka_unit_test(test_seq_reserve_from_threads_crosses_2_32_with_esn),
		cmocka_unit_test(test_seq_reserve_from_threads_never_passes_lifetime_packets),
		cmocka_unit_test(test_inbound_sa_owned_by_first_worker_others_refused),
		cmocka_unit_test(test_inbound_refused_worker_leaves_window_to_owner),
		cmocka_unit_test(test_inbound_owner_claim_race_has_one_winner),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
