/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMPD_H
#define IVGMPD_H

/* ivgmpd's wiring: what main() builds and hands to the components. */

#include <stdbool.h>
#include <stdint.h>

#include <rte_rcu_qsbr.h>

#include "conf/conf.h"
#include "fwd/fwd.h"
#include "worker/worker.h"

#define IVGMPD_MAX_WORKERS 16

struct ivgmpd {
	struct conf *conf;
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
};

/* ivgmpd_port.c */
int ivgmpd_port_find(const char *name, uint16_t *port);
int ivgmpd_port_start(uint16_t port, uint16_t n_queues, struct rte_mempool *pool,
		      bool all_multicast);
void ivgmpd_port_stop(uint16_t port);

/* ivgmpd_state.c: configuration -> SAs and the first forwarding snapshot. */
int ivgmpd_state_build(struct ivgmpd *d);
void ivgmpd_state_free(struct ivgmpd *d);

/* ivgmpd_report.c: counters and SA statistics, for telemetry and the exit report. */
uint64_t ivgmpd_counter_sum(const struct ivgmpd *d, enum worker_counter id);
void ivgmpd_report_print(const struct ivgmpd *d);
int ivgmpd_telemetry_register(struct ivgmpd *d);

#endif
