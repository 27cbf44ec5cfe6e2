/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * app/ivgmpd/ivgmpd_vnoc_view.c: the VNOC's views into the edge's SAs.
 * Break before unmake: an inbound SA that leaves the view decrypts for a
 * few seconds more, so that what its sender sent before it applied its own
 * view is not dropped as an unknown SPI. The snapshot publisher is a stub
 * that records the inbound SPIs it would publish.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>

#include "ivgmpd.h"

#define LINGER_MS 5000      /* IVGMPD_SA_LINGER_MS */
#define SPI_A 0x1000
#define SPI_B 0x2000

static uint64_t clock_ms;
static unsigned int publishes;
static uint32_t published_spis[8];
static unsigned int n_published;

uint64_t
ivgmpd_now_ms(void)
{
	return clock_ms;
}

int
ivgmpd_state_publish(struct ivgmpd *d)
{
	publishes++;
	n_published = 0;
	for (uint32_t i = 0; i < d->vnoc.n_sas && n_published < RTE_DIM(published_spis); i++)
		if (d->vnoc.sas[i].inbound)
			published_spis[n_published++] = d->vnoc.sas[i].sa->spi;
	return 0;
}

void
ivgmpd_event(const char *fmt, ...)
{
	(void)fmt;
}

static bool
published(uint32_t spi)
{
	for (unsigned int i = 0; i < n_published; i++)
		if (published_spis[i] == spi)
			return true;
	return false;
}

static struct vnoc_sa
inbound_sa(const char *peer, uint32_t spi, uint8_t key_byte)
{
	struct vnoc_sa v = { .inbound = true, .spi = spi, .key_len = 16, .lifetime_s = 3600 };

	snprintf(v.peer, sizeof(v.peer), "%s", peer);
	memset(v.key, key_byte, v.key_len);
	memset(v.salt, key_byte, sizeof(v.salt));
	return v;
}

static struct conf conf;
static struct ivgmpd dev;

static int
setup(void **state)
{
	IMB_ARCH arch;

	(void)state;
	memset(&dev, 0, sizeof(dev));
	snprintf(conf.site_id, sizeof(conf.site_id), "B");
	conf.replay_window = 64;
	dev.conf = &conf;
	dev.mb = alloc_mb_mgr(0);
	if (dev.mb == NULL)
		return -1;
	init_mb_mgr_auto(dev.mb, &arch);
	clock_ms = 1000;
	publishes = 0;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ivgmpd_vnoc_view_free(&dev);
	free_mb_mgr(dev.mb);
	return 0;
}

static void
test_inbound_sa_gone_from_the_view_decrypts_until_the_grace_ends(void **state)
{
	struct vnoc_sa sa = inbound_sa("A", SPI_A, 0x11);
	struct vnoc_view with = { .version = 1, .n_sas = 1, .sas = &sa };
	struct vnoc_view without = { .version = 2 };

	(void)state;
	assert_int_equal(ivgmpd_vnoc_view_apply(&dev, &with), 0);
	assert_true(published(SPI_A));

	/* The site left: the view has the SA no more, the snapshot still has it. */
	clock_ms = 2000;
	assert_int_equal(ivgmpd_vnoc_view_apply(&dev, &without), 0);
	assert_true(published(SPI_A));
	assert_int_equal(dev.vnoc.n_sas, 1);
	assert_int_equal(dev.vnoc.sas[0].linger_until_ms, 2000 + LINGER_MS);
	assert_int_equal(dev.vnoc.n_peers, 0);

	/* A later view does not restart the grace. */
	clock_ms = 4000;
	without.version = 3;
	assert_int_equal(ivgmpd_vnoc_view_apply(&dev, &without), 0);
	assert_int_equal(dev.vnoc.sas[0].linger_until_ms, 2000 + LINGER_MS);

	clock_ms = 2000 + LINGER_MS - 1;
	publishes = 0;
	assert_int_equal(ivgmpd_vnoc_view_linger_end(&dev, clock_ms), 0);
	assert_int_equal(publishes, 0);
	assert_int_equal(dev.vnoc.n_sas, 1);

	clock_ms = 2000 + LINGER_MS;
	assert_int_equal(ivgmpd_vnoc_view_linger_end(&dev, clock_ms), 0);
	assert_int_equal(publishes, 1);
	assert_false(published(SPI_A));
	assert_int_equal(dev.vnoc.n_sas, 0);
}

