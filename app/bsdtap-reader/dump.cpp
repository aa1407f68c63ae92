/* SPDX-License-Identifier: BSD-3-Clause */
/* dump: the frames read, written to a pcap or pcapng file. */

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include "common.h"

namespace bsdtap_app
{

namespace
{

/*
 * A capture file, pcap or pcapng, written through a buffer of its own with
 * write(2), so that every error is seen (libpcap's dumper and stdio keep
 * them to themselves) and the count of frames actually in the file is
 * exact: a frame counts once all its bytes are written. On an error the
 * file (when it is a regular one) is cut back to its last whole frame, so
 * it stays a readable capture of what was counted.
 */
class capture_file
{
public:
	~capture_file() { close(); }

	bool open(const std::string &path, const std::string &ifname, std::string *err)
	{
		path_ = path;
		ng_ = path.size() > 7 && path.compare(path.size() - 7, 7, ".pcapng") == 0;
		if (path == "-") {
			fd_ = STDOUT_FILENO;
		} else {
			fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (fd_ < 0) {
				*err = path + ": " + strerror(errno);
				return false;
			}
			own_ = true;
		}
		struct stat st;
		regular_ = fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
		if (ng_) {
			write_shb();
			write_idb(ifname);
		} else {
			write_pcap_header();
		}
		head_ = buf_.size(); /* not a frame: counted in no record */
		if (!flush()) {
			*err = error_text();
			return false;
		}
		return true;
	}

	bool write(const timespec &ts, const uint8_t *data, uint32_t caplen, uint32_t len)
	{
		if (!ng_) {
			/* pcap record header: seconds, microseconds, caplen, len. */
			uint32_t hdr[4] = {static_cast<uint32_t>(ts.tv_sec),
					   static_cast<uint32_t>(ts.tv_nsec / 1000), caplen, len};
			append(buf_, hdr, sizeof(hdr));
			append(buf_, data, caplen);
		} else {
			/* Enhanced Packet Block, timestamps in nanoseconds (if_tsresol 9). */
			uint64_t t = static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL +
				     static_cast<uint64_t>(ts.tv_nsec);
			uint32_t padded = (caplen + 3) & ~3u;
			uint32_t total = 32 + padded;
			uint32_t hdr[7] = {6,
					   total,
					   0,
					   static_cast<uint32_t>(t >> 32),
					   static_cast<uint32_t>(t),
					   caplen,
					   len};
			static const uint8_t zero[4] = {};
			append(buf_, hdr, sizeof(hdr));
			append(buf_, data, caplen);
			append(buf_, zero, padded - caplen);
			append(buf_, &total, 4);
		}
		ends_.push_back(buf_.size());
		return buf_.size() < flush_at || flush();
	}

