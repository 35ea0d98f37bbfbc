// Mistakes the declarations must catch at compile time, each a TypeError at run time too.
// tsc fails if any line marked @ts-expect-error compiles.

// @ts-expect-error a UDPSocket is connected or bound, never both
new UDPSocket({ remoteAddress: '192.0.2.1', remotePort: 53, localAddress: '0.0.0.0' });
// @ts-expect-error a connected UDPSocket has no multicast options
new UDPSocket({ remoteAddress: '192.0.2.1', remotePort: 53, multicastLoopback: true });
// @ts-expect-error a bound UDPSocket resolves no names
new UDPSocket({ localAddress: '0.0.0.0', dnsQueryType: 'ipv4' });
// @ts-expect-error remotePort is required with remoteAddress
new UDPSocket({ remoteAddress: '192.0.2.1' });
// @ts-expect-error dnsQueryType is "ipv4" or "ipv6"
new TCPSocket('example.com', 7, { dnsQueryType: 'any' });
// @ts-expect-error TCPSocket needs a port
new TCPSocket('example.com');
// @ts-expect-error a TCPServerSocket needs a local address
new TCPServerSocket();
// @ts-expect-error MulticastController is made by the socket, not by pages
new MulticastController();

async function misuse(socket: TCPSocket, udp: UDPSocket) {
  const { writable } = await socket.opened;
  // @ts-expect-error TCP writables take bytes, not strings
  await writable.getWriter().write('text');
  const info = await udp.opened;
  // @ts-expect-error a UDP message carries its bytes in `data`
  await info.writable.getWriter().write(new Uint8Array(4));
  // @ts-expect-error joinedGroups is read-only
  info.multicastController?.joinedGroups.push('239.1.1.1');
}