static void
test_outbound_sa_gone_from_the_view_stops_at_once(void **state)
{
	struct vnoc_sa sa = inbound_sa("A", SPI_A, 0x11);
	struct vnoc_view with = { .version = 1, .n_sas = 1, .sas = &sa };
	struct vnoc_view without = { .version = 2 };

	(void)state;
	sa.inbound = false;
	assert_int_equal(ivgmpd_vnoc_view_apply(&dev, &with), 0);
	assert_int_equal(ivgmpd_vnoc_view_apply(&dev, &without), 0);
	assert_int_equal(dev.vnoc.n_sas, 0);
}

static void
test_inbound_sa_back_in_the_view_is_the_views_again(void **state)
{
	struct vnoc_sa sa = inbound_sa("A", SPI_A, 0x11);
	struct vnoc_view with = { .version = 1, .n_sas = 1, .sas = &sa };
	struct vnoc_view without = { .version = 2 };
	struct esp_sa *held;

	(void)state;
	assert_int_equal(ivgmpd_vnoc_view_apply(&dev, &with), 0);
	held = dev.vnoc.sas[0].sa;
	assert_int_equal(ivgmpd_vnoc_view_apply(&dev, &without), 0);
	with.version = 3;
	assert_int_equal(ivgmpd_vnoc_view_apply(&dev, &with), 0);
	assert_int_equal(dev.vnoc.n_sas, 1);
	assert_ptr_equal(dev.vnoc.sas[0].sa, held);     /* replay window kept */
	assert_int_equal(dev.vnoc.sas[0].linger_until_ms, 0);
	clock_ms += LINGER_MS;
	assert_int_equal(ivgmpd_vnoc_view_linger_end(&dev, clock_ms), 0);
	assert_int_equal(dev.vnoc.n_sas, 1);
}

static void
test_lingering_sa_gives_its_spi_to_a_new_sa_of_the_view(void **state)
{
	struct vnoc_sa old = inbound_sa("A", SPI_A, 0x11);
	struct vnoc_sa reuse[2] = { inbound_sa("C", SPI_A, 0x22), inbound_sa("A", SPI_B, 0x33) };
	struct vnoc_view v1 = { .version = 1, .n_sas = 1, .sas = &old };
	struct vnoc_view v2 = { .version = 2, .n_sas = 2, .sas = reuse };

	(void)state;
	assert_int_equal(ivgmpd_vnoc_view_apply(&dev, &v1), 0);
	assert_int_equal(ivgmpd_vnoc_view_apply(&dev, &v2), 0);
	assert_int_equal(dev.vnoc.n_sas, 2);
	assert_string_equal(dev.vnoc.sas[0].peer, "C");
	assert_int_equal(dev.vnoc.sas[0].linger_until_ms, 0);
	assert_int_equal(dev.vnoc.sas[1].linger_until_ms, 0);
}

int
main(void)
{
	char prefix[64];
	char *argv[] = { "test_ivgmpd_vnoc_view", "--no-huge", "-m", "64", "--no-pci", "-l", "0",
			 "--log-level", "warning", "--no-shconf", "--file-prefix", prefix };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_inbound_sa_gone_from_the_view_decrypts_until_the_grace_ends, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_outbound_sa_gone_from_the_view_stops_at_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbound_sa_back_in_the_view_is_the_views_again,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_lingering_sa_gives_its_spi_to_a_new_sa_of_the_view, setup, teardown),
	};

	snprintf(prefix, sizeof(prefix), "ivgmp-unit-vnoc-view-%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv), argv) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
