/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * WatchUpdates long polls. A WatchUpdates whose site has nothing newer than
 * `since` suspends its connection (MHD_suspend_connection: no thread is
 * held) and waits in a table keyed by site. An operation that changes a
 * site's view resumes that site's waiters after its COMMIT; the timer
 * thread resumes those whose deadline passed. A resumed connection comes
 * back to the access handler, which answers with the site's view then.
 *
 * Suspend, resume and the table are all under vnocd.lock, so a resume can
 * never come before the suspend it undoes.
 */
#include <string.h>

#include <microhttpd.h>

#include "vnocd.h"

static uint32_t
watch_hash(const char *site)
{
	uint32_t h = 2166136261u;      /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)site; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % VNOCD_WATCH_BUCKETS;
}

void
vnocd_watch_suspend(struct vnocd_watch *w, struct vnocd_waiter *waiter)
{
	uint32_t b = watch_hash(waiter->site);

	waiter->next = w->bucket[b];
	w->bucket[b] = waiter;
	waiter->waiting = true;
	w->n_waiting++;
	MHD_suspend_connection(waiter->connection);
}

/* Unlinks *link and resumes its connection. */
static void
watch_resume(struct vnocd_watch *w, struct vnocd_waiter **link)
{
	struct vnocd_waiter *waiter = *link;

	*link = waiter->next;
	waiter->next = NULL;
	waiter->waiting = false;
	w->n_waiting--;
	MHD_resume_connection(waiter->connection);
}

void
vnocd_watch_notify(struct vnocd_watch *w, const struct vnocd_siteset *set, uint64_t version)
{
	for (uint32_t i = 0; i < set->n && w->n_waiting > 0; i++) {
		struct vnocd_waiter **link = &w->bucket[watch_hash(set->id[i])];

		while (*link != NULL) {
			if (strcmp((*link)->site, set->id[i]) == 0 && (*link)->since < version)
				watch_resume(w, link);
			else
				link = &(*link)->next;
		}
	}
}

uint64_t
vnocd_watch_expire(struct vnocd_watch *w, uint64_t now_ms)
{
	uint64_t next = UINT64_MAX;

	for (uint32_t b = 0; b < VNOCD_WATCH_BUCKETS && w->n_waiting > 0; b++) {
		struct vnocd_waiter **link = &w->bucket[b];

		while (*link != NULL) {
			if ((*link)->deadline_ms <= now_ms) {
				watch_resume(w, link);
				continue;
			}
			if ((*link)->deadline_ms < next)
				next = (*link)->deadline_ms;
			link = &(*link)->next;
		}
	}
	return next;
}

void
vnocd_watch_resume_all(struct vnocd_watch *w)
{
	for (uint32_t b = 0; b < VNOCD_WATCH_BUCKETS; b++)
		while (w->bucket[b] != NULL)
			watch_resume(w, &w->bucket[b]);
}

void
vnocd_watch_cancel(struct vnocd_watch *w, struct vnocd_waiter *waiter)
{
	struct vnocd_waiter **link = &w->bucket[watch_hash(waiter->site)];

	for (; *link != NULL; link = &(*link)->next) {
		if (*link == waiter) {
			*link = waiter->next;
			waiter->next = NULL;
			waiter->waiting = false;
			w->n_waiting--;
			return;
		}
	}
}
