/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMP_VNOCD_H
#define IVGMP_VNOCD_H

/*
 * vnocd: the VNOC (001_aebc90bc0c46f8cb.txt 3.2, 4). Internals shared by its
 * files:
 *   vnocd.c             arguments, signals, wiring, the timer thread
 *   vnocd_http.c        libmicrohttpd: TLS identity, request bodies, answers
 *   vnocd_store.c       SQLite: schema and every SQL statement
 *   vnocd_policy.c      the policy file (doc/policy.rst)
 *   vnocd_ops.c         the operations
 *   vnocd_view.c        a site's view, versions
 *   vnocd_keys.c        pairwise SAs: creation, replacement, expiry
 *   vnocd_watch.c       WatchUpdates long polls (suspended connections)
 *   vnocd_accounting.c  accounting rows, GetAccounting, the CSV export
 *   vnocd_limits.c      per-site request rate, counters of limits hit
 *   vnocd_deadline.c    slow clients: a whole request within the timeout
 *
 * One mutex (struct vnocd.lock) guards the store, the policy pointer and the
 * waiters: every operation runs whole under it, so an operation sees and
 * leaves a consistent state and the version seen by a waiter never goes
 * back. The HTTP threads only parse and encode outside it.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "vnoc/vnoc.h"

/* The values of enum esp_aead (lib/esp), which vnoc_sa.aead carries. */
#define VNOCD_AEAD_AES_GCM_128 0
#define VNOCD_AEAD_AES_GCM_256 1

#define VNOCD_ADMIN_ID "admin"
#define VNOCD_SPI_MIN 256               /* 1..255 are reserved (RFC 4303 2.1) */
#define VNOCD_REASON_MAX 160

struct vnocd_config {
	const char *listen_addr;        /* IPv4 address to bind */
	uint16_t port;
	const char *cert_file;          /* the server's certificate (PEM) */
	const char *key_file;           /* ... and its key */
	const char *client_ca_file;     /* the CA that signs site certificates */
	const char *crl_file;           /* revoked site certificates; NULL: none */
	bool insecure_http;             /* tests: no TLS, site id from a header */
	const char *db_path;
	const char *policy_path;
	unsigned int threads;           /* MHD thread pool */
	unsigned int max_connections;
	unsigned int per_ip_connections; /* 0: no per-address limit */
	unsigned int connection_timeout_s; /* idle, and for a whole request */
	size_t body_max;                /* request body limit, bytes */
	size_t header_max;              /* a connection's memory for the request
					 * line and headers (MHD's pool) */
	unsigned int site_rate;         /* requests per second per site; 0: none */
	unsigned int site_burst;        /* ... and the bucket's depth */
	uint32_t heartbeat_s;           /* told to sites */
	uint32_t liveness_s;            /* a site silent this long is taken out;
					 * 0 = never */
	uint32_t watch_timeout_s;       /* told to sites; default long poll */
	uint32_t watch_timeout_max_s;   /* a longer wait asked for is cut */
	uint32_t sa_lifetime_s;
	uint8_t sa_aead;                /* VNOCD_AEAD_* */
	bool sa_esn;
};

/* ---- store (vnocd_store.c) ---- */

