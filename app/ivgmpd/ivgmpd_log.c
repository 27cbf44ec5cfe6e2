/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The log types, registered by constructors before main(): EAL applies
 * --log-level patterns to the types that exist when it parses them.
 */
#include <stdarg.h>
#include <stdio.h>

#include "ivgmpd_log.h"

RTE_LOG_REGISTER(ivgmp_logtype_main, ivgmp.main, INFO);
RTE_LOG_REGISTER(ivgmp_logtype_conf, ivgmp.conf, INFO);
/* NOTICE: a worker's INFO lines (one per lcore at start) are for debugging. */
RTE_LOG_REGISTER(ivgmp_logtype_worker, ivgmp.worker, NOTICE);
RTE_LOG_REGISTER(ivgmp_logtype_igmp, ivgmp.igmp, INFO);
RTE_LOG_REGISTER(ivgmp_logtype_group, ivgmp.group, INFO);
RTE_LOG_REGISTER(ivgmp_logtype_announce, ivgmp.announce, INFO);
RTE_LOG_REGISTER(ivgmp_logtype_vnoc, ivgmp.vnoc, INFO);
RTE_LOG_REGISTER(ivgmp_logtype_telemetry, ivgmp.telemetry, INFO);

void
ivgmpd_event(const char *fmt, ...)
{
	va_list ap;

	fputs("ivgmpd: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}
