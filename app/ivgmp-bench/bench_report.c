/* SPDX-License-Identifier: BSD-3-Clause */
/* The table on stdout and the same figures as JSON. */
#include <inttypes.h>
#include <string.h>

#include <rte_cycles.h>

#include "ivgmp_bench.h"

static uint64_t
output_copies(const struct bench_options *o, const struct bench_result *r)
{
	return r->counters[o->mode == BENCH_ENCAP ? WORKER_CTR_esp_out_copies
						  : WORKER_CTR_lan_tx_packets];
}

static double
per(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static const char *
replay_note(const struct bench_options *o)
{
	return o->mode == BENCH_ENCAP ? "not involved (outbound)"
		: "window on (" RTE_STR(ESP_REPLAY_WINDOW_DEFAULT) "), checked and updated for every packet; reset after each "
		  "pass over the input's " RTE_STR(BENCH_DECAP_FRAMES) " sequence numbers";
}

void
bench_report_print(FILE *f, const struct bench_options *o, unsigned int lcore,
		   const struct bench_result *r, uint16_t n)
{
	fprintf(f, "ivgmp-bench %s: %u site(s), %s SA%s, AES-128-GCM, burst %u, "
		"%.1f s per size, worker lcore %u, TSC %.0f MHz\n",
		bench_mode_name(o->mode), o->sites, bench_sa_mode_name(o->sa_mode),
		o->sa_mode == BENCH_SA_GROUP ? "" : "s", o->burst, o->duration_s, lcore,
		rte_get_tsc_hz() / 1e6);
	fprintf(f, "anti-replay: %s\n", replay_note(o));
	fprintf(f, "%6s %9s %12s %9s %11s %12s %6s  %s\n", "size", "in Mpps", "out Mcopy/s",
		"out Gbps", "cycles/pkt", "cycles/copy", "core%", "drops");
	for (uint16_t i = 0; i < n; i++) {
		const struct bench_result *x = &r[i];
		uint64_t copies = output_copies(o, x);
		uint64_t busy = x->counters[WORKER_CTR_busy_cycles];
		bool any = false;

		fprintf(f, "%6u %9.3f %12.3f %9.3f %11.1f %12.1f %6.1f  ", x->size,
			x->input_packets / x->seconds / 1e6, copies / x->seconds / 1e6,
			x->output_bytes * 8.0 / x->seconds / 1e9,
			per(busy, x->input_packets), per(busy, copies),
			100.0 * x->cpu_seconds / x->seconds);
		for (int c = 0; c < WORKER_CTR_MAX; c++) {
			if (!worker_counter_is_drop(c) || x->counters[c] == 0)
				continue;
			fprintf(f, "%s%s=%" PRIu64, any ? " " : "", worker_counter_name(c),
				x->counters[c]);
			any = true;
		}
		fprintf(f, "%s\n", any ? "" : "none");
	}
	fprintf(f, "(core%%: share of the loop's wall time its thread was on the CPU;\n"
		" per second of that CPU time the rates are higher by 100/core%%)\n");
	fprintf(f, "(Gbps: Ethernet frames without FCS, preamble or gap; %s frames of ",
		o->mode == BENCH_ENCAP ? "ESP" : "LAN");
	for (uint16_t i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? "/" : "", r[i].out_frame_len);
	fprintf(f, " bytes)\n");
	if (o->sa_mode == BENCH_SA_GROUP && n > 0)
		fprintf(f, "(group SA: each packet encrypted once; a copy is %s)\n",
			r[0].wan_chained ? "a header mbuf chained to an indirect clone of the body"
					 : "a flat copy of the body (no multi-seg TX)");
}

int
bench_report_json(const char *path, const struct bench_options *o, unsigned int lcore,
		  const struct bench_result *r, uint16_t n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fprintf(f, "{\n  \"tool\": \"ivgmp-bench\",\n  \"mode\": \"%s\",\n  \"sites\": %u,\n"
		"  \"sa_mode\": \"%s\",\n  \"aead\": \"aes-gcm-128\",\n  \"burst\": %u,\n"
		"  \"duration_s\": %.3f,\n  \"worker_lcore\": %u,\n  \"tsc_hz\": %" PRIu64 ",\n"
		"  \"anti_replay\": \"%s\",\n  \"results\": [",
		bench_mode_name(o->mode), o->sites, bench_sa_mode_name(o->sa_mode), o->burst,
		o->duration_s, lcore,
		rte_get_tsc_hz(), replay_note(o));
	for (uint16_t i = 0; i < n; i++) {
		const struct bench_result *x = &r[i];
		uint64_t copies = output_copies(o, x);
		uint64_t busy = x->counters[WORKER_CTR_busy_cycles];
		bool first = true;

		fprintf(f, "%s\n    {\"size\": %u, \"output_frame_len\": %u, \"seconds\": %.6f,\n"
			"     \"cpu_seconds\": %.6f, \"input_mpps_per_cpu_s\": %.4f, "
			"\"output_mcopies_per_cpu_s\": %.4f,\n"
			"     \"input_packets\": %" PRIu64 ", \"output_copies\": %" PRIu64
			", \"output_packets\": %" PRIu64 ", \"output_bytes\": %" PRIu64 ",\n"
			"     \"input_mpps\": %.4f, \"output_mcopies_per_s\": %.4f, \"output_gbps\": %.4f,\n"
			"     \"busy_cycles\": %" PRIu64 ", \"cycles_per_input_packet\": %.2f, "
			"\"cycles_per_output_copy\": %.2f, \"replay_resets\": %" PRIu64 ",\n"
			"     \"drops\": {",
			i ? "," : "", x->size, x->out_frame_len, x->seconds, x->cpu_seconds,
			x->input_packets / x->cpu_seconds / 1e6, copies / x->cpu_seconds / 1e6,
			x->input_packets, copies,
			x->output_packets, x->output_bytes, x->input_packets / x->seconds / 1e6,
			copies / x->seconds / 1e6, x->output_bytes * 8.0 / x->seconds / 1e9,
			busy, per(busy, x->input_packets), per(busy, copies), x->replay_resets);
		for (int c = 0; c < WORKER_CTR_MAX; c++) {
			if (!worker_counter_is_drop(c) || x->counters[c] == 0)
				continue;
			fprintf(f, "%s\"%s\": %" PRIu64, first ? "" : ", ", worker_counter_name(c),
				x->counters[c]);
			first = false;
		}
		fprintf(f, "},\n     \"wan_chained\": %s,\n     \"counters\": {",
			x->wan_chained ? "true" : "false");
		first = true;
		for (int c = 0; c < WORKER_CTR_MAX; c++) {
			if (x->counters[c] == 0)
				continue;
			fprintf(f, "%s\"%s\": %" PRIu64, first ? "" : ", ", worker_counter_name(c),
				x->counters[c]);
			first = false;
		}
		fprintf(f, "}}");
	}
	fprintf(f, "\n  ]\n}\n");
	return fclose(f) == 0 ? 0 : -1;
}
