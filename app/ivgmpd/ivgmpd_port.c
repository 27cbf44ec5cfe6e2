/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "ivgmpd.h"

#define RX_DESC 1024
#define TX_DESC 1024

/*
 * With several workers, each RX queue must get whole flows: a LAN (S,G)
 * stream on one queue keeps its order, and a peer's ESP (outer source and
 * destination, whatever the SPI or the UDP ports of RFC 3948) on one queue
 * gives each inbound SA one writer. So the hash covers IPv4 addresses only:
 * no L4 types, whose hash would take ports in (and split a fragmented
 * datagram from its first fragment).
 */
#define PORT_RSS_IPV4 (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_OTHER)

/*
 * Decide how packets spread over n_rx queues; fills conf. Returns what to
 * log, or NULL when the device cannot spread them.
 */
static const char *
port_spread_choose(const struct rte_eth_dev_info *info, uint16_t n_rx,
		   struct rte_eth_conf *conf)
{
	uint64_t rss_hf = info->flow_type_rss_offloads & PORT_RSS_IPV4;

	if (n_rx == 1)
		return "one RX queue";
	if (info->max_rx_queues < n_rx)
		return NULL;
	if (rss_hf) {
		conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf->rx_adv_conf.rss_conf.rss_key = NULL;   /* the driver's default key */
		conf->rx_adv_conf.rss_conf.rss_hf = rss_hf;
		return "RSS on IPv4 addresses";
	}
	/* No RSS, but the kernel spreads: each queue is a socket of one
	 * PACKET_FANOUT_HASH group (the flow hash of the kernel). */
	if (strcmp(info->driver_name, "net_af_packet") == 0)
		return "the kernel's PACKET_FANOUT hash (af_packet qpairs)";
	/* Each RX queue reads its own file or interface (one rx_pcap or
	 * rx_iface per queue): the user split the input. */
	if (strcmp(info->driver_name, "net_pcap") == 0)
		return "one input per queue (net_pcap: a file or interface each)";
	return NULL;
}

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
	const char *spread;
	int ret;

	ret = rte_eth_dev_info_get(port, &info);
	if (ret < 0)
		return ret;
	spread = port_spread_choose(&info, n_rx, &conf);
	if (spread == NULL) {
		IVGMP_LOG(ERR, main, "port %u (%s) cannot spread packets over %u RX queues: "
			  "use one worker", port, info.driver_name, n_rx);
		return -EINVAL;
	}
	/* The management lcore sends IGMP queries on a queue of its own when
	 * the device has one more; else through worker 0 (extra_txq -1). */
	if (extra_txq) {
		*extra_txq = info.max_tx_queues > n_rx ? n_rx : -1;
		if (*extra_txq >= 0)
			n_tx++;
	}
	/* Group-SA copies are a header mbuf chained to a clone of the encrypted
	 * body when the device sends chained mbufs; the workers read this from
	 * the port's configuration and make flat copies otherwise. */
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
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
	if (conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS)
		IVGMP_LOG(INFO, main, "port %u (%s): %u RX queues, %s (rss_hf 0x%" PRIx64
			  " of 0x%" PRIx64 " offered), %u TX queues", port, info.driver_name,
			  n_rx, spread, conf.rx_adv_conf.rss_conf.rss_hf,
			  info.flow_type_rss_offloads, n_tx);
	else
		IVGMP_LOG(INFO, main, "port %u (%s): %u RX queue(s), %s, %u TX queues", port,
			  info.driver_name, n_rx, spread, n_tx);
	IVGMP_LOG(INFO, main, "port %u (%s): %s", port, info.driver_name,
		  conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS ?
		  "sends chained mbufs (multi-seg TX)" : "no multi-seg TX: flat copies");
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