	/* Writes what is buffered; false (errno kept) on an error. */
	bool flush()
	{
		size_t done = 0;
		while (done < buf_.size() && err_ == 0) {
			ssize_t w = ::write(fd_, buf_.data() + done, buf_.size() - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				err_ = w < 0 ? errno : EIO;
			else
				done += static_cast<size_t>(w);
		}
		/* Frames whose every byte is in the file. */
		size_t whole = head_;
		size_t k = 0;
		while (k < ends_.size() && ends_[k] <= done)
			whole = ends_[k++];
		frames_ += k;
		if (err_ != 0 && regular_ && done > whole)
			RTE_SET_USED(ftruncate(fd_, static_cast<off_t>(written_ + whole)));
		written_ += err_ != 0 ? whole : done;
		buf_.clear();
		ends_.clear();
		head_ = 0;
		return err_ == 0;
	}

	bool close()
	{
		if (fd_ < 0)
			return err_ == 0;
		bool ok = flush();
		if (own_ && ::close(fd_) != 0 && ok) {
			err_ = errno;
			ok = false;
		}
		fd_ = -1;
		return ok;
	}

	/* Frames in the file. */
	uint64_t frames() const { return frames_; }
	std::string error_text() const
	{
		return path_ + ": write failed after " + std::to_string(frames_) +
		       " frames: " + strerror(err_);
	}

	static constexpr uint32_t snaplen = 65535;

private:
	/* Written in one write(2) once this much is buffered. */
	static constexpr size_t flush_at = 256 * 1024;

	void write_pcap_header()
	{
		const uint32_t magic = 0xa1b2c3d4; /* microsecond timestamps */
		const uint16_t version[2] = {2, 4};
		const uint32_t rest[4] = {0 /* thiszone */, 0 /* sigfigs */, snaplen,
					  1 /* LINKTYPE_ETHERNET */};
		append(buf_, &magic, 4);
		append(buf_, version, 4);
		append(buf_, rest, sizeof(rest));
	}

	static void append(std::vector<uint8_t> &b, const void *p, size_t n)
	{
		if (n == 0)
			return;
		size_t at = b.size();
		b.resize(at + n);
		memcpy(b.data() + at, p, n);
	}

	/* A pcapng option: code, length, value padded to 32 bits. */
	static void add_opt(std::vector<uint8_t> &b, uint16_t code, const void *v, uint16_t len)
	{
		append(b, &code, 2);
		append(b, &len, 2);
		append(b, v, len);
		b.resize((b.size() + 3) & ~static_cast<size_t>(3), 0);
	}

	void write_block(uint32_t type, const std::vector<uint8_t> &body)
	{
		uint32_t total = static_cast<uint32_t>(12 + body.size());
		append(buf_, &type, 4);
		append(buf_, &total, 4);
		append(buf_, body.data(), body.size());
		append(buf_, &total, 4);
	}

	/* Section Header Block, in this machine's byte order (the magic says which). */
	void write_shb()
	{
		std::vector<uint8_t> b;
		const uint32_t magic = 0x1A2B3C4D;
		const uint16_t version[2] = {1, 0};
		const int64_t section_len = -1; /* not given */
		append(b, &magic, 4);
		append(b, version, 4);
		append(b, &section_len, 8);
		static const char app[] = "bsdtap-reader";
		add_opt(b, 4 /* shb_userappl */, app, sizeof(app) - 1);
		add_opt(b, 0 /* opt_endofopt */, nullptr, 0);
		write_block(0x0A0D0D0A, b);
	}

	/* Interface Description Block: Ethernet, named after the unit, ns timestamps. */
	void write_idb(const std::string &ifname)
	{
		std::vector<uint8_t> b;
		const uint16_t linktype[2] = {1 /* LINKTYPE_ETHERNET */, 0};
		const uint32_t snap = snaplen;
		append(b, linktype, 4);
		append(b, &snap, 4);
		add_opt(b, 2 /* if_name */, ifname.data(), static_cast<uint16_t>(ifname.size()));
		const uint8_t tsresol = 9;
		add_opt(b, 9 /* if_tsresol */, &tsresol, 1);
		add_opt(b, 0 /* opt_endofopt */, nullptr, 0);
		write_block(1, b);
	}

	std::string path_;
	bool ng_ = false;
	int fd_ = -1;
	bool own_ = false;     /* opened here (not standard output): closed here */
	bool regular_ = false; /* a regular file: cut back to whole frames on an error */
	int err_ = 0;
	std::vector<uint8_t> buf_;
	std::vector<size_t> ends_; /* where each buffered frame ends in buf_ */
	size_t head_ = 0;	   /* bytes of buf_ that are the file's header */
	uint64_t frames_ = 0;	   /* frames wholly written */
	uint64_t written_ = 0;	   /* bytes in the file */
};

} // namespace

end_t run_dump(worker_ctx &c)
{
	const options &o = c.o;
	rte::bsdtap::reader &r = c.r;
	capture_file file;
	if (!file.open(o.out, o.unit, &c.error))
		return end_t::failed;
	std::vector<uint8_t> buf(capture_file::snaplen);
	rte_mbuf *pkts[max_burst];
	end_t end = end_t::stopped;
	while (!c.stopping()) {
		if (c.count_reached()) {
			end = end_t::finished;
			break;
		}
		uint16_t n = r.recv_burst(pkts, c.want(c.tot.rd_frames.get()));
		if (n == 0) {
			if (!c.idle_wait()) {
				end = end_t::gone;
				break;
			}
			continue;
		}
		timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t bytes = 0;
		bool ok = true;
		for (uint16_t i = 0; i < n && ok; i++) {
			const rte_mbuf *m = pkts[i];
			uint32_t caplen = std::min<uint32_t>(m->pkt_len, capture_file::snaplen);
			const auto *p = static_cast<const uint8_t *>(
			    rte_pktmbuf_read(m, 0, caplen, buf.data()));
			ok = p != nullptr && file.write(ts, p, caplen, m->pkt_len);
			bytes += m->pkt_len;
		}
		rte_pktmbuf_free_bulk(pkts, n);
		c.tot.rd_frames.add(n);
		c.tot.rd_bytes.add(bytes);
		if (!ok)
			break;
	}
	bool ok = file.close();
	c.tot.dumped.add(file.frames());
	if (!ok) {
		c.error = file.error_text();
		end = end_t::failed;
	}
	return end;
}

} // namespace bsdtap_app
