/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vnocd: the VNOC (doc/vnocd.rst). Parses arguments, opens the store, loads
 * the policy, starts the timer thread and the HTTP(S) thread pool, then
 * waits for signals on the main thread: SIGHUP reloads the policy (parsed
 * here into a new structure, swapped under the lock; a bad file is refused
 * and the policy in force stays), SIGUSR1 logs the counts of limits hit,
 * SIGTERM and SIGINT stop.
 *
 * `vnocd accounting ...` exports accounting rows as CSV instead
 * (vnocd_accounting.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "vnocd.h"

#define TIMER_MAX_SLEEP_MS 60000

static struct vnocd vnocd_state;

uint64_t
vnocd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t
vnocd_time(void)
{
	return (int64_t)time(NULL);
}

void
vnocd_log(const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03ldZ vnocd: ", ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	fputs(line, stderr);
}

bool
vnocd_group_valid(uint32_t group)
{
	uint32_t g = ntohl(group);

	/* Multicast, and not link-local control (224.0.0.0/24 never leaves
	 * a site). */
	return (g >> 28) == 0xe && (g >> 8) != 0xe00000;
}

const char *
vnocd_ip_str(uint32_t addr, char *buf)
{
	struct in_addr in = { .s_addr = addr };

	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

const char *
vnocd_roles_str(uint8_t roles)
{
	static const char *const names[] = { "none", "receive", "send", "both" };

	return names[roles & 3];
}

/* ---- timer thread: watch deadlines, SA replacement and expiry ---- */

void
vnocd_timer_kick(struct vnocd *d, uint64_t deadline_ms)
{
	if (deadline_ms < d->timer_wake_ms)
		pthread_cond_signal(&d->timer_cond);
}

int
vnocd_change(struct vnocd *d, const char *what,
	     int (*change)(struct vnocd *d, void *arg, struct vnocd_siteset *changed), void *arg)
{
	struct vnocd_siteset changed = { 0 };
	uint64_t version = 0;

	if (vnocd_store_begin(&d->store) < 0) {
		vnocd_log("store: %s", vnocd_store_error(&d->store));
		return -1;
	}
	if (change(d, arg, &changed) < 0 ||
	    (changed.n > 0 && vnocd_version_bump(d, &changed, &version) < 0) ||
	    vnocd_store_commit(&d->store) < 0) {
		vnocd_log("%s: %s", what, vnocd_store_error(&d->store));
		vnocd_store_rollback(&d->store);
		vnocd_siteset_free(&changed);
		return -1;
	}
	if (changed.n > 0)
		vnocd_watch_notify(&d->watch, &changed, version);
	vnocd_siteset_free(&changed);
	return 0;
}

/* The <rekey> counts of Heartbeats (SIGUSR1, stop; doc/vnocd.rst). */
static void
rekey_log(struct vnocd *d)
{
	pthread_mutex_lock(&d->lock);
	vnocd_log("rekey requests: received %llu, honoured %llu, already replaced %llu, "
		  "refused %llu", (unsigned long long)d->rekey_received,
		  (unsigned long long)d->rekey_honoured, (unsigned long long)d->rekey_already,
		  (unsigned long long)d->rekey_refused);
	pthread_mutex_unlock(&d->lock);
}

static int
timer_keys_change(struct vnocd *d, void *arg, struct vnocd_siteset *changed)
{
	return vnocd_keys_run(d, *(const int64_t *)arg, changed);
}

static void
timer_keys(struct vnocd *d, int64_t now)
{
	vnocd_change(d, "keys", timer_keys_change, &now);
}

static void *
timer_main(void *arg)
{
	struct vnocd *d = arg;

	pthread_mutex_lock(&d->lock);
	while (!d->stopping) {
		uint64_t now_ms = vnocd_now_ms(), wake;
		int64_t now = vnocd_time();
		struct timespec ts;

		wake = vnocd_watch_expire(&d->watch, now_ms);
		if (d->keys_next_s <= now) {
			timer_keys(d, now);
			d->keys_next_s = vnocd_keys_next_event(d);
		}
		if (d->cfg.liveness_s != 0 && d->liveness_next_s <= now) {
			vnocd_ops_expire_silent(d, now);
			/* A site is taken out at most a tenth of the timeout late. */
			d->liveness_next_s = now + (d->cfg.liveness_s / 10 ? d->cfg.liveness_s / 10 : 1);
		}
		if (d->cfg.liveness_s != 0 && (uint64_t)(d->liveness_next_s - now) * 1000 + now_ms < wake)
			wake = now_ms + (uint64_t)(d->liveness_next_s - now) * 1000;
		if (wake > now_ms + TIMER_MAX_SLEEP_MS)
			wake = now_ms + TIMER_MAX_SLEEP_MS;
		if (d->keys_next_s != INT64_MAX) {
			struct timespec rt;
			int64_t real_ms, due_ms;

			clock_gettime(CLOCK_REALTIME, &rt);
			real_ms = (int64_t)rt.tv_sec * 1000 + rt.tv_nsec / 1000000;
			due_ms = d->keys_next_s * 1000 - real_ms;
			if (due_ms < 0)
				due_ms = 0;
			if (now_ms + (uint64_t)due_ms < wake)
				wake = now_ms + (uint64_t)due_ms;
		}
		d->timer_wake_ms = wake;
		ts.tv_sec = (time_t)(wake / 1000);
		ts.tv_nsec = (long)(wake % 1000) * 1000000;
		pthread_cond_timedwait(&d->timer_cond, &d->lock, &ts);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* ---- arguments ---- */

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: vnocd --db PATH --policy PATH [--listen ADDR] [--port N]\n"
		"             (--cert FILE --key FILE --client-ca FILE [--crl FILE] |\n"
		"              --insecure-http)\n"
		"             [--threads N] [--max-connections N] [--per-ip-connections N]\n"
		"             [--connection-timeout S] [--body-max BYTES] [--header-max BYTES]\n"
		"             [--site-rate N] [--site-burst N]\n"
		"             [--heartbeat S] [--liveness-timeout S]\n"
		"             [--watch-timeout S] [--watch-timeout-max S]\n"
		"             [--sa-lifetime S] [--sa-aead aes-gcm-128|aes-gcm-256] [--sa-esn]\n"
		"       vnocd accounting --db PATH [--since ISO8601|EPOCH]\n"
		"       vnocd check-policy PATH\n"
		"See doc/vnocd.rst and doc/policy.rst.\n");
}

static int
arg_number(const char *name, const char *text, unsigned long min, unsigned long max,
	   unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || *v < min || *v > max) {
		fprintf(stderr, "vnocd: --%s: '%s' is not a number from %lu to %lu\n", name, text,
			min, max);
		return -1;
	}
	return 0;
}

static int
args_parse(int argc, char **argv, struct vnocd_config *cfg)
{
	enum {
		O_DB = 256, O_POLICY, O_LISTEN, O_PORT, O_CERT, O_KEY, O_CA, O_INSECURE,
		O_THREADS, O_MAXCONN, O_PERIP, O_CTIMEOUT, O_BODYMAX, O_HEARTBEAT, O_WATCH,
		O_WATCHMAX, O_LIFETIME, O_AEAD, O_ESN, O_LIVENESS, O_CRL, O_HEADERMAX,
		O_SITERATE, O_SITEBURST, O_HELP,
	};
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, O_DB },
		{ "policy", required_argument, NULL, O_POLICY },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "port", required_argument, NULL, O_PORT },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "client-ca", required_argument, NULL, O_CA },
		{ "crl", required_argument, NULL, O_CRL },
		{ "insecure-http", no_argument, NULL, O_INSECURE },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "max-connections", required_argument, NULL, O_MAXCONN },
		{ "per-ip-connections", required_argument, NULL, O_PERIP },
		{ "connection-timeout", required_argument, NULL, O_CTIMEOUT },
		{ "body-max", required_argument, NULL, O_BODYMAX },
		{ "header-max", required_argument, NULL, O_HEADERMAX },
		{ "site-rate", required_argument, NULL, O_SITERATE },
		{ "site-burst", required_argument, NULL, O_SITEBURST },
		{ "heartbeat", required_argument, NULL, O_HEARTBEAT },
		{ "liveness-timeout", required_argument, NULL, O_LIVENESS },
		{ "watch-timeout", required_argument, NULL, O_WATCH },
		{ "watch-timeout-max", required_argument, NULL, O_WATCHMAX },
		{ "sa-lifetime", required_argument, NULL, O_LIFETIME },
		{ "sa-aead", required_argument, NULL, O_AEAD },
		{ "sa-esn", no_argument, NULL, O_ESN },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool liveness_given = false;
	unsigned long v;
	int opt;

	*cfg = (struct vnocd_config){
		.listen_addr = "0.0.0.0",
		.port = 8443,
		.threads = 4,
		.max_connections = 4096,
		.per_ip_connections = 64,
		.connection_timeout_s = 30,
		.body_max = 1u << 20,
		.header_max = 32u << 10,
		/* A registered site re-joins all its groups at once (up to
		 * the policy's 4096, vnoc_client.c) and re-issues its long
		 * poll after every view change: neither may trip the limit. */
		.site_rate = 100,
		.site_burst = 4200,
		.heartbeat_s = 30,
		.watch_timeout_s = 30,
		.watch_timeout_max_s = 300,
		.sa_lifetime_s = 86400,
		.sa_aead = VNOCD_AEAD_AES_GCM_256,
	};
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case O_DB: cfg->db_path = optarg; break;
		case O_POLICY: cfg->policy_path = optarg; break;
		case O_LISTEN: cfg->listen_addr = optarg; break;
		case O_CERT: cfg->cert_file = optarg; break;
		case O_KEY: cfg->key_file = optarg; break;
		case O_CA: cfg->client_ca_file = optarg; break;
		case O_CRL: cfg->crl_file = optarg; break;
		case O_INSECURE: cfg->insecure_http = true; break;
		case O_ESN: cfg->sa_esn = true; break;
		case O_PORT:
			if (arg_number("port", optarg, 1, 65535, &v) < 0)
				return -1;
			cfg->port = (uint16_t)v;
			break;
		case O_THREADS:
			if (arg_number("threads", optarg, 1, 256, &v) < 0)
				return -1;
			cfg->threads = (unsigned int)v;
			break;
		case O_MAXCONN:
			if (arg_number("max-connections", optarg, 1, 1000000, &v) < 0)
				return -1;
			cfg->max_connections = (unsigned int)v;
			break;
		case O_PERIP:
			if (arg_number("per-ip-connections", optarg, 0, 1000000, &v) < 0)
				return -1;
			cfg->per_ip_connections = (unsigned int)v;
			break;
		case O_CTIMEOUT:
			if (arg_number("connection-timeout", optarg, 1, 3600, &v) < 0)
				return -1;
			cfg->connection_timeout_s = (unsigned int)v;
			break;
		case O_BODYMAX:
			if (arg_number("body-max", optarg, 1024, 64u << 20, &v) < 0)
				return -1;
			cfg->body_max = v;
			break;
		case O_HEADERMAX:
			if (arg_number("header-max", optarg, 4096, 1u << 20, &v) < 0)
				return -1;
			cfg->header_max = v;
			break;
		case O_SITERATE:
			if (arg_number("site-rate", optarg, 0, 1000000, &v) < 0)
				return -1;
			cfg->site_rate = (unsigned int)v;
			break;
		case O_SITEBURST:
			if (arg_number("site-burst", optarg, 1, 1000000, &v) < 0)
				return -1;
			cfg->site_burst = (unsigned int)v;
			break;
		case O_HEARTBEAT:
			if (arg_number("heartbeat", optarg, 1, 86400, &v) < 0)
				return -1;
			cfg->heartbeat_s = (uint32_t)v;
			break;
		case O_LIVENESS:
			if (arg_number("liveness-timeout", optarg, 0, 30ul * 86400, &v) < 0)
				return -1;
			cfg->liveness_s = (uint32_t)v;
			liveness_given = true;
			break;
		case O_WATCH:
			if (arg_number("watch-timeout", optarg, 1, 3600, &v) < 0)
				return -1;
			cfg->watch_timeout_s = (uint32_t)v;
			break;
		case O_WATCHMAX:
			if (arg_number("watch-timeout-max", optarg, 1, 3600, &v) < 0)
				return -1;
			cfg->watch_timeout_max_s = (uint32_t)v;
			break;
		case O_LIFETIME:
			if (arg_number("sa-lifetime", optarg, 10, 365ul * 86400, &v) < 0)
				return -1;
			cfg->sa_lifetime_s = (uint32_t)v;
			break;
		case O_AEAD:
			if (strcmp(optarg, "aes-gcm-128") == 0) {
				cfg->sa_aead = VNOCD_AEAD_AES_GCM_128;
			} else if (strcmp(optarg, "aes-gcm-256") == 0) {
				cfg->sa_aead = VNOCD_AEAD_AES_GCM_256;
			} else {
				fprintf(stderr, "vnocd: --sa-aead: aes-gcm-128 or aes-gcm-256\n");
				return -1;
			}
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vnocd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	/* Three heartbeats missed; a site sends one every heartbeat_s. */
	if (!liveness_given)
		cfg->liveness_s = 3 * cfg->heartbeat_s;
	if (cfg->liveness_s != 0 && cfg->liveness_s < 2 * cfg->heartbeat_s) {
		fprintf(stderr, "vnocd: --liveness-timeout %u is less than two heartbeats (%u s): "
			"live sites would be taken out\n", cfg->liveness_s, cfg->heartbeat_s);
		return -1;
	}
	if (cfg->db_path == NULL || cfg->policy_path == NULL) {
		fprintf(stderr, "vnocd: --db and --policy are required\n");
		usage(stderr);
		return -1;
	}
	if (cfg->insecure_http &&
	    (cfg->cert_file || cfg->key_file || cfg->client_ca_file || cfg->crl_file)) {
		fprintf(stderr, "vnocd: --insecure-http takes no --cert, --key, --client-ca or "
			"--crl\n");
		return -1;
	}
	if (!cfg->insecure_http && (!cfg->cert_file || !cfg->key_file || !cfg->client_ca_file)) {
		fprintf(stderr, "vnocd: TLS needs --cert, --key and --client-ca "
				"(or --insecure-http, for tests)\n");
		return -1;
	}
	if (cfg->watch_timeout_s > cfg->watch_timeout_max_s)
		cfg->watch_timeout_max_s = cfg->watch_timeout_s;
	return 0;
}