/* Every statement vnocd runs, prepared once. */
enum vnocd_sql {
	VNOCD_SQL_BEGIN,
	VNOCD_SQL_COMMIT,
	VNOCD_SQL_ROLLBACK,
	VNOCD_SQL_VERSION_GET,
	VNOCD_SQL_VERSION_SET,
	VNOCD_SQL_SITE_GET,
	VNOCD_SQL_SITE_INSERT,
	VNOCD_SQL_SITE_UPDATE,
	VNOCD_SQL_SITE_HEARTBEAT,
	VNOCD_SQL_SITE_VIEW_VERSION_SET,
	VNOCD_SQL_SITE_PEERS,           /* sites sharing a group with ?1 */
	VNOCD_SQL_SITES_SILENT,         /* not seen since ?1 (nor since ?2) */
	VNOCD_SQL_SITE_SAS_DELETE,      /* every SA ?1 is an end of */
	VNOCD_SQL_SITE_DELETE,
	VNOCD_SQL_MEMBERSHIP_GET,
	VNOCD_SQL_MEMBERSHIP_PUT,
	VNOCD_SQL_MEMBERSHIP_DELETE,
	VNOCD_SQL_MEMBERSHIP_ALL,
	VNOCD_SQL_SITE_GROUP_COUNT,
	VNOCD_SQL_SITE_GROUPS,
	VNOCD_SQL_GROUP_MEMBER_COUNT,
	VNOCD_SQL_GROUP_MEMBERS,        /* with each member's site row */
	VNOCD_SQL_GROUPS_ALL,
	VNOCD_SQL_PAIR_NEEDED,
	VNOCD_SQL_SA_CURRENT_EXISTS,
	VNOCD_SQL_SA_CURRENT_FROM,      /* current SAs sent by ?1 */
	VNOCD_SQL_SA_PENDING_TO,        /* SAs to ?1 not yet their sender's */
	VNOCD_SQL_SA_SPI_TAKEN,
	VNOCD_SQL_SPI_TAKEN_ANYWHERE,   /* ?2 by any SA, pairwise or group */
	VNOCD_SQL_GSA_CURRENT_EXISTS,
	VNOCD_SQL_GSA_INSERT,
	VNOCD_SQL_GSA_CURRENT_OF_GROUP, /* id, sender of group ?1's current SAs */
	VNOCD_SQL_GSA_CURRENT_FROM,     /* id, sender, group of ?1's current SAs */
	VNOCD_SQL_GSA_RECEIVERS,        /* receivers of group ?1 other than ?2 */
	VNOCD_SQL_GSA_SUPERSEDE_BY,     /* superseded, expiring by ?2 at the latest */
	VNOCD_SQL_GSA_DELETE_SENDER,    /* ?1's SAs of group ?2 */
	VNOCD_SQL_GSA_DELETE_SITE,      /* every SA ?1 sends */
	VNOCD_SQL_GSA_REKEY_DUE,
	VNOCD_SQL_GSA_ACTIVATE_DUE,
	VNOCD_SQL_GSA_ACTIVATE,
	VNOCD_SQL_GSA_EXPIRED,
	VNOCD_SQL_GSA_DELETE,
	VNOCD_SQL_GSA_INBOUND,          /* for a view */
	VNOCD_SQL_GSA_OUTBOUND,         /* for a view */
	VNOCD_SQL_SA_INSERT,
	VNOCD_SQL_SA_DELETE_PAIR,
	VNOCD_SQL_SA_COUNT_CURRENT,     /* current SAs with ?1 at one end */
	VNOCD_SQL_SA_INBOUND,           /* for a view */
	VNOCD_SQL_SA_OUTBOUND,          /* for a view */
	VNOCD_SQL_SA_REKEY_DUE,
	VNOCD_SQL_SA_SUPERSEDE,
	VNOCD_SQL_SA_ACTIVATE_DUE,
	VNOCD_SQL_SA_ACTIVATE,
	VNOCD_SQL_SA_EXPIRED,
	VNOCD_SQL_SA_DELETE,
	VNOCD_SQL_SA_NEXT_EVENT,
	VNOCD_SQL_SA_OF_SENDER_SPI,     /* ?1's SAs in its view with SPI ?2 */
	VNOCD_SQL_GSA_OF_SENDER_SPI,    /* the same for group SAs */
	VNOCD_SQL_ACCOUNTING_ADD,
	VNOCD_SQL_ACCOUNTING_SINCE,
	VNOCD_SQL_MAX
};

struct vnocd_store {
	sqlite3 *db;
	sqlite3_stmt *stmt[VNOCD_SQL_MAX];
	char path[256];
};

