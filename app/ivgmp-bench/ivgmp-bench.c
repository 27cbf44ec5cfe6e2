/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivgmp-bench: the data path of ivgmpd (lib/worker) on one worker lcore,
 * fed by net_pcap replaying its input forever, writing to net_null.
 * doc/performance.rst says what it measures and how to compare.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_lcore.h>

#include "ivgmp_bench.h"

static int
input_dir_make(const struct bench_options *o, char *dir, size_t len)
{
	if (o->input_dir != NULL) {
		snprintf(dir, len, "%s", o->input_dir);
		return mkdir(dir, 0755) == 0 || errno == EEXIST ? 0 : -1;
	}
	snprintf(dir, len, "/tmp/ivgmp-bench.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

/* Remove what a temporary input directory holds. */
static void
input_dir_remove(const struct bench_options *o, const char *dir)
{
	char path[PATH_MAX + 64];

	if (o->input_dir != NULL)
		return;
	for (uint16_t i = 0; i < o->n_sizes; i++) {
		snprintf(path, sizeof(path), "%s/%s-%u.pcap", dir, bench_mode_name(o->mode),
			 o->sizes[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/%s-%u.conf", dir, bench_mode_name(o->mode), o->sites);
	unlink(path);
	rmdir(dir);
}

int
main(int argc, char **argv)
{
	struct bench_result results[BENCH_MAX_SIZES];
	struct bench_options o;
	char dir[PATH_MAX];
	unsigned int lcore;
	int n_eal, ret = 1;
	uint16_t done = 0;

	n_eal = rte_eal_init(argc, argv);
	if (n_eal < 0) {
		fprintf(stderr, "ivgmp-bench: EAL init failed\n");
		return 1;
	}
	argv[n_eal] = argv[0];
	ret = bench_options_parse(argc - n_eal, argv + n_eal, &o);
	if (ret != 0) {
		rte_eal_cleanup();
		return ret > 0 ? 0 : 2;
	}
	ret = 1;
	lcore = rte_get_next_lcore(-1, 1, 0);
	if (lcore >= RTE_MAX_LCORE) {
		fprintf(stderr, "ivgmp-bench: needs a worker lcore besides the main one (-l 0,1)\n");
		goto out;
	}
	if (input_dir_make(&o, dir, sizeof(dir)) < 0) {
		fprintf(stderr, "ivgmp-bench: cannot make %s\n", dir);
		goto out;
	}
	for (; done < o.n_sizes; done++)
		if (bench_run(&o, lcore, o.sizes[done], dir, done, &results[done]) < 0)
			break;
	input_dir_remove(&o, dir);
	if (done < o.n_sizes)
		goto out;
	bench_report_print(stdout, &o, lcore, results, done);
	if (o.json_path && bench_report_json(o.json_path, &o, lcore, results, done) < 0) {
		fprintf(stderr, "ivgmp-bench: cannot write %s\n", o.json_path);
		goto out;
	}
	ret = 0;
out:
	rte_eal_cleanup();
	return ret;
}
