/* SPDX-License-Identifier: BSD-3-Clause */
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
