/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Microbenchmarks of the paths a frame takes, beside the bare rte_ring
 * SP/SC bulk enqueue+dequeue (the physical limit), in the manner of DPDK's
 * test_pmd_ring_perf. One thread does both ends, so these are the cost of
 * the code, not of cache lines crossing cores (bench/compare.sh is
 * for that). Reported per frame ("items"): compare with BM_BareRing.
 */

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#include <benchmark/benchmark.h>
#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_ring.h>

#include "rte_pmd_bsdtap.h"

namespace
{

rte_mempool *pool;
uint16_t port;
rte_pmd_bsdtap_reader *reader;

void fill(rte_mbuf **m, unsigned n, uint16_t len)
{
	for (unsigned i = 0; i < n; i++) {
		rte_pktmbuf_reset(m[i]);
		char *p = rte_pktmbuf_append(m[i], len);
		memset(p, 0xab, 14);
	}
}

/*
 * The pool's objects packed back to back. Under --no-huge, a pool made by
 * rte_pktmbuf_pool_create() keeps each object inside one 4 KiB page, which
 * puts one mbuf per page: every header then falls in the same L1 set, and a
 * burst of 32 evicts itself (a cache-set artefact that no hugepage-backed
 * application has). Objects that need not be IOVA-contiguous are packed.
 */
rte_mempool *packed_pool(const char *name, unsigned n, unsigned cache)
{
	const uint16_t room = RTE_MBUF_DEFAULT_BUF_SIZE;
	rte_mempool *mp = rte_mempool_create_empty(name, n, sizeof(rte_mbuf) + room, cache,
						   sizeof(rte_pktmbuf_pool_private),
						   rte_socket_id(), RTE_MEMPOOL_F_NO_IOVA_CONTIG);
	if (mp == nullptr)
		return nullptr;
	rte_pktmbuf_pool_private priv{};
	priv.mbuf_data_room_size = room;
	if (rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), nullptr) != 0) {
		rte_mempool_free(mp);
		return nullptr;
	}
	rte_pktmbuf_pool_init(mp, &priv);
	if (rte_mempool_populate_default(mp) < 0) {
		rte_mempool_free(mp);
		return nullptr;
	}
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, nullptr);
	return mp;
}