/* Opens (creating when absent, unless read_only) the database: WAL,
 * synchronous=FULL, the schema. Returns 0 or -1 with why in err. */
int vnocd_store_open(struct vnocd_store *st, const char *path, bool read_only,
		     char *err, size_t err_len);
void vnocd_store_close(struct vnocd_store *st);
/* The statement, reset and with its bindings cleared. */
sqlite3_stmt *vnocd_store_stmt(struct vnocd_store *st, enum vnocd_sql id);
/* Runs a statement that returns no row (or whose rows do not matter). */
int vnocd_store_exec(struct vnocd_store *st, sqlite3_stmt *s);
const char *vnocd_store_error(const struct vnocd_store *st);
int vnocd_store_begin(struct vnocd_store *st);
int vnocd_store_commit(struct vnocd_store *st);
void vnocd_store_rollback(struct vnocd_store *st);
int vnocd_store_version(struct vnocd_store *st, uint64_t *version);

struct vnocd_site {
	char id[VNOC_SITE_ID_MAX];
	uint32_t wan_addr;              /* network byte order */
	bool udp_encap;
	char software[64];
	int64_t registered;             /* Unix time, s */
	int64_t last_seen;
	uint64_t view_version;          /* the version of this site's view */
};

/* 0 and *site filled, 1 when unknown, -1 on error. */
int vnocd_store_site_get(struct vnocd_store *st, const char *id, struct vnocd_site *site);
/* 0, 1 when not a member (*roles = 0), -1. */
int vnocd_store_membership_get(struct vnocd_store *st, const char *site, uint32_t group,
			       uint8_t *roles);
int vnocd_store_count(struct vnocd_store *st, enum vnocd_sql id, const char *site,
		      uint32_t group, uint32_t *n);

/* ---- policy (vnocd_policy.c) ---- */

struct vnocd_policy;

/* Parses the whole file into a new policy. NULL with "FILE:LINE: reason"
 * in err on the first line it cannot accept. */
struct vnocd_policy *vnocd_policy_load(const char *path, char *err, size_t err_len);
void vnocd_policy_free(struct vnocd_policy *p);
/* The roles (VNOC_ROLE_*) site may hold in group. For each role refused,
 * why[] (when not NULL) names the deciding rule or "no rule allows it". */
uint8_t vnocd_policy_roles(const struct vnocd_policy *p, const char *site, uint32_t group,
			   char *why, size_t why_len);
enum vnoc_sa_mode vnocd_policy_sa_mode(const struct vnocd_policy *p, uint32_t group);
uint32_t vnocd_policy_max_groups_per_site(const struct vnocd_policy *p);
uint32_t vnocd_policy_max_sites_per_group(const struct vnocd_policy *p);
unsigned int vnocd_policy_rule_count(const struct vnocd_policy *p);

/* ---- certificate revocation (vnocd_crl.c) ---- */

struct vnocd_crl;
/* The PEM CRLs of path, each verified against the CA file; NULL and why in
 * err if one is unreadable or not signed by the CA. */
struct vnocd_crl *vnocd_crl_load(const char *path, const char *ca_path, char *err,
				  size_t err_len);
void vnocd_crl_free(struct vnocd_crl *c);
unsigned int vnocd_crl_entries(const struct vnocd_crl *c);
/* 1 (and the certificate's serial in hex) when crt is revoked, 0 if not,
 * < 0 on a GnuTLS error. crt is a gnutls_x509_crt_t. */
int vnocd_crl_revoked(const struct vnocd_crl *c, void *crt, char *serial, size_t serial_len);

/* ---- sets of sites whose view changed ---- */

struct vnocd_siteset {
	uint32_t n;
	uint32_t cap;
	char (*id)[VNOC_SITE_ID_MAX];
};

