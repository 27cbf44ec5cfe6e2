/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_rcu_qsbr.h>

#include "fwd.h"

void
fwd_publish(struct fwd_publisher *pub, struct fwd_state *state)
{
	struct fwd_state *old = __atomic_exchange_n(&pub->current, state, __ATOMIC_ACQ_REL);

	if (old == NULL)
		return;
	/* Every worker reports a quiescent state once per poll loop, after
	 * which it holds no pointer into the snapshot it read. */
	if (pub->qsbr)
		rte_rcu_qsbr_synchronize(pub->qsbr, RTE_QSBR_THRID_INVALID);
	fwd_state_free(old);
}