void BM_BareRing(benchmark::State &st)
{
	const unsigned burst = static_cast<unsigned>(st.range(0));
	rte_ring *r =
	    rte_ring_create("bench_bare", 1024, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	std::vector<rte_mbuf *> m(burst);
	rte_pktmbuf_alloc_bulk(pool, m.data(), burst);
	for (auto _ : st) {
		rte_ring_sp_enqueue_burst(r, reinterpret_cast<void **>(m.data()), burst, nullptr);
		benchmark::DoNotOptimize(rte_ring_sc_dequeue_burst(
		    r, reinterpret_cast<void **>(m.data()), burst, nullptr));
	}
	rte_pktmbuf_free_bulk(m.data(), burst);
	rte_ring_free(r);
	st.SetItemsProcessed(st.iterations() * burst);
}

/* Application tx burst -> zero-copy reader burst (the same mbufs go round). */
void BM_TxToReaderBurst(benchmark::State &st)
{
	const uint16_t burst = static_cast<uint16_t>(st.range(0));
	std::vector<rte_mbuf *> m(burst);
	rte_pktmbuf_alloc_bulk(pool, m.data(), burst);
	fill(m.data(), burst, static_cast<uint16_t>(st.range(1)));
	for (auto _ : st) {
		rte_eth_tx_burst(port, 0, m.data(), burst);
		benchmark::DoNotOptimize(rte_pmd_bsdtap_recv_burst(reader, m.data(), burst));
	}
	rte_pktmbuf_free_bulk(m.data(), burst);
	st.SetItemsProcessed(st.iterations() * burst);
}

/* Zero-copy reader burst -> application rx burst. */
void BM_ReaderBurstToRx(benchmark::State &st)
{
	const uint16_t burst = static_cast<uint16_t>(st.range(0));
	std::vector<rte_mbuf *> m(burst);
	rte_pktmbuf_alloc_bulk(pool, m.data(), burst);
	fill(m.data(), burst, static_cast<uint16_t>(st.range(1)));
	for (auto _ : st) {
		rte_pmd_bsdtap_send_burst(reader, m.data(), burst);
		benchmark::DoNotOptimize(rte_eth_rx_burst(port, 0, m.data(), burst));
	}
	rte_pktmbuf_free_bulk(m.data(), burst);
	st.SetItemsProcessed(st.iterations() * burst);
}

/* Application tx burst -> copying read() per frame (the read frees the mbuf,
 * so the application allocates anew: that cost is in the figure). */
void BM_TxToCopyingRead(benchmark::State &st)
{
	const uint16_t burst = static_cast<uint16_t>(st.range(0));
	const uint16_t len = static_cast<uint16_t>(st.range(1));
	std::vector<rte_mbuf *> m(burst);
	char buf[RTE_PMD_BSDTAP_MRU];
	for (auto _ : st) {
		rte_pktmbuf_alloc_bulk(pool, m.data(), burst);
		for (rte_mbuf *x : m)
			rte_pktmbuf_append(x, len);
		rte_eth_tx_burst(port, 0, m.data(), burst);
		for (uint16_t i = 0; i < burst; i++)
			benchmark::DoNotOptimize(rte_pmd_bsdtap_read(reader, buf, sizeof(buf)));
	}
	st.SetItemsProcessed(st.iterations() * burst);
}

/* Application tx burst -> one copying read_burst() of the whole burst. */
void BM_TxToCopyingReadBurst(benchmark::State &st)
{
	const uint16_t burst = static_cast<uint16_t>(st.range(0));
	const uint16_t len = static_cast<uint16_t>(st.range(1));
	std::vector<rte_mbuf *> m(burst);
	constexpr size_t stride = 2048 + 64; /* MTU-sized buffers, not set-aligned */
	std::vector<char> buf(burst * stride);
	std::vector<iovec> iov(burst);
	std::vector<size_t> lens(burst);
	for (uint16_t i = 0; i < burst; i++)
		iov[i] = {buf.data() + i * stride, 2048};
	for (auto _ : st) {
		rte_pktmbuf_alloc_bulk(pool, m.data(), burst);
		for (rte_mbuf *x : m)
			rte_pktmbuf_append(x, len);
		rte_eth_tx_burst(port, 0, m.data(), burst);
		benchmark::DoNotOptimize(
		    rte_pmd_bsdtap_read_burst(reader, iov.data(), lens.data(), burst));
	}
	st.SetItemsProcessed(st.iterations() * burst);
}

/* Copying write() per frame -> application rx burst. */
void BM_WriteToRx(benchmark::State &st)
{
	const uint16_t burst = static_cast<uint16_t>(st.range(0));
	const size_t len = static_cast<size_t>(st.range(1));
	std::vector<rte_mbuf *> m(burst);
	std::vector<char> frame(len, 0x5a);
	for (auto _ : st) {
		for (uint16_t i = 0; i < burst; i++)
			rte_pmd_bsdtap_write(reader, frame.data(), len);
		uint16_t n = rte_eth_rx_burst(port, 0, m.data(), burst);
		rte_pktmbuf_free_bulk(m.data(), n);
	}
	st.SetItemsProcessed(st.iterations() * burst);
}

void BM_EmptyPollRx(benchmark::State &st)
{
	rte_mbuf *m[32];
	for (auto _ : st)
		benchmark::DoNotOptimize(rte_eth_rx_burst(port, 0, m, 32));
}

void BM_EmptyPollReader(benchmark::State &st)
{
	rte_mbuf *m[32];
	for (auto _ : st)
		benchmark::DoNotOptimize(rte_pmd_bsdtap_recv_burst(reader, m, 32));
}

void sizes(benchmark::internal::Benchmark *b)
{
	for (int burst : {1, 8, 32})
		for (int len : {64, 1514})
			b->Args({burst, len});
}

BENCHMARK(BM_BareRing)->Arg(1)->Arg(8)->Arg(32);
BENCHMARK(BM_TxToReaderBurst)->Apply(sizes);
BENCHMARK(BM_ReaderBurstToRx)->Apply(sizes);
BENCHMARK(BM_TxToCopyingRead)->Apply(sizes);
BENCHMARK(BM_TxToCopyingReadBurst)->Apply(sizes);
BENCHMARK(BM_WriteToRx)->Apply(sizes);
BENCHMARK(BM_EmptyPollRx);
BENCHMARK(BM_EmptyPollReader);

/*
 * Google Benchmark's own table, then the figures the comparison needs: ns
 * per frame (time per iteration / burst) and the ratio to the bare ring at
 * the same burst, from the same run.
 */
class FrameReporter : public benchmark::ConsoleReporter
{
public:
	void ReportRuns(const std::vector<Run> &runs) override
	{
		ConsoleReporter::ReportRuns(runs);
		for (const Run &r : runs) {
			if (r.error_occurred || r.run_type != Run::RT_Iteration ||
			    r.time_unit != benchmark::kNanosecond)
				continue;
			const std::string &fn = r.run_name.function_name;
			unsigned burst = 1;
			if (!r.run_name.args.empty())
				burst = static_cast<unsigned>(std::stoul(r.run_name.args));
			if (fn.rfind("BM_EmptyPoll", 0) == 0)
				burst = 1; /* per call */
			double ns = r.GetAdjustedRealTime() / burst;
			if (fn == "BM_BareRing")
				bare_[burst] = ns;
			rows_.push_back({r.benchmark_name(), burst, ns});
		}
	}
	void Finalize() override
	{
		ConsoleReporter::Finalize();
		FILE *out = stdout;
		fprintf(out, "\n%-36s %8s %12s\n", "path/burst[/frame bytes]", "ns/frame",
			"x bare ring");
		for (const row &w : rows_) {
			auto b = bare_.find(w.burst);
			bool per_frame = w.name.rfind("BM_EmptyPoll", 0) != 0;
			if (per_frame && b != bare_.end() && b->second > 0)
				fprintf(out, "%-36s %8.2f %12.2f\n", w.name.c_str(), w.ns,
					w.ns / b->second);
			else
				fprintf(out, "%-36s %8.2f %12s\n", w.name.c_str(), w.ns,
					per_frame ? "-" : "(per call)");
		}
	}

private:
	struct row {
		std::string name;
		unsigned burst;
		double ns;
	};
	std::vector<row> rows_;
	std::map<unsigned, double> bare_;
};

} // namespace