int vnocd_siteset_add(struct vnocd_siteset *set, const char *id);
void vnocd_siteset_free(struct vnocd_siteset *set);

/* ---- watch (vnocd_watch.c) ---- */

struct MHD_Connection;

/* One suspended WatchUpdates. */
struct vnocd_waiter {
	struct vnocd_waiter *next;      /* in its hash bucket */
	struct MHD_Connection *connection;
	char site[VNOC_SITE_ID_MAX];
	uint64_t since;
	uint64_t deadline_ms;           /* monotonic */
	bool waiting;                   /* in the table, connection suspended */
};

#define VNOCD_WATCH_BUCKETS 4096

struct vnocd_watch {
	struct vnocd_waiter *bucket[VNOCD_WATCH_BUCKETS];
	uint32_t n_waiting;
};

/* With vnocd.lock held: suspends the connection until
 * vnocd_watch_notify names the site with a newer version, the deadline
 * passes, or vnocd stops. */
void vnocd_watch_suspend(struct vnocd_watch *w, struct vnocd_waiter *waiter);
/* With vnocd.lock held: resumes the waiters of each site in set. */
void vnocd_watch_notify(struct vnocd_watch *w, const struct vnocd_siteset *set,
			uint64_t version);
/* With vnocd.lock held: resumes the waiters whose deadline is past; returns
 * the next deadline (UINT64_MAX when none). */
uint64_t vnocd_watch_expire(struct vnocd_watch *w, uint64_t now_ms);
void vnocd_watch_resume_all(struct vnocd_watch *w);
/* With vnocd.lock held: forgets a waiter without resuming it. */
void vnocd_watch_cancel(struct vnocd_watch *w, struct vnocd_waiter *waiter);

/* ---- limits (vnocd_limits.c) ---- */

enum vnocd_limit {
	VNOCD_LIMIT_SITE_RATE,          /* a site over --site-rate */
	VNOCD_LIMIT_CONNECTIONS,        /* --max-connections or --per-ip-connections */
	VNOCD_LIMIT_HEADERS,            /* request line and headers over --header-max */
	VNOCD_LIMIT_BODY,               /* body over --body-max */
	VNOCD_LIMIT_SLOW,               /* no whole request within the timeout */
	VNOCD_LIMIT_MAX
};

struct vnocd_limits;

struct vnocd_limits *vnocd_limits_create(unsigned int rate, unsigned int burst);
void vnocd_limits_free(struct vnocd_limits *l);
/* One request of site: 0 when within its rate, else the seconds until its
 * bucket holds a token again (the request is refused). */
unsigned int vnocd_limits_site_take(struct vnocd_limits *l, const char *site);
/* Counts n hits of kind; logs why (rate-limited: one line per kind every
 * 10 s at most). */