/* Connections are file descriptors: take what the hard limit allows. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* One vnocd per database: a second one would fork its versions. */
static int
db_lock(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr, "vnocd: %s: %s\n", path,
			fd < 0 ? strerror(errno) : "in use by another vnocd");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;                      /* kept open: SQLite's own locks live on */
}

static int
check_policy_main(int argc, char **argv)
{
	struct vnocd_policy *p;
	char err[512];

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	p = vnocd_policy_load(argv[1], err, sizeof(err));
	if (p == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%s: %u rules, max-groups-per-site %u, max-sites-per-group %u\n", argv[1],
	       vnocd_policy_rule_count(p), vnocd_policy_max_groups_per_site(p),
	       vnocd_policy_max_sites_per_group(p));
	vnocd_policy_free(p);
	return 0;
}

static void
policy_reload(struct vnocd *d)
{
	char err[512];
	struct vnocd_policy *p = vnocd_policy_load(d->cfg.policy_path, err, sizeof(err));

	if (p == NULL) {
		vnocd_log("policy: reload refused, the policy in force stays: %s", err);
		return;
	}
	vnocd_log("policy: reloading %s", d->cfg.policy_path);
	vnocd_ops_policy_swap(d, p);
}

/* At start (fatal if bad) and on SIGHUP (a bad file keeps the list in force). */
static int
crl_reload(struct vnocd *d, bool at_start)
{
	struct vnocd_crl *c, *old;
	char err[512];

	if (d->cfg.crl_file == NULL)
		return 0;
	c = vnocd_crl_load(d->cfg.crl_file, d->cfg.client_ca_file, err, sizeof(err));
	if (c == NULL) {
		if (at_start)
			fprintf(stderr, "vnocd: --crl %s\n", err);
		else
			vnocd_log("crl: reload refused, the revocations in force stay: %s", err);
		return -1;
	}
	pthread_mutex_lock(&d->lock);
	old = d->crl;
	d->crl = c;
	pthread_mutex_unlock(&d->lock);
	vnocd_crl_free(old);
	vnocd_log("crl: %s: %u revoked certificate(s)", d->cfg.crl_file, vnocd_crl_entries(c));
	return 0;
}

