/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RTE_PMD_BSDTAP_HPP
#define RTE_PMD_BSDTAP_HPP

/**
 * @file
 * A thin C++ RAII wrapper over rte_pmd_bsdtap.h. It adds no behaviour:
 * errors are the C API's (negative errno, or -1 with rte_errno), and the
 * destructor closes the handle.
 */

#include <cstdint>
#include <type_traits>
#include <utility>

#include <rte_errno.h>

#include "rte_pmd_bsdtap.h"

namespace rte::bsdtap
{

class reader
{
public:
	reader() noexcept = default;
	/** Opens @p unit queue @p queue; check ok() (rte_errno says why not). */
	reader(const char *unit, uint16_t queue, int flags = 0) noexcept
	    : r_(rte_pmd_bsdtap_open(unit, queue, flags))
	{
	}
	reader(const reader &) = delete;
	reader &operator=(const reader &) = delete;
	reader(reader &&o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
	reader &operator=(reader &&o) noexcept
	{
		if (this != &o) {
			close();
			r_ = std::exchange(o.r_, nullptr);
		}
		return *this;
	}
	~reader() { close(); }

	bool ok() const noexcept { return r_ != nullptr; }
	explicit operator bool() const noexcept { return ok(); }
	rte_pmd_bsdtap_reader *get() const noexcept { return r_; }

	int close() noexcept { return r_ == nullptr ? 0 : rte_pmd_bsdtap_close(&r_); }
	ssize_t read(void *buf, size_t len) noexcept { return rte_pmd_bsdtap_read(r_, buf, len); }
	int read_burst(const iovec *bufs, size_t *lens, uint16_t n) noexcept
	{
		return rte_pmd_bsdtap_read_burst(r_, bufs, lens, n);
	}
	ssize_t write(const void *buf, size_t len) noexcept
	{
		return rte_pmd_bsdtap_write(r_, buf, len);
	}
	uint16_t recv_burst(rte_mbuf **pkts, uint16_t n) noexcept
	{
		return rte_pmd_bsdtap_recv_burst(r_, pkts, n);
	}
	void free_burst(rte_mbuf **pkts, uint16_t n) noexcept
	{
		rte_pmd_bsdtap_free_burst(r_, pkts, n);
	}
	/* rte_pmd_bsdtap_visit_burst with a callable: fn(rte_mbuf *const *, uint16_t). */
	template <typename F> uint16_t visit_burst(uint16_t n, F &&fn) noexcept
	{
		return rte_pmd_bsdtap_visit_burst(
		    r_, n,
		    [](void *arg, rte_mbuf *const *pkts, uint16_t k) {
			    (*static_cast<std::remove_reference_t<F> *>(arg))(pkts, k);
		    },
		    const_cast<void *>(static_cast<const void *>(&fn)));
	}
	uint16_t send_burst(rte_mbuf **pkts, uint16_t n) noexcept
	{
		return rte_pmd_bsdtap_send_burst(r_, pkts, n);
	}
	int fd() noexcept { return rte_pmd_bsdtap_fd(r_); }
	int wait(int timeout_ms) noexcept { return rte_pmd_bsdtap_wait(r_, timeout_ms); }
	int ioctl(unsigned long req, void *arg) noexcept
	{
		return rte_pmd_bsdtap_ioctl(r_, req, arg);
	}
	int port_id() const noexcept { return rte_pmd_bsdtap_port_id(r_); }

private:
	rte_pmd_bsdtap_reader *r_ = nullptr;
};

} // namespace rte::bsdtap

#endif
