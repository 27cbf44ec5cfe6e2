/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Slow clients. libmicrohttpd's --connection-timeout is an idle timeout:
 * a client that sends one byte every few seconds (slowloris: a TLS
 * handshake, headers or a body trickled in) never trips it and holds its
 * connection for ever. So each connection also has a deadline: from its
 * accept, and again from the end of each answer, a whole request (the TLS
 * handshake first, then the headers and the body) must arrive within the
 * timeout. While vnocd works on a request, or holds a WatchUpdates long
 * poll, the connection has no deadline (UINT64_MAX).
 *
 * A thread looks at the deadlines twice a second and shuts down (shutdown(2),
 * not close) the socket of a connection past its own: libmicrohttpd sees the
 * end of the stream and closes the connection in its own thread. An entry
 * leaves the list in the connection's CLOSED notification, before
 * libmicrohttpd closes the descriptor, and under the list's lock, so the
 * thread never shuts down a descriptor that was closed and reused.
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "vnocd.h"

#define DEADLINE_SWEEP_MS 500

struct vnocd_deadlines {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool stopping;
	struct vnocd_deadline head;     /* a ring; head.fd unused */
	struct vnocd_limits *limits;
};

void
vnocd_deadline_add(struct vnocd_deadlines *s, struct vnocd_deadline *e, int fd,
		   uint64_t deadline_ms)
{
	e->fd = fd;
	e->deadline_ms = deadline_ms;
	e->cut = false;
	e->accepted_ms = vnocd_now_ms();
	pthread_mutex_lock(&s->lock);
	e->next = s->head.next;
	e->prev = &s->head;
	s->head.next->prev = e;
	s->head.next = e;
	pthread_mutex_unlock(&s->lock);
}

void
vnocd_deadline_set(struct vnocd_deadlines *s, struct vnocd_deadline *e, uint64_t deadline_ms)
{
	pthread_mutex_lock(&s->lock);
	e->deadline_ms = deadline_ms;
	pthread_mutex_unlock(&s->lock);
}

void
vnocd_deadline_remove(struct vnocd_deadlines *s, struct vnocd_deadline *e)
{
	if (e->next == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->next = e->prev = NULL;
	pthread_mutex_unlock(&s->lock);
}

bool
vnocd_deadline_cut(struct vnocd_deadlines *s, struct vnocd_deadline *e)
{
	bool first;

	pthread_mutex_lock(&s->lock);
	first = !e->cut;
	e->cut = true;
	pthread_mutex_unlock(&s->lock);
	return first;
}

static void *
deadline_main(void *arg)
{
	struct vnocd_deadlines *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		uint64_t now_ms = vnocd_now_ms(), cut = 0, held_ms = 0;
		struct timespec ts;

		for (struct vnocd_deadline *e = s->head.next; e != &s->head; e = e->next) {
			if (e->cut || e->deadline_ms > now_ms)
				continue;
			shutdown(e->fd, SHUT_RDWR);
			e->cut = true;
			held_ms = now_ms - e->accepted_ms;
			cut++;
		}
		if (cut > 0) {
			pthread_mutex_unlock(&s->lock);
			vnocd_limits_hit(s->limits, VNOCD_LIMIT_SLOW, cut,
					 "%llu connection(s) cut: no whole request within the "
					 "connection timeout (the last one held %llu ms)",
					 (unsigned long long)cut, (unsigned long long)held_ms);
			pthread_mutex_lock(&s->lock);
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += DEADLINE_SWEEP_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

struct vnocd_deadlines *
vnocd_deadlines_start(struct vnocd_limits *limits)
{
	struct vnocd_deadlines *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;

	if (s == NULL)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	s->head.next = s->head.prev = &s->head;
	s->limits = limits;
	if (pthread_create(&s->thread, NULL, deadline_main, s) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

void
vnocd_deadlines_stop(struct vnocd_deadlines *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
