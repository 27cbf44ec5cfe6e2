/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>

#include <rte_ethdev.h>

#include "ivgmpd.h"

#define RX_DESC 1024
#define TX_DESC 1024

/* A port is named by its DPDK device name (net_pcap0, 0000:03:00.0) or number. */
int
ivgmpd_port_find(const char *name, uint16_t *port)
{
	char *end;
	unsigned long n = strtoul(name, &end, 10);

	if (*name && *end == '\0') {
		if (n >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port((uint16_t)n))
			return -1;
		*port = (uint16_t)n;
		return 0;
	}
	return rte_eth_dev_get_port_by_name(name, port);
}

int
ivgmpd_port_start(uint16_t port, uint16_t n_rx, struct rte_mempool *pool,
		  bool all_multicast, int *extra_txq)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t rx_desc = RX_DESC, tx_desc = TX_DESC;
	int socket = rte_eth_dev_socket_id(port);
	uint16_t n_tx = n_rx;
	int ret;

	ret = rte_eth_dev_info_get(port, &info);
	if (ret < 0)
		return ret;
	/* The management lcore sends IGMP queries on a queue of its own when
	 * the device has one more; else through worker 0 (extra_txq -1). */
	if (extra_txq) {
		*extra_txq = info.max_tx_queues > n_rx ? n_rx : -1;
		if (*extra_txq >= 0)
			n_tx++;
	}
	ret = rte_eth_dev_configure(port, n_rx, n_tx, &conf);
	if (ret < 0)
		return ret;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_desc, &tx_desc);
	if (ret < 0)
		return ret;
	for (uint16_t q = 0; q < n_rx; q++) {
		ret = rte_eth_rx_queue_setup(port, q, rx_desc, socket, NULL, pool);
		if (ret < 0)
			return ret;
	}
	for (uint16_t q = 0; q < n_tx; q++) {
		ret = rte_eth_tx_queue_setup(port, q, tx_desc, socket, NULL);
		if (ret < 0)
			return ret;
	}
	ret = rte_eth_dev_start(port);
	if (ret < 0)
		return ret;
	/* The LAN port must see every group's traffic and every IGMP report. */
	if (all_multicast) {
		ret = rte_eth_allmulticast_enable(port);
		if (ret < 0 && ret != -ENOTSUP)
			return ret;
	}
	return 0;
}

void
ivgmpd_port_stop(uint16_t port)
{
	rte_eth_dev_stop(port);
	/* Closing flushes what net_pcap buffered into its output file. */
	rte_eth_dev_close(port);
}