void vnocd_limits_hit(struct vnocd_limits *l, enum vnocd_limit kind, uint64_t n,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Logs the totals of every kind (SIGUSR1, stop). */
void vnocd_limits_log(struct vnocd_limits *l);

/* ---- slow clients (vnocd_deadline.c) ---- */

/* A connection's deadline for its next whole request; in the HTTP side's
 * per-connection state. */
struct vnocd_deadline {
	struct vnocd_deadline *prev, *next;
	int fd;
	uint64_t deadline_ms;           /* monotonic; UINT64_MAX: none */
	uint64_t accepted_ms;
	bool cut;                       /* its socket was shut down */
};

struct vnocd_deadlines;

struct vnocd_deadlines *vnocd_deadlines_start(struct vnocd_limits *limits);
void vnocd_deadlines_stop(struct vnocd_deadlines *s);
void vnocd_deadline_add(struct vnocd_deadlines *s, struct vnocd_deadline *e, int fd,
			uint64_t deadline_ms);
void vnocd_deadline_set(struct vnocd_deadlines *s, struct vnocd_deadline *e,
			uint64_t deadline_ms);
void vnocd_deadline_remove(struct vnocd_deadlines *s, struct vnocd_deadline *e);
/* The connection's own thread found it past its deadline before the sweep
 * did: mark it cut. True when it was not cut yet (count it then, once). */
bool vnocd_deadline_cut(struct vnocd_deadlines *s, struct vnocd_deadline *e);

/* ---- the daemon ---- */

struct vnocd {
	struct vnocd_config cfg;
	pthread_mutex_t lock;
	struct vnocd_store store;
	struct vnocd_policy *policy;
	struct vnocd_watch watch;
	struct MHD_Daemon *mhd;
	bool stopping;
	struct vnocd_crl *crl;          /* under lock; NULL: nothing revoked */
	struct vnocd_limits *limits;
	struct vnocd_deadlines *deadlines;
	int64_t started_s;              /* no site is silent from before this */
	int64_t liveness_next_s;        /* the next look for silent sites */

	/* The timer thread: watch deadlines, SA replacement and expiry. */
	pthread_t timer;
	pthread_cond_t timer_cond;
	uint64_t timer_wake_ms;         /* when it means to wake next */
	int64_t keys_next_s;            /* the next SA event, Unix time */

	/* <rekey> of Heartbeats (vnocd_keys_rekey_asked), under lock; logged
	 * with the limits (SIGUSR1, stop). */
	uint64_t rekey_received, rekey_honoured, rekey_already, rekey_refused;
	int64_t rekey_refused_logged_s;  /* one refusal line per second at most */
};

uint64_t vnocd_now_ms(void);           /* monotonic */
int64_t vnocd_time(void);              /* Unix time, s */
void vnocd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Wakes the timer thread (vnocd.lock held) if deadline_ms is earlier than
 * it planned. */
void vnocd_timer_kick(struct vnocd *d, uint64_t deadline_ms);

/* ---- operations (vnocd_ops.c) ---- */

/* Runs one request from site `who` (the TLS identity); fills resp, or
 * returns the fault. Takes vnocd.lock. WatchUpdates is run by
 * vnocd_ops_watch_begin / vnocd_ops_view instead. */
enum vnoc_fault vnocd_ops_run(struct vnocd *d, const char *who, const struct vnoc_msg *req,
			      struct vnoc_msg *resp, char *why, size_t why_len);
/* Frees what vnocd_ops_run or the watch calls put in resp. */
void vnocd_ops_release(struct vnoc_msg *resp);
/* WatchUpdates: answered at once into resp (a view), suspended (the waiter
 * is in the table, the connection suspended), or a fault. */
enum vnocd_watch_start {
	VNOCD_WATCH_ANSWER,
	VNOCD_WATCH_SUSPENDED,
	VNOCD_WATCH_FAULT,
};
enum vnocd_watch_start vnocd_ops_watch_begin(struct vnocd *d, const struct vnoc_watch_req *req,
					      struct vnocd_waiter *waiter, struct vnoc_msg *resp,
					      struct vnoc_fault_info *fault);
/* The answer of a resumed WatchUpdates. */
enum vnoc_fault vnocd_ops_watch_end(struct vnocd *d, const struct vnoc_watch_req *req,
				    struct vnoc_msg *resp, char *why, size_t why_len);
/* A new policy: swapped in under the lock; roles it no longer allows are
 * taken away (LeaveVpn with reason "policy"). */
void vnocd_ops_policy_swap(struct vnocd *d, struct vnocd_policy *p);
/* Under the lock: takes out the sites silent for longer than
 * cfg.liveness_s (their memberships left, their SAs and registration
 * deleted). */
void vnocd_ops_expire_silent(struct vnocd *d, int64_t now);

/* ---- views (vnocd_view.c) ---- */

/* With vnocd.lock held: the view of site, all its groups or just one
 * (group != 0). UnknownSite, Limit (a view over the protocol's limits) or
 * Server with why. */
enum vnoc_fault vnocd_view_build(struct vnocd *d, const char *site, uint32_t group,
				 struct vnoc_view *view, char *why, size_t why_len);
/* The operator's view (ListGroups): every group with its members. */
enum vnoc_fault vnocd_view_all_groups(struct vnocd *d, struct vnoc_group_list *list, char *why,
				      size_t why_len);
/* Frees what vnocd_view_build put in view. */
void vnocd_view_free(struct vnoc_view *view);

/* A group's member, copied out of the store. */
struct vnocd_member {
	char site[VNOC_SITE_ID_MAX];
	uint8_t roles;
	uint32_t wan_addr;
	bool udp_encap;
};

/* The group's members, sorted by site (malloc'd, *out NULL when none). */
int vnocd_group_members(struct vnocd *d, uint32_t group, struct vnocd_member **out,
			uint32_t *n);

/* ---- accounting (vnocd_accounting.c) ---- */

/* With the transaction open: one row per role in roles. */
int vnocd_accounting_add(struct vnocd *d, int64_t now, const char *site, uint32_t group,
			 uint8_t roles, const char *action, const char *reason);
/* GetAccounting: the rows from since on, at most VNOC_MAX_ACCOUNTING_ROWS. */
int vnocd_accounting_page(struct vnocd *d, uint64_t since, struct vnoc_accounting_resp *resp);

/* ---- keys (vnocd_keys.c, vnocd_group_keys.c) ---- */

/* A new SA waits at most this long for its receivers to hold it before it
 * becomes its sender's. */
#define VNOCD_INSTALL_GRACE_S 2

/* Keying material for a new SA: an SPI unique among to's inbound SAs and
 * every group SA (to NULL: among all SAs), a key, a salt. */
int vnocd_keys_draw(struct vnocd *d, const char *to, uint32_t *spi, uint8_t *key,
		    unsigned int *key_len, uint8_t salt[4]);
/* Inside a transaction: a new pairwise SA from -> to, or with to NULL a
 * group SA of from for group; the sender's at activate_at. */
int vnocd_keys_insert(struct vnocd *d, const char *from, const char *to, uint32_t group,
		      int64_t now, int64_t activate_at);
/* A row of an SA query, copied out before the table changes: id, sender,
 * then the receiver (pairwise) or the group (group SA), and expires and
 * superseded when the query has them (4th and 5th columns). */
struct vnocd_sa_row {
	int64_t id;
	char from[VNOC_SITE_ID_MAX];
	char to[VNOC_SITE_ID_MAX];      /* pairwise */
	uint32_t group;                 /* group SA, network order */
	int64_t expires;
	bool superseded;
};
/* The rows of query id, whose ?1 is text (a site) or else number; with
 * text, a ?2 (if the query has one) is number. */
int vnocd_sa_rows(struct vnocd *d, enum vnocd_sql id, int64_t number, const char *text,
		  struct vnocd_sa_row **rows, size_t *n);
/* How long a replacement waits for its receivers: 0.1 L, at least 1 s. */
int64_t vnocd_keys_rekey_grace(const struct vnocd *d);
/* Wake the timer for an SA inserted with these times. */
void vnocd_keys_timer_note(struct vnocd *d, int64_t now, int64_t activate_at,
			   int64_t rekey_at);
/* Group SAs (design.md 4, `group`): one per (sender site, group), held by
 * the group's receiving sites. Inside a transaction. */
int vnocd_group_sa_ensure(struct vnocd *d, const char *from, uint32_t group, int64_t now);
/* A receiver left: every SA of the group is replaced (the one that left
 * must not read what is sent next), or deleted when its sender has no
 * receiver left. */
int vnocd_group_sa_after_leave(struct vnocd *d, uint32_t group, int64_t now);
/* The sender stopped sending to group: its SAs of the group go. */
int vnocd_group_sa_drop(struct vnocd *d, const char *from, uint32_t group);
/* Lifetime steps of group SAs, as vnocd_keys_run; adds the members of the
 * groups whose SAs changed. */
int vnocd_group_keys_run(struct vnocd *d, int64_t now, struct vnocd_siteset *changed);
/* A site that starts afresh: new group SAs, the sender's at once. */
int vnocd_group_keys_renew_outbound(struct vnocd *d, const char *site, int64_t now,
				    struct vnocd_siteset *changed);

/* Inside a transaction: makes sure a current SA from -> to exists. */
int vnocd_keys_sa_ensure(struct vnocd *d, const char *from, const char *to, int64_t now);
/* Inside a transaction: replaces SAs at 80 % of their life, activates
 * replacements, deletes expired SAs; adds the sites whose view changed. */
int vnocd_keys_run(struct vnocd *d, int64_t now, struct vnocd_siteset *changed);
/* The next time vnocd_keys_run has work (Unix time), INT64_MAX if none. */
int64_t vnocd_keys_next_event(struct vnocd *d);
/* Inside a transaction: the SAs to site that wait for it to hold them
 * become their senders' (its WatchUpdates showed it is up to date); adds
 * the senders, whose views changed. */
int vnocd_keys_receiver_holds(struct vnocd *d, const char *site, struct vnocd_siteset *changed);
/* Some SA to site waits for it to hold it. */
bool vnocd_keys_pending_to(struct vnocd *d, const char *site);
/* Inside a transaction: new outbound SAs for a site that lost its sequence
 * numbers (RegisterSite freshStart); adds the sites whose view changed. */
int vnocd_keys_renew_outbound(struct vnocd *d, const char *site, int64_t now,
			      struct vnocd_siteset *changed);
int vnocd_keys_random(void *buf, size_t len);

/* What became of one <rekey> of a Heartbeat (vnocd_keys_rekey_asked). */
enum vnocd_rekey {
	VNOCD_REKEY_HONOURED,           /* replaced now */
	VNOCD_REKEY_ALREADY,            /* replaced before (a repeat) */
	VNOCD_REKEY_REFUSED,            /* not one of the site's outbound SAs */
};
/* Inside a transaction: site asks for its outbound SA spi (pairwise or
 * group) to be replaced now, as at 0.8 of its lifetime. Returns an
 * enum vnocd_rekey, or -1 on a store error. */
int vnocd_keys_rekey_asked(struct vnocd *d, const char *site, uint32_t spi, int64_t now,
			   struct vnocd_siteset *changed);
/* The group SA part of it: rows of VNOCD_SQL_GSA_OF_SENDER_SPI. */
int vnocd_group_keys_rekey_asked(struct vnocd *d, const char *site, uint32_t spi,
				 int64_t now, struct vnocd_siteset *changed);

/* Inside a transaction: a new global version, given to every site in set
 * (vnocd_view.c). */
int vnocd_version_bump(struct vnocd *d, const struct vnocd_siteset *set, uint64_t *version);
/* Under the lock: change runs in a transaction of its own and adds the
 * sites whose view it changed; their version is bumped, their long polls
 * woken. what names the change in the log line of a failure. */
int vnocd_change(struct vnocd *d, const char *what,
		 int (*change)(struct vnocd *d, void *arg, struct vnocd_siteset *changed),
		 void *arg);

/* `vnocd accounting ...` */
int vnocd_accounting_main(int argc, char **argv);
int vnocd_time_parse(const char *text, int64_t *t);

/* ---- HTTP (vnocd_http.c) ---- */

int vnocd_http_start(struct vnocd *d, char *err, size_t err_len);
void vnocd_http_stop(struct vnocd *d);

/* ---- helpers ---- */

bool vnocd_group_valid(uint32_t group);  /* network byte order */
const char *vnocd_ip_str(uint32_t addr, char *buf);  /* buf: 16 bytes */
const char *vnocd_roles_str(uint8_t roles);

#endif
