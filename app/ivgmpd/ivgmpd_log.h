/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IVGMPD_LOG_H
#define IVGMPD_LOG_H

/*
 * ivgmpd's logs go through rte_log, one log type per component, so that an
 * operator turns up one component without drowning in the others, with
 * EAL's own option:
 *
 *     --log-level=ivgmp.vnoc:debug       --log-level='ivgmp.*:debug'
 *
 * Every message starts "ivgmpd: " as it did on stderr before, so that what
 * scripts and tests read there (configuration errors: "FILE:LINE: reason")
 * keeps its text.
 *
 * Events are not logs: the ready line, "no lan-address" (the device never
 * queries), VPN role changes, VNOC views and refusals go to stdout whatever
 * the log level (ivgmpd_event), one line each, for the supervisors and tests
 * that follow the daemon (test/e2e/rig.py runs it with --log-level=warning),
 * as the exit report does.
 */

#include <rte_log.h>

extern int ivgmp_logtype_main;        /* ivgmp.main: start, ports, lcores, stop */
extern int ivgmp_logtype_conf;        /* ivgmp.conf: the configuration file */
extern int ivgmp_logtype_worker;      /* ivgmp.worker: workers (never per packet) */
extern int ivgmp_logtype_igmp;        /* ivgmp.igmp: the IGMP router */
extern int ivgmp_logtype_group;       /* ivgmp.group: the group manager, the snapshot */
extern int ivgmp_logtype_announce;    /* ivgmp.announce: the ivgmp-announce socket */
extern int ivgmp_logtype_vnoc;        /* ivgmp.vnoc: the VNOC client */
extern int ivgmp_logtype_telemetry;   /* ivgmp.telemetry: the /ivgmp/ commands */

/* IVGMP_LOG(WARNING, vnoc, "VNOC %s: %s", url, why): one line, newline added. */
#define IVGMP_LOG(level, component, fmt, ...)                                   \
	rte_log(RTE_LOG_ ## level, ivgmp_logtype_ ## component, "ivgmpd: " fmt "\n", \
		##__VA_ARGS__)

/* An event line on stdout, "ivgmpd: " first, flushed at once. */
void ivgmpd_event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