int main(int argc, char **argv)
{
	std::string prefix = "bsdtap-bench-" + std::to_string(getpid());
	const char *eal[] = {"bench", "--no-huge",     "--no-pci",     "-m",
			     "512",   "--file-prefix", prefix.c_str(), "-l",
			     "0",     "--log-level",   "error"};
	if (rte_eal_init(static_cast<int>(RTE_DIM(eal)), const_cast<char **>(eal)) < 0)
		return 1;
	pool = packed_pool("bench_pool", 8191, 256);
	rte_eth_conf conf{};
	if (pool == nullptr || rte_vdev_init("net_bsdtap0", "ring_size=1024") != 0 ||
	    rte_eth_dev_get_port_by_name("net_bsdtap0", &port) != 0 ||
	    rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(port, 0, 1024, rte_socket_id(), nullptr, pool) != 0 ||
	    rte_eth_tx_queue_setup(port, 0, 1024, rte_socket_id(), nullptr) != 0 ||
	    rte_eth_dev_start(port) != 0)
		return 1;
	reader = rte_pmd_bsdtap_open("tap0", 0, RTE_PMD_BSDTAP_O_NONBLOCK);
	if (reader == nullptr)
		return 1;
	benchmark::Initialize(&argc, argv);
	FrameReporter rep;
	benchmark::RunSpecifiedBenchmarks(&rep);
	benchmark::Shutdown();
	rte_pmd_bsdtap_close(&reader);
	rte_eth_dev_stop(port);
	rte_vdev_uninit("net_bsdtap0");
	rte_eal_cleanup();
	return 0;
}
