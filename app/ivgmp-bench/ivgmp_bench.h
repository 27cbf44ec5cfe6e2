/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_BENCH_H
#define IVGMP_BENCH_H

/*
 * ivgmp-bench's wiring: for each frame size, a site configuration (text,
 * parsed by lib/conf), an input pcap replayed forever by net_pcap
 * (infinite_rx), output to net_null, and one worker lcore running lib/worker's
 * burst functions on a snapshot built by lib/fwd (fwd_conf.h) as ivgmpd
 * builds it.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "conf/conf.h"
#include "worker/worker.h"

#define BENCH_MAX_SIZES   8
#define BENCH_MAX_SITES   255
#define BENCH_GROUP       "239.1.1.1"
/* Decap input: this many frames, sequence numbers 1..BENCH_DECAP_FRAMES. */
#define BENCH_DECAP_FRAMES 2048

enum bench_mode {
	BENCH_ENCAP,
	BENCH_DECAP,
};

enum bench_sa_mode {
	BENCH_SA_PAIRWISE,                  /* one SA per site: N encryptions */
	BENCH_SA_GROUP,                     /* one group SA: one encryption, N headers */
};

struct bench_options {
	enum bench_mode mode;
	enum bench_sa_mode sa_mode;
	bool group_flat;                    /* group mode: flat copies, not chained */
	uint16_t sites;
	uint16_t n_sizes;
	uint16_t sizes[BENCH_MAX_SIZES];    /* frame lengths without FCS */
	uint16_t burst;
	double duration_s;
	const char *json_path;              /* NULL: no JSON */
	const char *input_dir;              /* NULL: a temporary directory */
};

/* What one size's run measured. */
struct bench_result {
	uint16_t size;
	uint16_t out_frame_len;
	double seconds;                     /* the worker's loop, by TSC */
	double cpu_seconds;                 /* of those, on the CPU (not preempted) */
	uint64_t input_packets;
	uint64_t output_packets;            /* what net_null took */
	uint64_t output_bytes;
	uint64_t replay_resets;             /* decap: passes over the input */
	bool wan_chained;                   /* the WAN port took chained mbufs */
	uint64_t counters[WORKER_CTR_MAX];
};

/* bench_options.c: 0, 1 after --help, -1 after a message on stderr. */
const char *bench_sa_mode_name(enum bench_sa_mode sa_mode);
int bench_options_parse(int argc, char **argv, struct bench_options *o);
const char *bench_mode_name(enum bench_mode mode);

/* bench_input.c: the configuration text and the input frames. */
char *bench_conf_text(const struct bench_options *o, const char *lan_port,
		      const char *wan_port);
/* Write the input pcap of one size; returns the number of frames or -1. */
int bench_input_write(const struct bench_options *o, const struct conf *conf,
		      uint16_t size, const char *path);
/* Length of what leaves the output port for one input frame of size. */
uint16_t bench_output_frame_len(enum bench_mode mode, uint16_t size);

/* bench_run.c: one size, on worker lcore lcore. 0 or -1 (message printed). */
int bench_run(const struct bench_options *o, unsigned int lcore, uint16_t size,
	      const char *dir, unsigned int index, struct bench_result *r);

/* bench_report.c */
void bench_report_print(FILE *f, const struct bench_options *o, unsigned int lcore,
			const struct bench_result *r, uint16_t n);
int bench_report_json(const char *path, const struct bench_options *o, unsigned int lcore,
		      const struct bench_result *r, uint16_t n);

#endif
