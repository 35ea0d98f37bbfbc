// A bound UDP socket that answers every datagram to its sender: the building block of P2P protocols
// (DHTs, hole punching, game lobbies). One consent covers it.
async function echoPeers(port: number): Promise<void> {
  const socket = new UDPSocket({ localAddress: '::', localPort: port, ipv6Only: false });
  const { readable, writable, localAddress, localPort } = await socket.opened;
  console.log(`echoing on [${localAddress}]:${localPort}`);
  const reader = readable.getReader();
  const writer = writable.getWriter();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    // Bound mode: every received message names its sender, and every sent one its destination.
    const { data, remoteAddress, remotePort } = value;
    if (remoteAddress === undefined || remotePort === undefined) continue;
    await writer.write({ data, remoteAddress, remotePort });
  }
}

// Starting a conversation: public peers need no further consent; a device on the user's own
// network must have written first, or the user allowed it for this page through a connected
// UDPSocket to it (or remembered it); otherwise the datagram is dropped.
async function greetPeer(socket: UDPSocket, address: string, port: number): Promise<void> {
  if (socket.writable === null) throw new Error('the socket is not open yet');
  const writer = socket.writable.getWriter();
  await writer.write({ data: new TextEncoder().encode('hello'), remoteAddress: address, remotePort: port });
  writer.releaseLock();
}
