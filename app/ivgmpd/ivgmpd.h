/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMPD_H
#define IVGMPD_H

/* ivgmpd's wiring: what main() builds and hands to the components. */

#include <stdbool.h>
#include <stdint.h>

#include <pthread.h>

#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "conf/conf.h"
#include "fwd/fwd.h"
#include "fwd/fwd_conf.h"
#include "group/group.h"
#include "igmp/igmp.h"
#include "vnoc/vnoc.h"
#include "vnoc_client/vnoc_client.h"
#include "worker/worker.h"

#include "ivgmpd_log.h"

#define IVGMPD_MAX_WORKERS (RTE_MAX_LCORE - 1)   /* every lcore but the main one */
#define IVGMPD_MAX_PEERS (CONF_MAX_SITES - 1)

/* What the VNOC's last view says, ready for the snapshot builder. */
struct ivgmpd_vnoc_sa {
	bool inbound;
	char peer[VNOC_SITE_ID_MAX];
	uint32_t group;                     /* a group SA's group; 0: pairwise */
	uint8_t key[32];
	struct esp_sa *sa;
	/* Outbound (ivgmpd_vnoc_sa.c): when its time lifetime ends on this
	 * device's clock (ms; 0: none), and what was done about its limits. */
	uint64_t expires_ms;
	bool rekey_asked;                   /* passed the soft limit; asked once */
	bool lifetime_expired;              /* esp_outb_expire done */
	/* Inbound, gone from the view: decrypts until then (ms; 0: in the
	 * view). ivgmpd_vnoc_view.c says why. */
	uint64_t linger_until_ms;
};

struct ivgmpd_vnoc_peer {
	char name[VNOC_SITE_ID_MAX];
	uint32_t wan_addr;
	bool udp_encap;
	struct esp_sa *sa_out;
};

struct ivgmpd_vnoc_group {
	uint32_t group;
	struct esp_sa *sa_out;              /* sa-mode group: the one SA for every
					     * site; NULL: each site's pairwise SA */
	uint16_t n_sites;
	uint16_t *sites;                    /* indices in ivgmpd_vnoc_state.peers */
};

struct ivgmpd_vnoc_state {
	uint64_t version;
	uint32_t n_sas;
	struct ivgmpd_vnoc_sa *sas;
	uint16_t n_peers;
	struct ivgmpd_vnoc_peer peers[IVGMPD_MAX_PEERS];
	uint32_t n_groups;
	struct ivgmpd_vnoc_group *groups;
	uint16_t *site_lists;
};

/*
 * A table at its bound refused something its source tells once (IGMP's
 * group change, the group manager's role): the refusal is remembered and
 * everything is set again once the table has room, at most once a second
 * since each retry walks every group.
 */
struct ivgmpd_refused {
	bool pending;
	uint64_t retry_ms;
};

/* True when the caller should walk and set again now (room: free slots). */
static inline bool
ivgmpd_refused_retry_due(struct ivgmpd_refused *r, uint64_t now_ms, uint32_t room)
{
	if (!r->pending || now_ms < r->retry_ms || room == 0)
		return false;
	r->retry_ms = now_ms + 1000;
	r->pending = false;
	return true;
}

struct ivgmpd {
	struct conf *conf;
	const char *config_path;
	uint64_t started_ms;                /* ivgmpd_now_ms() at start, for uptime */
	uint16_t lan_port;
	uint16_t wan_port;
	unsigned int n_workers;
	struct worker *workers[IVGMPD_MAX_WORKERS];
	unsigned int worker_lcores[IVGMPD_MAX_WORKERS];
	struct rte_mempool *pool;
	struct rte_rcu_qsbr *qsbr;
	struct fwd_publisher fwd;
	IMB_MGR *mb;                    /* the management lcore's, for key expansion */
	struct esp_sa *sas[CONF_MAX_SAS];
	uint16_t n_sas;
	volatile bool stop;

	/* Management plane (main lcore). The lock is held while the main lcore
	 * works and by telemetry callbacks, which run on their own thread. */
	pthread_mutex_t lock;
	struct rte_ring *igmp_ring;         /* workers -> management: IGMP frames */
	struct rte_ring *source_ring;       /* workers -> management: (S,G) sightings */
	struct rte_ring *control_tx_ring;   /* management -> worker 0, when no spare queue */
	int control_txq;                    /* the management lcore's LAN queue, or -1 */
	uint8_t lan_mac[6];
	struct igmp_router *igmp;
	struct group_manager *groups;
	int announce_fd;
	uint64_t announce_reply_failures;
	bool state_dirty;                   /* rebuild the forwarding snapshot */
	uint64_t now_ms;                    /* of the current management step */
	uint64_t igmp_drops[IGMP_VERDICT_MAX];
	struct ivgmpd_vnoc_state vnoc;      /* remote sites and SAs from the VNOC */
	/* A group with IGMP members was refused at vpn-max-groups: set again
	 * once the group manager has room (ivgmpd_membership.c). */
	struct ivgmpd_refused igmp_refused;
	struct vnoc_client *vnoc_client;    /* NULL without a vnoc-url */
	/* A group's roles were refused at vnoc-max-groups: pushed again once
	 * the client has room (ivgmpd_vnoc.c). */
	struct ivgmpd_refused vnoc_refused;
	/* What was last logged of the client, so that a change is logged once. */
	enum vnoc_client_state vnoc_logged_state;
	char vnoc_logged_error[VNOC_CLIENT_ERROR_MAX];
	uint64_t control_tx_drops;
	uint64_t sa_soft_limit_hits;        /* outbound SAs that passed the soft limit */
	uint64_t sa_lifetime_expiries;      /* outbound SAs stopped at their lifetime */
	bool telemetry_closed;              /* set under the lock before teardown */
};

