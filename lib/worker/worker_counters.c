/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "worker.h"

static const char *const counter_names[] = {
#define WORKER_COUNTER_NAME(name) #name,
	WORKER_COUNTERS(WORKER_COUNTER_NAME)
#undef WORKER_COUNTER_NAME
};

const char *
worker_counter_name(enum worker_counter id)
{
	return id < WORKER_CTR_MAX ? counter_names[id] : "unknown";
}

/* The counters named *drop* say why a packet died; four others also count
 * packets that died without "drop" in their names. The rate-limited and
 * ring-full source reports are not among them: the packet itself went on. */
bool
worker_counter_is_drop(enum worker_counter id)
{
	switch (id) {
	case WORKER_CTR_lan_igmp_rate_limited:
	case WORKER_CTR_lan_igmp_host_rate_limited:
	case WORKER_CTR_lan_igmp_ring_full:
		return true;
	default:
		return strstr(worker_counter_name(id), "drop") != NULL;
	}
}
