/* SPDX-License-Identifier: BSD-3-Clause */
#include "pcap_read.h"

#include <pcap/pcap.h>

#include "rte_pmd_bsdtap.h"

namespace bsdtap_app
{

namespace
{

/* Reads every record of p and closes it. */
bool load_records(pcap_t *p, const std::string &path, frame_set *fs, std::string *err)
{
	if (pcap_datalink(p) != DLT_EN10MB) {
		*err =
		    path + ": link type " + std::to_string(pcap_datalink(p)) + " is not Ethernet";
		pcap_close(p);
		return false;
	}
	pcap_pkthdr *h;
	const u_char *d;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
		if (h->caplen > RTE_PMD_BSDTAP_MRU) {
			fs->skipped++;
			continue;
		}
		if (h->caplen == 0) {
			fs->empty++; /* a write of 0 bytes would deliver nothing (C21) */
			continue;
		}
		fs->frames.emplace_back(fs->data.size(), h->caplen);
		fs->data.insert(fs->data.end(), d, d + h->caplen);
	}
	if (rc == -1) {
		/* A capture cut short (a dump that was killed, a full disk) ends in
		 * a partial record: the complete ones before it are replayed. */
		std::string why = pcap_geterr(p);
		if (why.find("truncated") == std::string::npos || fs->frames.empty()) {
			*err = path + ": " + why;
			pcap_close(p);
			return false;
		}
		fs->cut = why;
	}
	pcap_close(p);
	if (fs->frames.empty()) {
		*err = path + ": no frames to replay";
		return false;
	}
	return true;
}

} // namespace

bool load_capture(const std::string &path, frame_set *fs, std::string *err)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path.c_str(), errbuf);
	if (p == nullptr) {
		*err = errbuf;
		return false;
	}
	return load_records(p, path, fs, err);
}

bool load_capture_stream(FILE *f, const std::string &name, frame_set *fs, std::string *err)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_fopen_offline(f, errbuf);
	if (p == nullptr) {
		fclose(f);
		*err = errbuf;
		return false;
	}
	return load_records(p, name, fs, err);
}

} // namespace bsdtap_app