/* ivgmpd_conf_log.c: what was loaded, for ivgmp.conf (no keys). */
void ivgmpd_conf_log(const struct conf *conf, const char *path);

/* ivgmpd_port.c */
int ivgmpd_port_find(const char *name, uint16_t *port);
/* RX queues n_rx, TX queues n_rx + 1 when the device has one to spare
 * (*extra_txq set to it), else n_rx (*extra_txq = -1). */
int ivgmpd_port_start(uint16_t port, uint16_t n_rx, struct rte_mempool *pool,
		      bool all_multicast, int *extra_txq);
void ivgmpd_port_stop(uint16_t port);

/* ivgmpd_state.c: configuration -> SAs; configuration, IGMP and the group
 * manager -> the forwarding snapshot. */
int ivgmpd_state_build(struct ivgmpd *d);
int ivgmpd_state_publish(struct ivgmpd *d);
void ivgmpd_state_free(struct ivgmpd *d);

/* ivgmpd_membership.c: IGMP router and group manager on the main lcore. */
uint64_t ivgmpd_now_ms(void);
/* "none", "receiver", "sender", "receiver+sender". */
const char *ivgmpd_roles_name(uint8_t roles);
bool ivgmpd_group_is_scoped(const struct ivgmpd *d, uint32_t group);
int ivgmpd_membership_create(struct ivgmpd *d);
void ivgmpd_membership_free(struct ivgmpd *d);
/* After a restart, how long roles the VNOC still holds for the site may
 * wait for IGMP to ask for them again (the VNOC client's adopt hold). */
uint32_t ivgmpd_membership_adopt_hold_ms(const struct ivgmpd *d);
/* One step of the main lcore: drain the rings, run timers, rebuild. */
void ivgmpd_membership_poll(struct ivgmpd *d, uint64_t now_ms);

/* ivgmpd_vnoc_view.c: adopt the VNOC's view and publish a snapshot. */
int ivgmpd_vnoc_view_apply(struct ivgmpd *d, const struct vnoc_view *view);
void ivgmpd_vnoc_view_free(struct ivgmpd *d);
/* Drop the inbound SAs whose time after leaving the view is over. */
int ivgmpd_vnoc_view_linger_end(struct ivgmpd *d, uint64_t now_ms);

/* ivgmpd_vnoc_sa.c: the limits of the VNOC's outbound SAs, on the main
 * lcore. A new SA's clock starts at now_ms; one kept from the last view
 * keeps its own. */
void ivgmpd_vnoc_sa_lifetime_start(struct ivgmpd_vnoc_sa *s, const struct ivgmpd_vnoc_sa *old,
				   uint64_t lifetime_s, uint64_t now_ms);
/* Stop SAs past their time lifetime; ask a rekey for SAs past their soft
 * limit (a Heartbeat at once). */
void ivgmpd_vnoc_sa_check(struct ivgmpd *d, uint64_t now_ms);
/* The SPIs to ask a rekey for in the next Heartbeat; returns how many. */
uint8_t ivgmpd_vnoc_sa_rekey_list(const struct ivgmpd *d, uint32_t *spi, uint8_t max);

/* ivgmpd_vnoc.c: the VNOC client on the main lcore. */
int ivgmpd_vnoc_create(struct ivgmpd *d);
void ivgmpd_vnoc_role_changed(struct ivgmpd *d, uint32_t group, uint8_t roles);
void ivgmpd_vnoc_poll(struct ivgmpd *d, uint64_t now_ms);
void ivgmpd_vnoc_free(struct ivgmpd *d);

/* ivgmpd_announce.c: the local socket of ivgmp-announce. */
int ivgmpd_announce_open(struct ivgmpd *d);
void ivgmpd_announce_poll(struct ivgmpd *d, uint64_t now_ms);
void ivgmpd_announce_close(struct ivgmpd *d);

/* ivgmpd_report.c: counters and SA statistics, for telemetry and the exit report. */
uint64_t ivgmpd_counter_sum(const struct ivgmpd *d, enum worker_counter id);

/* One SA of either origin: the config file's, or the VNOC's last view. */
struct ivgmpd_sa_ref {
	const struct esp_sa *sa;
	bool inbound;
	const char *peer;
	const char *origin;             /* "config" or "vnoc" */
	const struct ivgmpd_vnoc_sa *vnoc; /* the VNOC's, else NULL */
};
/* The i-th SA, configured ones first; false past the last. */
bool ivgmpd_sa_at(const struct ivgmpd *d, uint32_t i, struct ivgmpd_sa_ref *out);
void ivgmpd_report_print(const struct ivgmpd *d);

/* ivgmpd_telemetry*.c: the /ivgmp/ commands (doc/telemetry.rst). */
int ivgmpd_telemetry_register(struct ivgmpd *d);
/* Before teardown: commands answer null from now on. */
void ivgmpd_telemetry_close(struct ivgmpd *d);

#endif