int
main(int argc, char **argv)
{
	struct vnocd *d = &vnocd_state;
	struct vnocd_policy *policy;
	pthread_condattr_t ca;
	sigset_t set;
	char err[512];
	int lock_fd, sig;

	if (argc > 1 && strcmp(argv[1], "accounting") == 0)
		return vnocd_accounting_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "check-policy") == 0)
		return check_policy_main(argc - 1, argv + 1);
	if (args_parse(argc, argv, &d->cfg) < 0)
		return 2;

	/* Signals go to the main thread's sigwait only: block them before
	 * any thread (MHD's included) exists. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();

	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->timer_cond, &ca);
	pthread_condattr_destroy(&ca);

	if (vnocd_store_open(&d->store, d->cfg.db_path, false, err, sizeof(err)) < 0) {
		fprintf(stderr, "vnocd: %s\n", err);
		return 1;
	}
	lock_fd = db_lock(d->cfg.db_path);
	if (lock_fd < 0) {
		vnocd_store_close(&d->store);
		return 1;
	}
	policy = vnocd_policy_load(d->cfg.policy_path, err, sizeof(err));
	if (policy == NULL) {
		fprintf(stderr, "vnocd: %s\n", err);
		vnocd_store_close(&d->store);
		return 1;
	}
	/* The file may have changed while vnocd was down: apply it as a
	 * reload would. */
	vnocd_ops_policy_swap(d, policy);
	if (crl_reload(d, true) < 0) {
		vnocd_store_close(&d->store);
		return 1;
	}

	d->limits = vnocd_limits_create(d->cfg.site_rate, d->cfg.site_burst);
	d->deadlines = d->limits != NULL ? vnocd_deadlines_start(d->limits) : NULL;
	if (d->deadlines == NULL) {
		fprintf(stderr, "vnocd: cannot start the slow-client thread\n");
		return 1;
	}
	d->timer_wake_ms = UINT64_MAX;
	d->started_s = vnocd_time();
	d->liveness_next_s = d->started_s + (int64_t)d->cfg.liveness_s;
	if (pthread_create(&d->timer, NULL, timer_main, d) != 0) {
		fprintf(stderr, "vnocd: cannot start the timer thread\n");
		return 1;
	}
	if (d->cfg.insecure_http)
		vnocd_log("WARNING: --insecure-http: no TLS, sites named by the X-Ivgmp-Site "
			  "header. For tests only.");
	if (vnocd_http_start(d, err, sizeof(err)) < 0) {
		vnocd_log("%s", err);
		pthread_mutex_lock(&d->lock);
		d->stopping = true;
		pthread_cond_signal(&d->timer_cond);
		pthread_mutex_unlock(&d->lock);
		pthread_join(d->timer, NULL);
		vnocd_store_close(&d->store);
		return 1;
	}
	vnocd_log("listening on %s:%u (%s, %u threads), database %s", d->cfg.listen_addr,
		  d->cfg.port, d->cfg.insecure_http ? "http" : "https", d->cfg.threads,
		  d->cfg.db_path);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			policy_reload(d);
			crl_reload(d, false);
			continue;
		}
		if (sig == SIGUSR1) {
			vnocd_limits_log(d->limits);
			rekey_log(d);
			continue;
		}
		vnocd_log("signal %d: stopping", sig);
		break;
	}

	vnocd_http_stop(d);
	/* After MHD: its last connections leave the deadline list as they close. */
	vnocd_deadlines_stop(d->deadlines);
	vnocd_limits_log(d->limits);
	rekey_log(d);
	vnocd_limits_free(d->limits);
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	pthread_cond_signal(&d->timer_cond);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->timer, NULL);
	vnocd_store_close(&d->store);
	vnocd_policy_free(d->policy);
	vnocd_crl_free(d->crl);
	close(lock_fd);
	return 0;
}
