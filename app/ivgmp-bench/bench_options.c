/* SPDX-License-Identifier: BSD-3-Clause */
/* The command line after EAL's "--". */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ivgmp_bench.h"

static const char usage[] =
	"ivgmp-bench [EAL options] -- --mode encap|decap --sites N\n"
	"            [--sizes 64,512,1400] [--sa-mode pairwise|group] [--burst B]\n"
	"            [--duration S] [--json FILE] [--input-dir DIR]\n"
	"            [--group-copies chained|flat]\n"
	"  --mode encap   LAN multicast in, one ESP copy per site out (WAN)\n"
	"  --mode decap   ESP from one site in, the inner multicast out (LAN)\n"
	"  --sites N      remote sites the group is sent to (encap), 1..255\n"
	"  --sa-mode M    encap: pairwise (one SA per site, default) or group (one\n"
	"                 group SA: each packet encrypted once for every site)\n"
	"  --sizes LIST   input frame lengths in bytes, without FCS (decap: the\n"
	"                 inner frame, as it leaves on the LAN)\n"
	"  --burst B      RX burst, 1..32 (default 32)\n"
	"  --duration S   seconds per size (default 5)\n"
	"  --json FILE    also write the results as JSON\n"
	"  --input-dir D  keep the input pcaps and configurations in D\n"
	"  --group-copies chained|flat  group mode: a copy is a header mbuf chained\n"
	"                 to a clone of the encrypted body (default; net_null frees\n"
	"                 chains though it does not announce multi-seg TX), or a\n"
	"                 flat copy, as ivgmpd makes on a port without multi-seg TX\n";

const char *
bench_mode_name(enum bench_mode mode)
{
	return mode == BENCH_ENCAP ? "encap" : "decap";
}

const char *
bench_sa_mode_name(enum bench_sa_mode sa_mode)
{
	return sa_mode == BENCH_SA_GROUP ? "group" : "pairwise";
}

static int
fail(const char *msg, const char *arg)
{
	fprintf(stderr, "ivgmp-bench: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	return -1;
}

static int
sizes_parse(const char *s, struct bench_options *o)
{
	char *copy = strdup(s), *save = NULL;

	o->n_sizes = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *end;
		long v = strtol(t, &end, 10);

		if (*end != '\0' || v < 64 || v > 1460 || o->n_sizes == BENCH_MAX_SIZES) {
			free(copy);
			return fail("--sizes takes up to 8 frame lengths of 64..1460 bytes", s);
		}
		o->sizes[o->n_sizes++] = (uint16_t)v;
	}
	free(copy);
	return o->n_sizes ? 0 : fail("--sizes is empty", s);
}

static int
long_parse(const char *name, const char *s, long min, long max, long *v)
{
	char *end;

	*v = strtol(s, &end, 10);
	if (*end != '\0' || *v < min || *v > max) {
		fprintf(stderr, "ivgmp-bench: %s %s: expected %ld..%ld\n", name, s, min, max);
		return -1;
	}
	return 0;
}

int
bench_options_parse(int argc, char **argv, struct bench_options *o)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "sites", required_argument, NULL, 'n' },
		{ "sizes", required_argument, NULL, 's' },
		{ "sa-mode", required_argument, NULL, 'a' },
		{ "burst", required_argument, NULL, 'b' },
		{ "duration", required_argument, NULL, 'd' },
		{ "json", required_argument, NULL, 'j' },
		{ "input-dir", required_argument, NULL, 'i' },
		{ "group-copies", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_mode = false;
	long v;
	int c;

	*o = (struct bench_options){ .sites = 1, .burst = WORKER_BURST, .duration_s = 5,
				     .n_sizes = 3, .sizes = { 64, 512, 1400 } };
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (strcmp(optarg, "relay") == 0)
				return fail("--mode relay is not built yet (issue #8: relay sites)", NULL);
			if (strcmp(optarg, "encap") != 0 && strcmp(optarg, "decap") != 0)
				return fail("--mode takes encap or decap", optarg);
			o->mode = strcmp(optarg, "encap") == 0 ? BENCH_ENCAP : BENCH_DECAP;
			have_mode = true;
			break;
		case 'n':
			if (long_parse("--sites", optarg, 1, BENCH_MAX_SITES, &v) < 0)
				return -1;
			o->sites = (uint16_t)v;
			break;
		case 's':
			if (sizes_parse(optarg, o) < 0)
				return -1;
			break;
		case 'a':
			if (strcmp(optarg, "group") == 0)
				o->sa_mode = BENCH_SA_GROUP;
			else if (strcmp(optarg, "pairwise") == 0)
				o->sa_mode = BENCH_SA_PAIRWISE;
			else
				return fail("--sa-mode takes pairwise or group", optarg);
			break;
		case 'b':
			if (long_parse("--burst", optarg, 1, WORKER_BURST, &v) < 0)
				return -1;
			o->burst = (uint16_t)v;
			break;
		case 'd': {
			char *end;

			o->duration_s = strtod(optarg, &end);
			if (*end != '\0' || !(o->duration_s >= 0.1 && o->duration_s <= 3600))
				return fail("--duration takes 0.1..3600 seconds", optarg);
			break;
		}
		case 'j':
			o->json_path = optarg;
			break;
		case 'i':
			o->input_dir = optarg;
			break;
		case 'g':
			if (strcmp(optarg, "flat") == 0)
				o->group_flat = true;
			else if (strcmp(optarg, "chained") == 0)
				o->group_flat = false;
			else
				return fail("--group-copies takes chained or flat", optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			fputs(usage, stderr);
			return -1;
		}
	}
	if (optind < argc)
		return fail("unexpected argument", argv[optind]);
	if (!have_mode)
		return fail("--mode encap|decap is required", NULL);
	if (o->mode == BENCH_DECAP && o->sites != 1)
		return fail("--mode decap takes --sites 1 (one inbound SA)", NULL);
	/* A receiver finds a group SA by its SPI like any inbound SA: decap has
	 * nothing of its own to measure in group mode. */
	if (o->mode == BENCH_DECAP && o->sa_mode == BENCH_SA_GROUP)
		return fail("--sa-mode group is for --mode encap (decap is the same either way)",
			    NULL);
	return 0;
}
