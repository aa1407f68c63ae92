/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BSDTAP_SOCKET_READER_H
#define BSDTAP_SOCKET_READER_H

/* The socket endpoint (reader=socket), started and stopped by the built-in
 * reader code in place of the echo/sink thread. */

namespace bsdtap
{

struct unit;
struct sock_pump;

/* Create the endpoint (path, type and permissions from the unit's devargs)
 * and its pump thread. Returns nullptr (and logs why) on failure. */
sock_pump *socket_start(unit *u) noexcept;
/* Hang up on the client, close the queues it held, remove the socket file. */
void socket_stop(sock_pump *p) noexcept;

} // namespace bsdtap

#endif
